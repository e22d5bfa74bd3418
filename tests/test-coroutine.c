/* test-coroutine.c: stackful coroutines (DESIGN §4)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "kaa-test-util.h"

typedef KaaTestFixture Fixture;

#define KAA_TEST_AREA "coroutine"

/* ---------------------------------------------------------------- helpers */

typedef struct
{
  GString *log;
  guint    cleanups;
} Trace;

static void
trace_cleanup (Trace *trace)
{
  trace->cleanups++;
  g_string_append_c (trace->log, 'c');
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Trace, trace_cleanup)

static void
log_settled (KaaInProgress *ip,
             gpointer       data)
{
  g_string_append_c (((Trace *) data)->log, 'S');
}

/* ------------------------------------------------------- first slice, yield */

static void
body_returns_at_once (KaaCoroutine *co,
                      gpointer      data)
{
  kaa_coroutine_return_int64 (co, 7);
}

static void
test_spawn_synchronous (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(KaaInProgress) ip = kaa_coroutine_spawn (body_returns_at_once, NULL, NULL);

  g_test_summary ("DESIGN §4: spawn runs the body until it first suspends; a body "
                  "that never suspends is done when spawn returns");

  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_FINISHED);
  g_assert_cmpint (kaa_in_progress_get_int64 (ip), ==, 7);
  g_assert_null (kaa_coroutine_self ());
}

static void
body_counts_yields (KaaCoroutine *co,
                    gpointer      data)
{
  guint *steps = data;

  for (guint i = 0; i < 3; i++)
    {
      (*steps)++;
      if (!kaa_yield ())
        return;
    }
  kaa_coroutine_return_int64 (co, *steps);
}

static void
test_yield_next_iteration (Fixture       *f,
                           gconstpointer  data)
{
  guint steps = 0;
  g_autoptr(KaaInProgress) ip = kaa_coroutine_spawn (body_counts_yields, &steps, NULL);

  g_test_summary ("DESIGN §4: kaa_yield resumes on the next main-loop iteration");

  g_assert_cmpuint (steps, ==, 1);
  g_main_context_iteration (f->context, FALSE);
  g_assert_cmpuint (steps, ==, 2);
  g_main_context_iteration (f->context, FALSE);
  g_assert_cmpuint (steps, ==, 3);
  g_assert_false (kaa_in_progress_is_done (ip));
  g_main_context_iteration (f->context, FALSE);
  g_assert_cmpint (kaa_in_progress_get_int64 (ip), ==, 3);
}

static void
body_spins (KaaCoroutine *co,
            gpointer      data)
{
  while (!*(gboolean *) data && kaa_yield ())
    ;
}

static gboolean
drawn (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
test_yield_does_not_starve_drawing (Fixture       *f,
                                    gconstpointer  data)
{
  gboolean draw_ran = FALSE;
  g_autoptr(KaaInProgress) a = kaa_coroutine_spawn (body_spins, &draw_ran, NULL);
  g_autoptr(KaaInProgress) b = kaa_coroutine_spawn (body_spins, &draw_ran, NULL);
  GSource *draw = g_idle_source_new ();

  g_test_summary ("DESIGN §3: however many coroutines keep yielding, a source at "
                  "GTK's drawing priority (G_PRIORITY_HIGH_IDLE + 20) still runs");

  g_source_set_priority (draw, G_PRIORITY_HIGH_IDLE + 20);
  g_source_set_callback (draw, drawn, &draw_ran, NULL);
  g_source_attach (draw, f->context);
  g_source_unref (draw);

  for (guint i = 0; i < 100 && !draw_ran; i++)
    g_main_context_iteration (f->context, FALSE);
  g_assert_true (draw_ran);
  kaa_test_drain (f->context);
  g_assert_true (kaa_in_progress_is_done (a) && kaa_in_progress_is_done (b));
}

typedef struct
{
  GArray *log;
  gint    tag;
} Tagged;

static void
body_logs_after_yield (KaaCoroutine *co,
                       gpointer      data)
{
  Tagged *tagged = data;

  if (kaa_yield ())
    g_array_append_val (tagged->log, tagged->tag);
}

static gboolean
log_idle (gpointer data)
{
  Tagged *tagged = data;

  g_array_append_val (tagged->log, tagged->tag);
  return G_SOURCE_REMOVE;
}

static const KaaCoroutineDef urgent = {
  .name = "urgent",
  .func = body_logs_after_yield,
  .priority = G_PRIORITY_HIGH,
};

static const KaaCoroutineDef background = {
  .name = "background",
  .func = body_logs_after_yield,
  .priority = G_PRIORITY_LOW,
};

static void
test_yield_priority (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GArray) log = g_array_new (FALSE, FALSE, sizeof (gint));
  Tagged tags[4] = { { log, 0 }, { log, 1 }, { log, 2 }, { log, 3 } };
  g_autoptr(KaaInProgress) low = kaa_coroutine_spawn_def (&background, NULL, &tags[3], NULL);
  g_autoptr(KaaInProgress) plain = kaa_coroutine_spawn (body_logs_after_yield, &tags[2], NULL);
  GSource *idle = g_idle_source_new ();
  g_autoptr(KaaInProgress) high = NULL;

  g_test_summary ("DESIGN §4: a definition's priority is the GSource priority of its "
                  "time slices; 0 means G_PRIORITY_DEFAULT_IDLE");

  g_source_set_priority (idle, G_PRIORITY_DEFAULT);
  g_source_set_callback (idle, log_idle, &tags[1], NULL);
  g_source_attach (idle, f->context);
  g_source_unref (idle);
  high = kaa_coroutine_spawn_def (&urgent, NULL, &tags[0], NULL);

  /* Spawned last, the G_PRIORITY_HIGH one still runs first, and the
   * G_PRIORITY_LOW one, spawned first, last. */
  kaa_test_drain (f->context);
  g_assert_cmpuint (log->len, ==, 4);
  for (guint i = 0; i < log->len; i++)
    g_assert_cmpint (g_array_index (log, gint, i), ==, i);
}

