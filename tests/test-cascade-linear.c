/* test-cascade-linear.c: the cascade at scale and in races (DESIGN §6)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Issue #15 §4: disconnecting one of N callbacks costs O(1), a pause and
 * resume pair stays balanced whoever settles the InProgress meanwhile,
 * and an input repeated in a combinator counts as one awaiter.
 */
#include "config.h"

#include "kaa-test-util.h"
#include "kaa-in-progress-private.h"

typedef KaaTestFixture Fixture;

#define KAA_TEST_AREA "cascade-linear"

/* Disconnecting N callbacks may look at a few nodes each (a short search,
 * an index built once), never at all the others. */
#define STEPS_PER_DISCONNECT 4

typedef struct
{
  guint calls;
  guint freed;
  guint order_errors;
  guint last;        /* index + 1 of the callback that ran last */
} Tally;

typedef struct
{
  Tally *tally;
  guint  index;
} Slot;

static void
slot_called (KaaInProgress *ip,
             gpointer       data)
{
  Slot *slot = data;

  if (slot->index + 1 <= slot->tally->last)
    slot->tally->order_errors++;
  slot->tally->last = slot->index + 1;
  slot->tally->calls++;
}

static void
slot_freed (gpointer data)
{
  Slot *slot = data;

  slot->tally->freed++;
}

static gulong
connect_slot (KaaInProgress *ip,
              Slot          *slot,
              Tally         *tally,
              guint          index)
{
  slot->tally = tally;
  slot->index = index;
  return kaa_in_progress_connect (ip, slot_called, slot, slot_freed);
}

static void
test_disconnect_oldest_first (Fixture       *f,
                              gconstpointer  data)
{
  const guint n = 100000;
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  g_autofree Slot *slots = g_new (Slot, n);
  g_autofree gulong *ids = g_new (gulong, n);
  Tally tally = { 0 };
  guint64 steps;

  g_test_summary ("DESIGN §6: disconnecting one of N callbacks costs O(1): 100 000 "
                  "disconnected oldest first look at a few nodes each, not at the rest");
  g_test_bug ("15");

  for (guint i = 0; i < n; i++)
    ids[i] = connect_slot (ip, &slots[i], &tally, i);
  steps = kaa_in_progress_get_search_steps_for_testing ();
  /* Every other one, oldest first, then the rest newest first. */
  for (guint i = 0; i < n; i += 2)
    kaa_in_progress_disconnect (ip, ids[i]);
  for (guint i = n - 1; i > n / 2; i -= 2)
    kaa_in_progress_disconnect (ip, ids[i]);
  g_assert_cmpuint (kaa_in_progress_get_search_steps_for_testing () - steps, <=,
                    (guint64) n * STEPS_PER_DISCONNECT);
  g_assert_cmpuint (tally.freed, ==, n - n / 4);
  g_assert_cmpuint (tally.calls, ==, 0);

  /* Those left run once each, oldest first; their ids are stale now. */
  kaa_in_progress_finish_int64 (ip, 1);
  g_assert_cmpuint (tally.calls, ==, n / 4);
  g_assert_cmpuint (tally.freed, ==, n);
  g_assert_cmpuint (tally.order_errors, ==, 0);
  for (guint i = 0; i < n; i += 1000)
    kaa_in_progress_disconnect (ip, ids[i + 1]);
  g_assert_cmpuint (tally.freed, ==, n);
}

/* The first callback disconnects all the others, newest first. */
typedef struct
{
  KaaInProgress *ip;
  gulong        *ids;
  guint          n;
} Sweep;

static void
sweep_others (KaaInProgress *ip,
              gpointer       data)
{
  Sweep *sweep = data;

  for (guint i = sweep->n; i > 0; i--)
    kaa_in_progress_disconnect (ip, sweep->ids[i - 1]);
}

static void
test_disconnect_in_delivery (Fixture       *f,
                             gconstpointer  data)
{
  const guint n = 20000;
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) other = kaa_in_progress_new ();
  g_autofree Slot *slots = g_new (Slot, n);
  g_autofree gulong *ids = g_new (gulong, n);
  Sweep sweep = { ip, ids, n };
  Tally tally = { 0 };
  gulong other_id;
  guint64 steps;

  g_test_summary ("DESIGN §6: a callback that disconnects the N callbacks still "
                  "waiting in the same delivery costs O(1) each; none of them runs");
  g_test_bug ("15");

  kaa_in_progress_connect (ip, sweep_others, &sweep, NULL);
  for (guint i = 0; i < n; i++)
    ids[i] = connect_slot (ip, &slots[i], &tally, i);
  other_id = kaa_in_progress_connect (other, slot_called, &slots[0], NULL);

  steps = kaa_in_progress_get_search_steps_for_testing ();
  kaa_in_progress_finish_int64 (ip, 1);
  g_assert_cmpuint (kaa_in_progress_get_search_steps_for_testing () - steps, <=,
                    (guint64) n * STEPS_PER_DISCONNECT);
  g_assert_cmpuint (tally.calls, ==, 0);
  g_assert_cmpuint (tally.freed, ==, n);

  /* Ids that are not ip's, or no longer are, change nothing. */
  kaa_in_progress_disconnect (ip, other_id);
  kaa_in_progress_disconnect (ip, ids[0]);
  kaa_in_progress_disconnect (ip, G_MAXULONG);
  kaa_in_progress_finish_int64 (other, 2);
  g_assert_cmpuint (tally.calls, ==, 1);
}