/* ------------------------------------------------------------------ await */

static void
body_awaits_done (KaaCoroutine *co,
                  gpointer      data)
{
  KaaInProgress *done = kaa_in_progress_new ();
  g_autoptr(GError) error = NULL;
  gint64 value;

  kaa_in_progress_finish_int64 (done, 5);
  value = kaa_await_int64 (done, &error);
  g_assert_no_error (error);
  kaa_coroutine_return_int64 (co, value * 2);
}

static void
test_await_done_does_not_suspend (Fixture       *f,
                                  gconstpointer  data)
{
  g_autoptr(KaaInProgress) ip = kaa_coroutine_spawn (body_awaits_done, NULL, NULL);

  g_test_summary ("DESIGN §4: awaiting an InProgress that is already done does not "
                  "suspend at all");

  g_assert_cmpint (kaa_in_progress_get_int64 (ip), ==, 10);
}

typedef struct
{
  KaaInProgress *pending;
  gboolean       resumed;
} AwaitLater;

static void
body_awaits_later (KaaCoroutine *co,
                   gpointer      data)
{
  AwaitLater *later = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = kaa_await_string (kaa_in_progress_ref (later->pending), &error);

  later->resumed = TRUE;
  g_assert_no_error (error);
  kaa_coroutine_return_string (co, text);
}

static void
test_await_resumes_in_dispatch (Fixture       *f,
                                gconstpointer  data)
{
  AwaitLater later = { kaa_in_progress_new (), FALSE };
  g_autoptr(KaaInProgress) ip = kaa_coroutine_spawn (body_awaits_later, &later, NULL);

  g_test_summary ("DESIGN §4: a coroutine woken by an await runs later in the "
                  "scheduler's dispatch, never inside the call that finished what it "
                  "awaited");

  g_assert_false (later.resumed);
  kaa_in_progress_finish_string (later.pending, "late");
  g_assert_false (later.resumed);
  g_main_context_iteration (f->context, FALSE);
  g_assert_true (later.resumed);
  g_assert_cmpstr (kaa_in_progress_get_string (ip), ==, "late");
  kaa_in_progress_unref (later.pending);
}

static void
body_fails (KaaCoroutine *co,
            gpointer      data)
{
  if (!kaa_yield ())
    return;
  kaa_coroutine_throw (co, g_error_new_literal (G_FILE_ERROR, G_FILE_ERROR_NOENT, "gone"));
}