static void
body_awaits_shared (KaaCoroutine *co,
                    gpointer      data)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (kaa_await (kaa_in_progress_ref (data), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_cancel_awaiters_oldest_first (Fixture       *f,
                                   gconstpointer  data)
{
  const guint n = 1000;
  g_autoptr(KaaInProgress) shared = kaa_in_progress_new ();
  g_autofree KaaInProgress **awaiters = g_new (KaaInProgress *, n);
  guint64 steps;

  g_test_summary ("DESIGN §6: cancelling N coroutines that await one InProgress, "
                  "oldest first, costs O(1) each; the shared one goes on");
  g_test_bug ("15");

  for (guint i = 0; i < n; i++)
    awaiters[i] = kaa_coroutine_spawn (body_awaits_shared, shared, NULL);
  steps = kaa_in_progress_get_search_steps_for_testing ();
  for (guint i = 0; i < n - 1; i++)
    {
      kaa_in_progress_cancel (awaiters[i]);
      g_assert_cmpint (kaa_in_progress_get_state (awaiters[i]), ==, KAA_STATE_CANCELLED);
    }
  g_assert_cmpuint (kaa_in_progress_get_search_steps_for_testing () - steps, <=,
                    (guint64) n * STEPS_PER_DISCONNECT);
  g_assert_false (kaa_in_progress_is_done (shared));

  /* The last awaiter takes the shared one with it (DESIGN §6). */
  kaa_in_progress_cancel (awaiters[n - 1]);
  g_assert_cmpint (kaa_in_progress_get_state (shared), ==, KAA_STATE_CANCELLED);
  for (guint i = 0; i < n; i++)
    kaa_in_progress_unref (awaiters[i]);
  kaa_test_drain (f->context);
}

static void
test_any_repeated_input (Fixture       *f,
                         gconstpointer  data)
{
  const guint n = 50000;
  g_autoptr(KaaInProgress) input = kaa_in_progress_new ();
  g_autofree KaaInProgress **inputs = g_new (KaaInProgress *, n);
  g_autoptr(KaaInProgress) any = NULL;
  guint64 steps;

  g_test_summary ("DESIGN §6: kaa_any() over one input repeated 50 000 times settles "
                  "in O(N), with the first index");
  g_test_bug ("15");

  for (guint i = 0; i < n; i++)
    inputs[i] = kaa_in_progress_ref (input);   /* kaa_any takes each */
  steps = kaa_in_progress_get_search_steps_for_testing ();
  any = kaa_any (inputs, n);
  kaa_in_progress_finish_int64 (input, 7);
  kaa_test_drain (f->context);
  g_assert_cmpuint (kaa_in_progress_get_search_steps_for_testing () - steps, <=,
                    (guint64) n * STEPS_PER_DISCONNECT);
  g_assert_cmpint (kaa_in_progress_get_int64 (any), ==, 0);
}

/* ---------------------------------------------- connect from other threads */

typedef struct
{
  KaaInProgress *ip;
  Slot          *slots;
  Tally         *tally;
  guint          n;
  gint           go;
} Pusher;

static gpointer
push_then_finish (gpointer data)
{
  Pusher *pusher = data;

  kaa_test_spin_until (&pusher->go, 1);
  for (guint i = 0; i < pusher->n; i++)
    {
      pusher->slots[i].tally = pusher->tally;
      pusher->slots[i].index = i;
      kaa_in_progress_connect (pusher->ip, slot_called, &pusher->slots[i], NULL);
    }
  kaa_in_progress_finish_int64 (pusher->ip, 1);
  return NULL;
}

/* worker: connect × n ........................ finish
 * owner:  disconnect (drains) × many, concurrently ...... pump
 * Every callback the worker connected runs once on the owner, whether
 * the owner had drained it before the finish or not. */
static void
test_connect_races_drain (Fixture       *f,
                          gconstpointer  data)
{
  const guint n = 2000;

  g_test_summary ("DESIGN §2, §6: callbacks connected from another thread while the "
                  "owner disconnects others all run once after a finish from that thread");
  g_test_bug ("15");

  for (guint round = 0; round < 20; round++)
    {
      g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
      g_autofree Slot *slots = g_new0 (Slot, n);
      Tally tally = { 0 };
      Tally own_tally = { 0 };
      Slot own;
      Pusher pusher = { ip, slots, &tally, n, 0 };
      GThread *thread = g_thread_new ("pusher", push_then_finish, &pusher);

      g_atomic_int_set (&pusher.go, 1);
      while (!kaa_in_progress_is_done (ip))
        kaa_in_progress_disconnect (ip, connect_slot (ip, &own, &own_tally, 0));
      g_thread_join (thread);
      kaa_test_pump_until_done (f->context, ip);
      kaa_test_drain (f->context);
      g_assert_cmpuint (tally.calls, ==, n);
      g_assert_cmpuint (own_tally.calls, ==, 0);
    }
}

/* ------------------------------------------------- pause and resume pairs */

/* A hand-over of one InProgress at a time, in atomics that TSan sees
 * (GAsyncQueue's lock lives inside libglib, where it cannot). */
typedef struct
{
  KaaInProgress *slot;   /* atomic: a reference to finish */
  gint           stop;   /* atomic */
} Mailbox;

static gpointer
finish_each (gpointer data)
{
  Mailbox *box = data;

  while (!g_atomic_int_get (&box->stop) || g_atomic_pointer_get (&box->slot) != NULL)
    {
      KaaInProgress *ip = g_atomic_pointer_exchange (&box->slot, NULL);

      if (ip == NULL)
        {
          g_thread_yield ();
          continue;
        }
      kaa_in_progress_finish_int64 (ip, 1);
      kaa_in_progress_unref (ip);
    }
  return NULL;
}

static gpointer
job_returns (KaaThreadJob *job,
             gpointer      user_data,
             GError      **error)
{
  return NULL;
}

/* worker: finish ip .......................................
 * owner:  pause ip ... resume ip, in every order against the finish:
 * before it, around it, after it, and racing it. No pair may log. */
static void
test_pause_pairs_race_finish (Fixture       *f,
                              gconstpointer  data)
{
  const guint n = 2000;
  Mailbox box = { NULL, 0 };
  GThread *thread = g_thread_new ("finisher", finish_each, &box);

  g_test_summary ("DESIGN §6: every pause counts, so a pause … resume pair around "
                  "something another thread finishes meanwhile stays balanced");
  g_test_bug ("15");

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(KaaInProgress) ip = i % 5 == 4 ? kaa_thread_run (job_returns, NULL, NULL)
                                               : kaa_in_progress_new ();

      if (i % 5 != 4)
        g_atomic_pointer_set (&box.slot, kaa_in_progress_ref (ip));
      if (i % 5 == 1)
        g_assert_true (kaa_in_progress_wait (ip, NULL));   /* settled before the pause */
      kaa_in_progress_pause (ip);
      if (i % 5 == 2)
        g_assert_true (kaa_in_progress_wait (ip, NULL));   /* settled while paused */
      g_assert_true (kaa_in_progress_is_paused (ip));
      kaa_in_progress_resume (ip);
      g_assert_false (kaa_in_progress_is_paused (ip));
      g_assert_true (kaa_in_progress_wait (ip, NULL));
    }
  g_atomic_int_set (&box.stop, 1);
  g_thread_join (thread);
  kaa_test_drain (f->context);
}

static void
test_resume_without_pause (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(KaaInProgress) pending = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) done = kaa_in_progress_new ();

  g_test_summary ("DESIGN §6: a resume without a pause stays a critical, pending or "
                  "done; a pause of what is done counts and reaches nothing");
  g_test_bug ("15");

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*is not paused*");
  kaa_in_progress_resume (pending);
  g_test_assert_expected_messages ();

  kaa_in_progress_finish_int64 (done, 1);
  kaa_in_progress_pause (done);
  kaa_in_progress_pause (done);
  kaa_in_progress_resume (done);
  g_assert_true (kaa_in_progress_is_paused (done));
  kaa_in_progress_resume (done);
  g_assert_false (kaa_in_progress_is_paused (done));
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*is not paused*");
  kaa_in_progress_resume (done);
  g_test_assert_expected_messages ();
  kaa_in_progress_finish_int64 (pending, 2);
}

static gpointer
cancel_from_thread (gpointer data)
{
  kaa_in_progress_cancel (data);
  return NULL;
}

static void
test_pause_pairs_around_remote_cancel (Fixture       *f,
                                       gconstpointer  data)
{
  KaaInProgress *input = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) timeout = kaa_timeout (kaa_in_progress_ref (input), 60000, FALSE);

  g_test_summary ("DESIGN §6: pause/resume pairs on an InProgress whose cancel another "
                  "thread has claimed but the owner has not carried out yet leave "
                  "nothing beneath it paused (found by the stress test)");
  g_test_bug ("15");

  kaa_in_progress_pause (timeout);
  g_assert_true (kaa_in_progress_is_paused (input));
  /* Claimed by another thread: CANCELLING until the owner dispatches. */
  g_thread_join (g_thread_new ("canceller", cancel_from_thread, timeout));
  kaa_in_progress_resume (timeout);
  kaa_in_progress_pause (timeout);
  kaa_in_progress_resume (timeout);
  kaa_test_pump_until_done (f->context, timeout);

  g_assert_cmpint (kaa_in_progress_get_state (timeout), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (kaa_in_progress_get_state (input), ==, KAA_STATE_CANCELLED);
  g_assert_false (kaa_in_progress_is_paused (input));
  kaa_in_progress_unref (input);
}

typedef struct
{
  KaaInProgress *gate;
  gboolean       ran_on;
} GateState;

static void
await_gate_body (KaaCoroutine *co,
                 gpointer      data)
{
  GateState *state = data;

  if (kaa_await_borrowed (state->gate, NULL))
    state->ran_on = TRUE;
}