static void
body_awaits_failure (KaaCoroutine *co,
                     gpointer      data)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (kaa_await (kaa_coroutine_spawn (body_fails, NULL, NULL), &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  kaa_coroutine_throw (co, g_steal_pointer (&error));
}

static void
test_nested_failure (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(KaaInProgress) ip = kaa_coroutine_spawn (body_awaits_failure, NULL, NULL);
  g_autoptr(GError) error = NULL;

  g_test_summary ("DESIGN §4: a nested coroutine's failure comes back from kaa_await "
                  "with its own domain and code");

  g_assert_false (kaa_in_progress_wait (ip, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
}

static void
body_awaits_object (KaaCoroutine *co,
                    gpointer      data)
{
  KaaInProgress *source = kaa_in_progress_new ();
  GObject *object = g_object_new (G_TYPE_OBJECT, NULL);
  g_autoptr(GObject) got = NULL;

  kaa_in_progress_finish_object (source, object);
  g_object_unref (object);
  got = kaa_await_object (source, NULL);
  g_assert_true (G_IS_OBJECT (got));
  kaa_coroutine_return_object (co, got);
}

static void
test_await_object_one_line (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(KaaInProgress) ip = kaa_coroutine_spawn (body_awaits_object, NULL, NULL);
  GObject *object = kaa_in_progress_get_object (ip);

  g_test_summary ("DESIGN §2: obj = kaa_await_object (start (), &error) leaks nothing: "
                  "the await owns the InProgress, the caller the object");

  g_assert_true (G_IS_OBJECT (object));
  g_object_add_weak_pointer (object, (gpointer *) &object);
  g_clear_pointer (&ip, kaa_in_progress_unref);
  g_assert_null (object);
}

/* ----------------------------------------------------------------- cancel */

typedef struct
{
  Trace          trace;
  KaaInProgress *awaited;
  gboolean       await_failed_cancelled;
} CancelCase;

static void
body_awaits_forever (KaaCoroutine *co,
                     gpointer      data)
{
  CancelCase *c = data;
  g_autoptr(Trace) guard = &c->trace;
  g_autoptr(GError) error = NULL;

  g_assert_false (kaa_await (kaa_in_progress_ref (c->awaited), &error));
  c->await_failed_cancelled = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  /* Every later suspension returns at once. */
  g_assert_false (kaa_yield ());
  kaa_coroutine_return_int64 (co, 1);
}

static void
test_cancel_while_awaiting (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  CancelCase c = { { log, 0 }, kaa_in_progress_new (), FALSE };
  g_autoptr(KaaInProgress) ip = kaa_coroutine_spawn (body_awaits_forever, &c, NULL);

  g_test_summary ("DESIGN §4, §6: cancel resumes the coroutine at once with "
                  "G_IO_ERROR_CANCELLED; its g_autoptr cleanups run before its "
                  "InProgress callbacks; what it alone awaited is cancelled; what the "
                  "body returns afterwards is dropped");

  kaa_in_progress_connect (ip, log_settled, &c.trace, NULL);
  kaa_in_progress_cancel (ip);

  g_assert_cmpstr (log->str, ==, "cS");
  g_assert_true (c.await_failed_cancelled);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (kaa_in_progress_get_state (c.awaited), ==, KAA_STATE_CANCELLED);
  kaa_in_progress_unref (c.awaited);
}

static void
test_cancel_shared_awaited (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  KaaInProgress *shared = kaa_in_progress_new ();
  CancelCase a = { { log, 0 }, shared, FALSE };
  CancelCase b = { { log, 0 }, shared, FALSE };
  g_autoptr(KaaInProgress) ipa = kaa_coroutine_spawn (body_awaits_forever, &a, NULL);
  g_autoptr(KaaInProgress) ipb = kaa_coroutine_spawn (body_awaits_forever, &b, NULL);

  g_test_summary ("DESIGN §6: an InProgress also awaited by someone else is detached "
                  "from, not cancelled");

  kaa_in_progress_cancel (ipa);
  g_assert_cmpint (kaa_in_progress_get_state (shared), ==, KAA_STATE_PENDING);
  kaa_in_progress_cancel (ipb);
  g_assert_cmpint (kaa_in_progress_get_state (shared), ==, KAA_STATE_CANCELLED);
  kaa_in_progress_unref (shared);
}

static void
body_yields_forever (KaaCoroutine *co,
                     gpointer      data)
{
  g_autoptr(Trace) guard = data;

  while (kaa_yield ())
    ;
}

static void
test_cancel_while_yielding (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  Trace trace = { log, 0 };
  g_autoptr(KaaInProgress) ip = kaa_coroutine_spawn (body_yields_forever, &trace, NULL);

  g_test_summary ("DESIGN §4: kaa_yield returns FALSE once cancelled, and the "
                  "cleanups have run when cancel returns");

  for (guint i = 0; i < 5; i++)
    g_main_context_iteration (f->context, FALSE);
  g_assert_cmpuint (trace.cleanups, ==, 0);
  kaa_in_progress_cancel (ip);
  g_assert_cmpuint (trace.cleanups, ==, 1);
  kaa_test_drain (f->context);
  g_assert_cmpuint (trace.cleanups, ==, 1);
}

static void
test_unreferenced_keeps_running (Fixture       *f,
                                 gconstpointer  data)
{
  guint steps = 0;

  g_test_summary ("DESIGN §4: a running coroutine holds itself alive");

  kaa_in_progress_unref (kaa_coroutine_spawn (body_counts_yields, &steps, NULL));
  kaa_test_drain (f->context);
  g_assert_cmpuint (steps, ==, 3);
}

/* ------------------------------------------------- depth and tail calls */

typedef struct
{
  guint64 n;
  guint64 acc;
} Fact;

#define FACT_MODULUS G_GUINT64_CONSTANT (1000000007)

static void
body_fact (KaaCoroutine *co,
           gpointer      data)
{
  Fact *fact = data;

  if (fact->n <= 1)
    {
      kaa_coroutine_return_int64 (co, (gint64) fact->acc);
      return;
    }
  fact->acc = fact->acc * fact->n % FACT_MODULUS;
  fact->n--;
  kaa_coroutine_become (co, body_fact, fact, NULL);
}

static void
test_become_fact (Fixture       *f,
                  gconstpointer  data)
{
  Fact fact = { 1000000, 1 };
  g_autoptr(KaaInProgress) ip = kaa_coroutine_spawn (body_fact, &fact, NULL);
  guint64 expected = 1;

  g_test_summary ("DESIGN §4: kaa_coroutine_become is a tail call: fact(1 000 000) "
                  "in a million bodies runs in one small stack");

  for (guint64 i = 2; i <= 1000000; i++)
    expected = expected * i % FACT_MODULUS;
  g_assert_cmpint (kaa_in_progress_get_int64 (ip), ==, (gint64) expected);
}

/* ---------------------------------------------------------------- threads */

static gpointer
finish_later (gpointer data)
{
  g_usleep (1000);
  kaa_in_progress_finish_int64 (data, 11);
  return NULL;
}

static void
body_awaits_other_thread (KaaCoroutine *co,
                          gpointer      data)
{
  KaaInProgress *pending = kaa_in_progress_new ();
  GThread *worker = g_thread_new ("kaa-test-finish", finish_later, pending);
  gint64 value = kaa_await_int64 (kaa_in_progress_ref (pending), NULL);

  *(GThread **) data = g_thread_self ();
  g_thread_join (worker);
  kaa_in_progress_unref (pending);
  kaa_coroutine_return_int64 (co, value);
}

static void
test_await_other_thread (Fixture       *f,
                         gconstpointer  data)
{
  GThread *resumed_on = NULL;
  g_autoptr(KaaInProgress) ip = kaa_coroutine_spawn (body_awaits_other_thread,
                                                     &resumed_on, NULL);

  g_test_summary ("DESIGN §4: completions from other threads resume the coroutine "
                  "on its own context, never on the finishing thread");

  g_assert_true (kaa_in_progress_wait (ip, NULL));
  g_assert_cmpint (kaa_in_progress_get_int64 (ip), ==, 11);
  g_assert_true (resumed_on == g_thread_self ());
}

/* Each round a worker writes plain data on the coroutine's stack, then
 * finishes the InProgress the coroutine awaits, without waiting for it to
 * suspend: some rounds are delivered before the await, some after, across
 * threads either way. Under TSan the reads after the await are a race
 * unless libkaa's delivery and the fiber switch order them. */
#define HANDOFF_ROUNDS    64
#define HANDOFF_COROUTINES 4

typedef struct
{
  KaaInProgress *pending;
  guint          round;
  guint          payload[8];
} Handoff;

static gpointer
finish_with_payload (gpointer data)
{
  Handoff *handoff = data;

  for (guint i = 0; i < G_N_ELEMENTS (handoff->payload); i++)
    handoff->payload[i] = handoff->round * 100 + i;
  kaa_in_progress_finish_int64 (handoff->pending, handoff->round);
  return NULL;
}

static void
body_handoffs (KaaCoroutine *co,
               gpointer      data)
{
  gint64 sum = 0;

  for (guint round = 0; round < HANDOFF_ROUNDS; round++)
    {
      Handoff handoff = { kaa_in_progress_new (), round, { 0 } };
      GThread *worker = g_thread_new ("kaa-test-handoff", finish_with_payload,
                                      &handoff);

      g_assert_cmpint (kaa_await_int64 (kaa_in_progress_ref (handoff.pending), NULL),
                       ==, round);
      for (guint i = 0; i < G_N_ELEMENTS (handoff.payload); i++)
        g_assert_cmpuint (handoff.payload[i], ==, round * 100 + i);
      sum += handoff.payload[7];
      g_thread_join (worker);
      kaa_in_progress_unref (handoff.pending);
    }
  kaa_coroutine_return_int64 (co, sum);
}

static void
test_await_other_thread_handoff (Fixture       *f,
                                 gconstpointer  data)
{
  KaaInProgress *ips[HANDOFF_COROUTINES];
  gint64 expected = 0;

  g_test_summary ("DESIGN §4: what a thread writes before finishing an "
                  "InProgress is seen by the coroutine its await resumes, "
                  "finished before or after the coroutine suspends");

  for (guint round = 0; round < HANDOFF_ROUNDS; round++)
    expected += round * 100 + 7;
  for (guint i = 0; i < HANDOFF_COROUTINES; i++)
    ips[i] = kaa_coroutine_spawn (body_handoffs, NULL, NULL);
  for (guint i = 0; i < HANDOFF_COROUTINES; i++)
    {
      g_assert_true (kaa_in_progress_wait (ips[i], NULL));
      g_assert_cmpint (kaa_in_progress_get_int64 (ips[i]), ==, expected);
      kaa_in_progress_unref (ips[i]);
    }
}

/* ---------------------------------------------------------------- intervals */

#define SLICES 5

typedef struct
{
  gint64 start;
  gint64 resumed[SLICES];
  guint  slow_first_msec;
} Slices;

static void
body_time_slices (KaaCoroutine *co,
                  gpointer      data)
{
  Slices *slices = data;

  if (slices->slow_first_msec != 0)
    g_usleep (slices->slow_first_msec * 1000);
  for (guint i = 0; i < SLICES; i++)
    {
      if (!kaa_yield ())
        return;
      slices->resumed[i] = g_get_monotonic_time ();
    }
}

static const KaaCoroutineDef every_20ms = {
  .name = "every-20ms",
  .func = body_time_slices,
  .interval = 20,
};

static void
test_interval_fixed_rate (Fixture       *f,
                          gconstpointer  data)
{
  Slices slices = { g_get_monotonic_time (), { 0 }, 0 };
  g_autoptr(KaaInProgress) ip = kaa_coroutine_spawn_def (&every_20ms, NULL, &slices, NULL);

  g_test_summary ("DESIGN §4: with an interval, yields resume on a fixed-rate "
                  "schedule on the monotonic clock, never early");

  g_assert_cmpstr (kaa_in_progress_get_name (ip), ==, "every-20ms");
  g_assert_true (kaa_in_progress_wait (ip, NULL));
  for (guint i = 0; i < SLICES; i++)
    g_assert_cmpint (slices.resumed[i] - slices.start, >=, (gint64) (i + 1) * 20000);
  /* Fixed rate: lateness does not accumulate (generous for a loaded CI). */
  g_assert_cmpint (slices.resumed[SLICES - 1] - slices.start, <, SLICES * 20000 + 500000);
}

static void
test_interval_skips_missed (Fixture       *f,
                            gconstpointer  data)
{
  Slices slices = { g_get_monotonic_time (), { 0 }, 50 };
  g_autoptr(KaaInProgress) ip = kaa_coroutine_spawn_def (&every_20ms, NULL, &slices, NULL);

  g_test_summary ("DESIGN §4: slots missed by a slow slice are skipped, not bunched up");

  g_assert_true (kaa_in_progress_wait (ip, NULL));
  /* The first slice took 50 ms: slots 20 and 40 are gone, 60 is next,
   * and each resumption takes a slot of its own after that. Bunched-up
   * catching up would run slices at 20 and 40 at once; a late machine
   * only makes these times later. (Two resumptions may still come close
   * together when the first of them was late: that is fixed rate.) */
  for (guint i = 0; i < SLICES; i++)
    g_assert_cmpint (slices.resumed[i] - slices.start, >=, (gint64) (3 + i) * 20000);
}

static void
body_awaits_with_interval (KaaCoroutine *co,
                           gpointer      data)
{
  KaaInProgress *pending = data;

  kaa_await (kaa_in_progress_ref (pending), NULL);
  kaa_coroutine_return_int64 (co, g_get_monotonic_time ());
}

static const KaaCoroutineDef awaits_every_30ms = {
  .name = "awaits-every-30ms",
  .func = body_awaits_with_interval,
  .interval = 30,
};

static void
test_interval_await (Fixture       *f,
                     gconstpointer  data)
{
  KaaInProgress *pending = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) ip = kaa_coroutine_spawn_def (&awaits_every_30ms, NULL,
                                                         pending, NULL);
  gint64 finished;

  g_test_summary ("DESIGN §4: with an interval, an await resumes one interval after "
                  "what it awaited finished");

  kaa_test_pump_for (5);
  finished = g_get_monotonic_time ();
  kaa_in_progress_finish_int64 (pending, 1);
  g_assert_true (kaa_in_progress_wait (ip, NULL));
  g_assert_cmpint (kaa_in_progress_get_int64 (ip) - finished, >=, 30000);
  kaa_in_progress_unref (pending);
}

static void
body_cancels_parent (KaaCoroutine *co,
                     gpointer      data)
{
  kaa_in_progress_cancel (data);
}

static void
body_spawns_canceller (KaaCoroutine *co,
                       gpointer      data)
{
  gboolean *saw_cancel = data;
  KaaInProgress *child;

  /* The child runs its first slice right here, on top of us. */
  child = kaa_coroutine_spawn (body_cancels_parent,
                               kaa_coroutine_get_in_progress (co), NULL);
  kaa_in_progress_unref (child);
  *saw_cancel = !kaa_yield ();
}

static void
test_cancel_from_child (Fixture       *f,
                        gconstpointer  data)
{
  gboolean saw_cancel = FALSE;
  g_autoptr(KaaInProgress) ip = kaa_coroutine_spawn (body_spawns_canceller,
                                                     &saw_cancel, NULL);

  g_test_summary ("DESIGN §6: a coroutine cancelled from its own call stack (here by "
                  "a child running on top of it) is not resumed re-entrantly; it "
                  "notices at its next suspension");

  g_assert_true (saw_cancel);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
}

/* ---------------------------------------------------------- coiterate */

typedef struct
{
  guint    steps;
  guint    limit;
  guint    destroyed;
  gboolean cancel_self;
} Stepper;

static gboolean
step_counts (KaaInProgress *self,
             gpointer       data)
{
  Stepper *stepper = data;

  stepper->steps++;
  if (stepper->cancel_self && stepper->steps == 2)
    kaa_in_progress_cancel (self);
  if (stepper->steps < stepper->limit)
    return TRUE;
  kaa_in_progress_finish_int64 (self, stepper->steps);
  return FALSE;
}

static void
stepper_destroy (gpointer data)
{
  ((Stepper *) data)->destroyed++;
}

static void
test_coiterate_steps (Fixture       *f,
                      gconstpointer  data)
{
  Stepper stepper = { 0, 3, 0, FALSE };
  g_autoptr(KaaInProgress) ip = kaa_coiterate (step_counts, &stepper, stepper_destroy);

  g_test_summary ("Issue #3: kaa_coiterate runs a stackless step once per main-loop "
                  "iteration until it is done, and settles with what the step set");

  g_assert_cmpuint (stepper.steps, ==, 0);
  g_main_context_iteration (f->context, FALSE);
  g_assert_cmpuint (stepper.steps, ==, 1);
  g_main_context_iteration (f->context, FALSE);
  g_assert_cmpuint (stepper.steps, ==, 2);
  kaa_test_drain (f->context);
  g_assert_cmpint (kaa_in_progress_get_int64 (ip), ==, 3);
  g_assert_cmpuint (stepper.destroyed, ==, 1);
}

static void
test_coiterate_cancel (Fixture       *f,
                       gconstpointer  data)
{
  Stepper stepper = { 0, 100, 0, FALSE };
  g_autoptr(KaaInProgress) ip = kaa_coiterate (step_counts, &stepper, stepper_destroy);

  g_test_summary ("Issue #3: cancelling a coiterate task stops it at once: no step "
                  "runs again and its data is destroyed before cancel returns");

  g_main_context_iteration (f->context, FALSE);
  kaa_in_progress_cancel (ip);
  g_assert_cmpuint (stepper.destroyed, ==, 1);
  kaa_test_drain (f->context);
  g_assert_cmpuint (stepper.steps, ==, 1);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
}

static void
test_coiterate_cancel_self (Fixture       *f,
                            gconstpointer  data)
{
  Stepper stepper = { 0, 100, 0, TRUE };
  g_autoptr(KaaInProgress) ip = kaa_coiterate (step_counts, &stepper, stepper_destroy);

  g_test_summary ("Issue #3: a coiterate step that cancels its own task is the last "
                  "step; the data goes once the step returned");

  kaa_test_drain (f->context);
  g_assert_cmpuint (stepper.steps, ==, 2);
  g_assert_cmpuint (stepper.destroyed, ==, 1);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
}

static void
test_coiterate_pause (Fixture       *f,
                      gconstpointer  data)
{
  Stepper stepper = { 0, 4, 0, FALSE };
  g_autoptr(KaaInProgress) ip = kaa_coiterate (step_counts, &stepper, stepper_destroy);
  g_autoptr(KaaInProgress) held = NULL;
  Stepper held_stepper = { 0, 100, 0, FALSE };

  g_test_summary ("DESIGN §6: a paused coiterate task runs no step until resumed, then "
                  "goes on; one cancelled while paused is destroyed at once");

  g_main_context_iteration (f->context, FALSE);
  g_assert_cmpuint (stepper.steps, ==, 1);
  kaa_in_progress_pause (ip);
  for (guint i = 0; i < 5; i++)
    g_main_context_iteration (f->context, FALSE);
  g_assert_cmpuint (stepper.steps, ==, 1);
  kaa_in_progress_resume (ip);
  g_assert_cmpuint (stepper.steps, ==, 1);   /* from the scheduler, not inside resume */
  kaa_test_drain (f->context);
  g_assert_cmpint (kaa_in_progress_get_int64 (ip), ==, 4);
  g_assert_cmpuint (stepper.destroyed, ==, 1);

  held = kaa_coiterate (step_counts, &held_stepper, stepper_destroy);
  kaa_in_progress_pause (held);
  kaa_test_drain (f->context);
  g_assert_cmpuint (held_stepper.steps, ==, 0);
  kaa_in_progress_cancel (held);
  g_assert_cmpuint (held_stepper.destroyed, ==, 1);
  g_assert_cmpint (kaa_in_progress_get_state (held), ==, KAA_STATE_CANCELLED);
  kaa_in_progress_resume (held);
  kaa_test_drain (f->context);
  g_assert_cmpuint (held_stepper.steps, ==, 0);
}

static void
awaits_task (KaaCoroutine *co,
             gpointer      data)
{
  kaa_await (kaa_in_progress_ref (data), NULL);
}

static void
test_coiterate_pause_cascade (Fixture       *f,
                              gconstpointer  data)
{
  Stepper stepper = { 0, 1000000, 0, FALSE };
  g_autoptr(KaaInProgress) task = kaa_coiterate (step_counts, &stepper, stepper_destroy);
  g_autoptr(KaaInProgress) awaiter = kaa_coroutine_spawn (awaits_task, task, NULL);
  guint before;

  g_test_summary ("DESIGN §6: pausing a coroutine that alone awaits a coiterate task "
                  "holds the task's steps, also a pause and resume made before the "
                  "next step came; cancelling the coroutine stops the task at once");

  kaa_in_progress_pause (awaiter);
  kaa_in_progress_resume (awaiter);   /* before any step came: nothing was held */
  g_main_context_iteration (f->context, FALSE);
  g_assert_cmpuint (stepper.steps, ==, 1);
  kaa_in_progress_pause (awaiter);
  g_assert_true (kaa_in_progress_is_paused (task));
  for (guint i = 0; i < 5; i++)
    g_main_context_iteration (f->context, FALSE);
  before = stepper.steps;
  g_assert_cmpuint (before, ==, 1);
  kaa_in_progress_resume (awaiter);
  for (guint i = 0; i < 3; i++)
    g_main_context_iteration (f->context, FALSE);
  g_assert_cmpuint (stepper.steps, >, before);

  kaa_in_progress_cancel (awaiter);
  g_assert_cmpint (kaa_in_progress_get_state (task), ==, KAA_STATE_CANCELLED);
  g_assert_cmpuint (stepper.destroyed, ==, 1);
}

/* ----------------------------------------------------------- overflow */

static void
body_recurses (KaaCoroutine *co,
               gpointer      data)
{
  kaa_coroutine_return_int64 (co, kaa_test_recurse (0));
}

static const KaaCoroutineDef runaway = {
  .name = "runaway-parser",
  .func = body_recurses,
  .stack_size = 32 * 1024,
};

static void
test_stack_overflow (Fixture       *f,
                     gconstpointer  data)
{
  g_test_summary ("DESIGN §4: a stack overflow is reported with the coroutine's "
                  "definition name and stack size instead of corrupting memory");

  if (g_test_subprocess ())
    {
      g_autoptr(KaaInProgress) ip = kaa_coroutine_spawn_def (&runaway, NULL, NULL, NULL);

      g_assert_not_reached ();
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*stack overflow in coroutine runaway-parser "
                             "(stack size 32768 bytes)*");
}

/* -------------------------------------------------------------- bad input */

static void
test_outside_coroutine (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  KaaInProgress *ip = kaa_in_progress_new ();

  g_test_summary ("DESIGN §4: yield and await outside a coroutine are a critical and "
                  "an error, never a crash");

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*not called from a coroutine*");
  g_assert_false (kaa_yield ());
  g_test_assert_expected_messages ();

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*not called from a coroutine*");
  g_assert_false (kaa_await (ip, &error));
  g_test_assert_expected_messages ();
  g_assert_error (error, KAA_ERROR, KAA_ERROR_NOT_IN_COROUTINE);

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*func != NULL*");
  ip = kaa_coroutine_spawn (NULL, NULL, NULL);
  g_test_assert_expected_messages ();
  g_assert_error (kaa_in_progress_get_error (ip), KAA_ERROR, KAA_ERROR_INVALID_ARGUMENT);
  kaa_in_progress_unref (ip);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);


  KAA_TEST_ADD ("spawn-synchronous", test_spawn_synchronous);
  KAA_TEST_ADD ("yield-next-iteration", test_yield_next_iteration);
  KAA_TEST_ADD ("yield-does-not-starve-drawing", test_yield_does_not_starve_drawing);
  KAA_TEST_ADD ("yield-priority", test_yield_priority);
  KAA_TEST_ADD ("await-done-does-not-suspend", test_await_done_does_not_suspend);
  KAA_TEST_ADD ("await-resumes-in-dispatch", test_await_resumes_in_dispatch);
  KAA_TEST_ADD ("nested-failure", test_nested_failure);
  KAA_TEST_ADD ("await-object-one-line", test_await_object_one_line);
  KAA_TEST_ADD ("cancel-while-awaiting", test_cancel_while_awaiting);
  KAA_TEST_ADD ("cancel-shared-awaited", test_cancel_shared_awaited);
  KAA_TEST_ADD ("cancel-while-yielding", test_cancel_while_yielding);
  KAA_TEST_ADD ("unreferenced-keeps-running", test_unreferenced_keeps_running);
  KAA_TEST_ADD ("cancel-from-child", test_cancel_from_child);
  KAA_TEST_ADD ("become-fact", test_become_fact);
  KAA_TEST_ADD ("await-other-thread", test_await_other_thread);
  KAA_TEST_ADD ("await-other-thread-handoff", test_await_other_thread_handoff);
  KAA_TEST_ADD ("interval-fixed-rate", test_interval_fixed_rate);
  KAA_TEST_ADD ("interval-skips-missed", test_interval_skips_missed);
  KAA_TEST_ADD ("interval-await", test_interval_await);
  KAA_TEST_ADD ("coiterate-steps", test_coiterate_steps);
  KAA_TEST_ADD ("coiterate-cancel", test_coiterate_cancel);
  KAA_TEST_ADD ("coiterate-cancel-self", test_coiterate_cancel_self);
  KAA_TEST_ADD ("coiterate-pause", test_coiterate_pause);
  KAA_TEST_ADD ("coiterate-pause-cascade", test_coiterate_pause_cascade);
  KAA_TEST_ADD ("stack-overflow", test_stack_overflow);
  KAA_TEST_ADD ("outside-coroutine", test_outside_coroutine);

  return g_test_run ();
}