static void
test_pause_after_remote_cancel (Fixture       *f,
                                gconstpointer  data)
{
  GateState state = { kaa_in_progress_new (), FALSE };
  g_autoptr(KaaInProgress) co = kaa_coroutine_spawn (await_gate_body, &state, NULL);

  g_test_summary ("DESIGN §6: a coroutine paused after another thread claimed its cancel "
                  "stays paused: what it awaits settling does not run it before the "
                  "cancel unwinds it (found by the stress test)");
  g_test_bug ("15");

  g_thread_join (g_thread_new ("canceller", cancel_from_thread, co));
  kaa_in_progress_pause (co);
  kaa_in_progress_finish_int64 (state.gate, 1);
  kaa_test_pump_until_done (f->context, co);

  g_assert_cmpint (kaa_in_progress_get_state (co), ==, KAA_STATE_CANCELLED);
  g_assert_false (state.ran_on);
  kaa_in_progress_resume (co);
  kaa_in_progress_unref (state.gate);
}

/* ------------------------------------------------------- repeated inputs */

typedef KaaInProgress *(*GroupFunc) (KaaInProgress **inputs,
                                     guint           n_inputs);

static const GroupFunc group_funcs[] = { kaa_any, kaa_any_success, kaa_all, kaa_all_success };

static void
test_repeated_input_cascade (Fixture       *f,
                             gconstpointer  data)
{
  g_test_summary ("DESIGN §6: an input given twice to kaa_any/kaa_all (and their "
                  "_success forms) is one awaiter: pausing the group pauses it, "
                  "resuming resumes it, cancelling the group cancels it");
  g_test_bug ("15");

  for (guint i = 0; i < G_N_ELEMENTS (group_funcs); i++)
    {
      g_autoptr(KaaInProgress) x = kaa_in_progress_new ();
      g_autoptr(KaaInProgress) y = kaa_in_progress_new ();
      /* The group takes each element. */
      KaaInProgress *inputs[] = { kaa_in_progress_ref (x), kaa_in_progress_ref (y),
                                  kaa_in_progress_ref (x) };
      g_autoptr(KaaInProgress) group = group_funcs[i] (inputs, G_N_ELEMENTS (inputs));

      kaa_in_progress_pause (group);
      g_assert_true (kaa_in_progress_is_paused (x));
      g_assert_true (kaa_in_progress_is_paused (y));
      kaa_in_progress_resume (group);
      g_assert_false (kaa_in_progress_is_paused (x));
      g_assert_false (kaa_in_progress_is_paused (y));

      kaa_in_progress_pause (group);
      kaa_in_progress_cancel (group);
      g_assert_cmpint (kaa_in_progress_get_state (x), ==, KAA_STATE_CANCELLED);
      g_assert_cmpint (kaa_in_progress_get_state (y), ==, KAA_STATE_CANCELLED);
      g_assert_false (kaa_in_progress_is_paused (x));
      kaa_in_progress_resume (group);
    }
  kaa_test_drain (f->context);
}

static void
test_repeated_input_results (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(KaaInProgress) x = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) y = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) z = kaa_in_progress_new ();
  /* Each group takes its elements. */
  KaaInProgress *yxx1[] = { kaa_in_progress_ref (y), kaa_in_progress_ref (x),
                            kaa_in_progress_ref (x) };
  KaaInProgress *yxx2[] = { kaa_in_progress_ref (y), kaa_in_progress_ref (x),
                            kaa_in_progress_ref (x) };
  KaaInProgress *zz[] = { kaa_in_progress_ref (z), kaa_in_progress_ref (z) };
  g_autoptr(KaaInProgress) any = kaa_any (yxx1, G_N_ELEMENTS (yxx1));
  g_autoptr(KaaInProgress) all = kaa_all (yxx2, G_N_ELEMENTS (yxx2));
  g_autoptr(KaaInProgress) any_success = kaa_any_success (zz, G_N_ELEMENTS (zz));
  g_autoptr(GError) error = NULL;

  g_test_summary ("DESIGN §6: a repeated input settles the group as all its "
                  "repeats would: kaa_any picks its first index, kaa_all counts it "
                  "each time, kaa_any_success fails only once every repeat did");
  g_test_bug ("15");

  kaa_in_progress_finish_int64 (x, 1);
  kaa_test_drain (f->context);
  g_assert_cmpint (kaa_in_progress_get_int64 (any), ==, 1);
  g_assert_false (kaa_in_progress_is_done (all));
  kaa_in_progress_finish_int64 (y, 2);
  kaa_test_drain (f->context);
  g_assert_cmpint (kaa_in_progress_get_int64 (all), ==, 3);

  kaa_in_progress_fail_literal (z, KAA_ERROR, KAA_ERROR_FAILED, "z failed");
  kaa_test_drain (f->context);
  g_assert_false (kaa_in_progress_propagate (any_success, &error));
  g_assert_error (error, KAA_ERROR, KAA_ERROR_ALL_FAILED);
  g_assert_nonnull (strstr (error->message, "2"));
}

/* ------------------------------------------------------ paused intervals */

#define INTERVAL_MS 60
#define INTERVAL_US (INTERVAL_MS * 1000)
#define N_TICKS     6

/* Slices of an interval coroutine, by monotonic time. */
typedef struct
{
  KaaInProgress *awaited;   /* awaited first, if set */
  gint64         at[N_TICKS];
  guint          n;
} Ticks;

static void
body_ticks (KaaCoroutine *co,
            gpointer      data)
{
  Ticks *ticks = data;

  if (ticks->awaited != NULL)
    g_assert_true (kaa_await (kaa_in_progress_ref (ticks->awaited), NULL));
  do
    ticks->at[ticks->n++] = g_get_monotonic_time ();
  while (ticks->n < N_TICKS && kaa_yield ());
}

static const KaaCoroutineDef interval_ticker = {
  .name = "interval-ticker",
  .func = body_ticks,
  .interval = INTERVAL_MS,
};

static void
pump_until_ticks (Fixture *f,
                  Ticks   *ticks,
                  guint    n)
{
  GSource *watchdog = kaa_test_watchdog_new (f->context, "interval slices");

  while (ticks->n < n)
    g_main_context_iteration (f->context, TRUE);
  kaa_test_watchdog_free (watchdog);
}

/* The slice at @first comes at least @left after @resumed, and each one
 * after it at least one more interval later: the grid shifted by the
 * pause. Lower bounds only: a loaded machine makes slices late, never
 * early. */
static void
assert_phase_kept (Ticks  *ticks,
                   guint   first,
                   gint64  resumed,
                   gint64  left)
{
  /* Not the gap between two slices: after a late one (the grid is
   * fixed-rate) the next may come sooner than an interval. */
  for (guint i = first; i < ticks->n; i++)
    g_assert_cmpint (ticks->at[i] - resumed, >=,
                     left + (gint64) (i - first) * INTERVAL_US - INTERVAL_US * 3 / 10);
}

/* ticker: t0 ... t1 ... t2 | paused for 2.5 intervals | ... t3 ... t4 ... t5
 * test:                  pause (just after t2)      resume
 * t3 comes the rest of t2's interval after the resume, not at once. */
static void
test_pause_interval_keeps_phase (Fixture       *f,
                                 gconstpointer  data)
{
  Ticks ticks = { 0 };
  g_autoptr(KaaInProgress) ip = kaa_coroutine_spawn_def (&interval_ticker, NULL, &ticks, NULL);
  gint64 paused_at, resumed_at;

  g_test_summary ("DESIGN §6: a paused interval coroutine freezes its timer; resumed, "
                  "its next slot keeps the time it had left and the grid shifts by "
                  "the paused time, so slices stay one interval apart");
  g_test_bug ("15");

  pump_until_ticks (f, &ticks, 3);
  paused_at = g_get_monotonic_time ();
  kaa_in_progress_pause (ip);
  kaa_test_pump_for (INTERVAL_MS * 5 / 2);
  g_assert_cmpuint (ticks.n, ==, 3);
  resumed_at = g_get_monotonic_time ();
  kaa_in_progress_resume (ip);
  g_assert_cmpuint (ticks.n, ==, 3);   /* never inside resume */
  pump_until_ticks (f, &ticks, N_TICKS);
  /* The grid started with the first slice, run inside the spawn. */
  assert_phase_kept (&ticks, 3, resumed_at, ticks.at[0] + 3 * INTERVAL_US - paused_at);
  kaa_test_pump_until_done (f->context, ip);
}

/* ticker: awaits x | paused | x finishes | ...2 intervals... | resume
 *         ... one interval ... t0 ... t1 ... t2 ...
 * The interval after x finished runs only while the ticker is not paused. */
static void
test_pause_interval_after_await (Fixture       *f,
                                 gconstpointer  data)
{
  g_autoptr(KaaInProgress) x = kaa_in_progress_new ();
  Ticks ticks = { x, { 0 }, 0 };
  g_autoptr(KaaInProgress) ip = kaa_coroutine_spawn_def (&interval_ticker, NULL, &ticks, NULL);
  gint64 resumed_at;

  g_test_summary ("DESIGN §6: an interval coroutine whose awaited InProgress finished "
                  "while it was paused resumes one interval after its resume, and its "
                  "slices after that stay one interval apart");
  g_test_bug ("15");

  kaa_in_progress_pause (ip);
  kaa_in_progress_finish_int64 (x, 1);
  kaa_test_pump_for (INTERVAL_MS * 2);
  g_assert_cmpuint (ticks.n, ==, 0);
  resumed_at = g_get_monotonic_time ();
  kaa_in_progress_resume (ip);
  pump_until_ticks (f, &ticks, 3);
  assert_phase_kept (&ticks, 0, resumed_at, INTERVAL_US);
  kaa_in_progress_cancel (ip);
}

static void
test_cancel_frozen_interval (Fixture       *f,
                             gconstpointer  data)
{
  Ticks ticks = { 0 };
  g_autoptr(KaaInProgress) ip = kaa_coroutine_spawn_def (&interval_ticker, NULL, &ticks, NULL);

  g_test_summary ("DESIGN §6: cancel wins over pause: an interval coroutine paused "
                  "with its timer frozen unwinds at once and leaks nothing");
  g_test_bug ("15");

  kaa_in_progress_pause (ip);
  kaa_in_progress_cancel (ip);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
  g_assert_cmpuint (ticks.n, ==, 1);
  kaa_in_progress_resume (ip);
  kaa_test_drain (f->context);
  g_assert_cmpuint (ticks.n, ==, 1);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);


  KAA_TEST_ADD ("disconnect-oldest-first", test_disconnect_oldest_first);
  KAA_TEST_ADD ("disconnect-in-delivery", test_disconnect_in_delivery);
  KAA_TEST_ADD ("cancel-awaiters-oldest-first", test_cancel_awaiters_oldest_first);
  KAA_TEST_ADD ("any-repeated-input", test_any_repeated_input);
  KAA_TEST_ADD ("connect-races-drain", test_connect_races_drain);
  KAA_TEST_ADD ("pause-pairs-race-finish", test_pause_pairs_race_finish);
  KAA_TEST_ADD ("resume-without-pause", test_resume_without_pause);
  KAA_TEST_ADD ("pause-pairs-around-remote-cancel", test_pause_pairs_around_remote_cancel);
  KAA_TEST_ADD ("pause-after-remote-cancel", test_pause_after_remote_cancel);
  KAA_TEST_ADD ("repeated-input-cascade", test_repeated_input_cascade);
  KAA_TEST_ADD ("repeated-input-results", test_repeated_input_results);
  KAA_TEST_ADD ("pause-interval-keeps-phase", test_pause_interval_keeps_phase);
  KAA_TEST_ADD ("pause-interval-after-await", test_pause_interval_after_await);
  KAA_TEST_ADD ("cancel-frozen-interval", test_cancel_frozen_interval);

  return g_test_run ();
}
