/* test-yield-transfer.c: a yield that goes straight on to the next one
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Issue #20's symmetric transfer: a coroutine that yields from a slice
 * of its queue switches straight into the coroutine queued after it,
 * which returns to the main loop in its place. Nothing of that may show:
 * the order, the budget, pauses, cancels from one coroutine to another,
 * nested iterations and spawns behave as with a suspend and a resume.
 */
#include "config.h"

#define KAA_TEST_AREA "yield-transfer"
#include "kaa-test-util.h"
#include "kaa-fiber-private.h"
#include "kaa-scheduler-private.h"

static void
run_until_done (GMainContext  *context,
                KaaInProgress *ip)
{
  while (!kaa_in_progress_is_done (ip))
    g_main_context_iteration (context, TRUE);
}

static void
run_all (GMainContext   *context,
         KaaInProgress **ips,
         guint           n)
{
  for (guint i = 0; i < n; i++)
    {
      run_until_done (context, ips[i]);
      g_assert_cmpint (kaa_in_progress_get_state (ips[i]), ==, KAA_STATE_FINISHED);
      kaa_in_progress_unref (ips[i]);
    }
}

/* ------------------------------------------------------------- order */

typedef struct
{
  GArray *log;        /* guint: which coroutine ran, slice by slice */
  guint   rounds;
  guint   wrong_self; /* resumptions where kaa_coroutine_self() lied */
} Ring;

typedef struct
{
  Ring *ring;
  guint id;
} Member;

static void
body_member (KaaCoroutine *co,
             gpointer      data)
{
  Member *m = data;

  for (guint r = 0; r < m->ring->rounds; r++)
    {
      g_array_append_val (m->ring->log, m->id);
      if (!kaa_yield ())
        return;
      if (kaa_coroutine_self () != co)
        m->ring->wrong_self++;
    }
  kaa_coroutine_return_int64 (co, m->id);
}

/* Round robin as before, each coroutine itself after each yield, and
 * the yields went on from one coroutine to the next. */
static void
test_order (KaaTestFixture *f,
            gconstpointer   data)
{
  enum { N = 50, ROUNDS = 20 };
  Ring ring = { g_array_new (FALSE, FALSE, sizeof (guint)), ROUNDS, 0 };
  Member members[N];
  KaaInProgress *ips[N];
  guint taken = kaa_batch_taken;

  for (guint i = 0; i < N; i++)
    {
      members[i] = (Member) { &ring, i };
      ips[i] = kaa_coroutine_spawn (body_member, &members[i], NULL);
    }
  for (guint i = 0; i < N; i++)
    {
      run_until_done (f->context, ips[i]);
      g_assert_cmpint (kaa_in_progress_get_int64 (ips[i]), ==, i);
      kaa_in_progress_unref (ips[i]);
    }
  g_assert_cmpuint (ring.log->len, ==, N * ROUNDS);
  for (guint k = 0; k < ring.log->len; k++)
    g_assert_cmpuint (g_array_index (ring.log, guint, k), ==, k % N);
  g_assert_cmpuint (ring.wrong_self, ==, 0);
#if KAA_FIBER_CAN_TRANSFER
  /* All but the first of each dispatch's slices, less what the budget
   * cut short on a slow run. */
  g_assert_cmpuint (kaa_batch_taken - taken, >=, (ROUNDS - 1) * (N - 1) / 2);
#else
  g_assert_cmpuint (kaa_batch_taken, ==, taken);
#endif
  g_array_unref (ring.log);
}

/* ------------------------------------------------------------ finish */

static void
body_yield_n (KaaCoroutine *co,
              gpointer      data)
{
  guint n = GPOINTER_TO_UINT (data);

  for (guint i = 0; i < n; i++)
    if (!kaa_yield ())
      return;
  kaa_coroutine_return_int64 (co, n);
}

/* Coroutines that end in a slice another one went on to: each ending is
 * seen, by the loop it returns to, for the one that ended. Many of them,
 * each with its own count, so that ends fall everywhere in the chain. */
static void
test_finish_after_transfer (KaaTestFixture *f,
                            gconstpointer   data)
{
  enum { N = 2000 };
  g_autofree KaaInProgress **ips = g_new (KaaInProgress *, N);

  for (guint i = 0; i < N; i++)
    ips[i] = kaa_coroutine_spawn (body_yield_n, GUINT_TO_POINTER (i % 7), NULL);
  for (guint i = 0; i < N; i++)
    {
      run_until_done (f->context, ips[i]);
      g_assert_cmpint (kaa_in_progress_get_int64 (ips[i]), ==, i % 7);
      kaa_in_progress_unref (ips[i]);
    }
}

/* ------------------------------------------------------------ cancel */

typedef struct
{
  KaaInProgress *victim;      /* owned until cancelled */
  gboolean       cleaned;     /* the victim's cleanup ran */
  gboolean       then_return; /* the canceller ends in the same slice */
} Canceller;

static void
mark_cleaned (gpointer data)
{
  *(gboolean *) data = TRUE;
}

static void
body_victim (KaaCoroutine *co,
             gpointer      data)
{
  Canceller *c = data;

  /* Cancelled, the yield returns FALSE and this cleanup runs. */
  while (kaa_yield ())
    ;
  mark_cleaned (&c->cleaned);
}

/* Yields once (so that it runs second in a slice dispatch, gone on to
 * from the victim), then cancels the victim, which has yielded and waits
 * in the queue behind it: the victim is resumed inside this slice to
 * unwind, and freed. */
static void
body_canceller (KaaCoroutine *co,
                gpointer      data)
{
  Canceller *c = data;

  if (!kaa_yield ())
    return;
  kaa_in_progress_cancel (c->victim);
  g_assert_cmpint (kaa_in_progress_get_state (c->victim), ==, KAA_STATE_CANCELLED);
  g_clear_pointer (&c->victim, kaa_in_progress_unref);
  g_assert_true (c->cleaned);
  if (c->then_return)
    return;
  for (guint i = 0; i < 3; i++)
    if (!kaa_yield ())
      return;
}

/* The coroutine gone on to cancels the one it came from, which is freed
 * while the loop's resume of it is still on the stack below: the loop
 * must touch only the coroutine that comes back (ASan catches it). */
static void
test_cancel_predecessor (KaaTestFixture *f,
                         gconstpointer   data)
{
  for (guint then_return = 0; then_return < 2; then_return++)
    {
      Canceller c = { NULL, FALSE, then_return };
      KaaInProgress *canceller;

      c.victim = kaa_coroutine_spawn (body_victim, &c, NULL);
      canceller = kaa_coroutine_spawn (body_canceller, &c, NULL);
      run_until_done (f->context, canceller);
      g_assert_cmpint (kaa_in_progress_get_state (canceller), ==, KAA_STATE_FINISHED);
      g_assert_null (c.victim);
      g_assert_true (c.cleaned);
      kaa_in_progress_unref (canceller);
      kaa_test_drain (f->context);
    }
}

/* The victim yields once and then waits behind its canceller: the
 * canceller kills it before it would be gone on to, so its stale entry
 * in the queue must be passed over. */
static void
test_cancel_successor (KaaTestFixture *f,
                       gconstpointer   data)
{
  Canceller c = { NULL, FALSE, FALSE };
  KaaInProgress *canceller = kaa_coroutine_spawn (body_canceller, &c, NULL);
  KaaInProgress *after;

  c.victim = kaa_coroutine_spawn (body_victim, &c, NULL);
  after = kaa_coroutine_spawn (body_yield_n, GUINT_TO_POINTER (5), NULL);
  run_until_done (f->context, canceller);
  run_until_done (f->context, after);
  g_assert_true (c.cleaned);
  g_assert_cmpint (kaa_in_progress_get_int64 (after), ==, 5);
  kaa_in_progress_unref (canceller);
  kaa_in_progress_unref (after);
}

/* ------------------------------------------------------------- pause */

typedef struct
{
  KaaInProgress *other;
  guint          other_slices;
  guint          seen_while_paused;
} Pauser;

static void
body_counted (KaaCoroutine *co,
              gpointer      data)
{
  Pauser *p = data;

  for (guint i = 0; i < 10; i++)
    {
      p->other_slices++;
      if (!kaa_yield ())
        return;
    }
}

static void
body_pauser (KaaCoroutine *co,
             gpointer      data)
{
  Pauser *p = data;
  guint before;

  if (!kaa_yield ())
    return;
  /* The other one waits behind this one, yielded: paused now, no slice
   * may go on to it until it is resumed. */
  kaa_in_progress_pause (p->other);
  before = p->other_slices;
  for (guint i = 0; i < 5; i++)
    if (!kaa_yield ())
      return;
  p->seen_while_paused = p->other_slices - before;
  kaa_in_progress_resume (p->other);
}

static void
test_paused_successor (KaaTestFixture *f,
                       gconstpointer   data)
{
  Pauser p = { NULL, 0, 0 };
  KaaInProgress *pauser = kaa_coroutine_spawn (body_pauser, &p, NULL);

  p.other = kaa_coroutine_spawn (body_counted, &p, NULL);
  run_until_done (f->context, pauser);
  run_until_done (f->context, p.other);
  g_assert_cmpuint (p.seen_while_paused, ==, 0);
  g_assert_cmpuint (p.other_slices, ==, 10);
  kaa_in_progress_unref (pauser);
  kaa_in_progress_unref (p.other);
}

/* ------------------------------------------------------------ budget */

typedef struct
{
  guint run;        /* slices since the idle last ran */
  guint most;       /* the most slices seen between two idle runs */
  guint idles;
  gboolean done;
} Budget;

static gboolean
idle_between (gpointer data)
{
  Budget *b = data;

  b->most = MAX (b->most, b->run);
  b->run = 0;
  b->idles++;
  return b->done ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

static void
body_spin (KaaCoroutine *co,
           gpointer      data)
{
  Budget *b = data;

  for (guint i = 0; i < 4; i++)
    {
      gint64 until = g_get_monotonic_time () + 1000;

      while (g_get_monotonic_time () < until)
        ;
      b->run++;
      if (!kaa_yield ())
        return;
    }
}

/* 20 coroutines that each spin 1 ms a slice, a budget of 3 ms: a slice
 * dispatch ends once it is spent, however the slices follow each other,
 * and the idle source of the same priority runs in between. */
static void
test_budget (KaaTestFixture *f,
             gconstpointer   data)
{
  enum { N = 20 };
  Budget b = { 0 };
  KaaInProgress *ips[N];
  GSource *idle = g_idle_source_new ();

  kaa_main_set_budget (3000);
  g_source_set_callback (idle, idle_between, &b, NULL);
  g_source_attach (idle, f->context);
  for (guint i = 0; i < N; i++)
    ips[i] = kaa_coroutine_spawn (body_spin, &b, NULL);
  b.run = 0;
  b.most = 0;
  run_all (f->context, ips, N);
  b.done = TRUE;
  kaa_test_drain (f->context);
  g_source_destroy (idle);
  g_source_unref (idle);
  /* 3 or 4 when all goes well; a budget ignored runs all 20. */
  g_assert_cmpuint (b.most, <=, 8);
  g_assert_cmpuint (b.idles, >=, 3);
}

/* ----------------------------------------------------- nested, spawn */

typedef struct
{
  GMainContext *context;
  guint         spawned_done;
} Nest;

static void
body_nester (KaaCoroutine *co,
             gpointer      data)
{
  Nest *n = data;

  if (!kaa_yield ())
    return;
  /* Gone on to from another coroutine, this one runs the loop itself:
   * the others' slices run nested, and go on among themselves. */
  for (guint i = 0; i < 30; i++)
    g_main_context_iteration (n->context, FALSE);
  if (!kaa_yield ())
    return;
}

static void
body_spawner (KaaCoroutine *co,
              gpointer      data)
{
  Nest *n = data;

  for (guint i = 0; i < 5; i++)
    {
      KaaInProgress *child;

      if (!kaa_yield ())
        return;
      /* The child yields at once: it returns here, not to the loop. */
      child = kaa_coroutine_spawn (body_yield_n, GUINT_TO_POINTER (2), NULL);
      if (!kaa_await (child, NULL))
        return;
      n->spawned_done++;
    }
}

static void
test_nested_and_spawn (KaaTestFixture *f,
                       gconstpointer   data)
{
  enum { N = 12 };
  Nest n = { f->context, 0 };
  KaaInProgress *ips[N];

  for (guint i = 0; i < N; i++)
    {
      if (i % 4 == 1)
        ips[i] = kaa_coroutine_spawn (body_nester, &n, NULL);
      else if (i % 4 == 3)
        ips[i] = kaa_coroutine_spawn (body_spawner, &n, NULL);
      else
        ips[i] = kaa_coroutine_spawn (body_yield_n, GUINT_TO_POINTER (40 + i), NULL);
    }
  run_all (f->context, ips, N);
  g_assert_cmpuint (n.spawned_done, ==, 5 * (N / 4));
}

/* ------------------------------------------------------------- mixed */

/* A stackless task of the ring: it logs in every round. */
typedef struct
{
  GArray *log;
  guint   id;
  guint   steps;
  guint   rounds;
} Task;

static gboolean
step_task (KaaInProgress *self,
           gpointer       data)
{
  Task *t = data;

  g_array_append_val (t->log, t->id);
  if (++t->steps < t->rounds)
    return TRUE;
  kaa_in_progress_finish_int64 (self, t->id);
  return FALSE;
}

static gboolean
is_task (guint i)
{
  return i % 5 == 1 || i % 5 == 2 || i % 7 == 0;
}

/* Coroutines and stackless tasks in one queue of time slices, in runs of
 * one, two and more: a yield goes on only to a coroutine, never past a
 * task, and the warming of what is queued ahead reads a task only as a
 * runnable. The order stays round robin across both kinds: a coroutine
 * logs once when spawned and in every round but the last, which ends
 * it; a task logs in every round. */
static void
test_mixed_queue (KaaTestFixture *f,
                  gconstpointer   data)
{
  enum { N = 35, ROUNDS = 12 };
  Ring ring = { g_array_new (FALSE, FALSE, sizeof (guint)), ROUNDS, 0 };
  Member members[N];
  Task tasks[N];
  KaaInProgress *ips[N];
  g_autoptr(GArray) expected = g_array_new (FALSE, FALSE, sizeof (guint));

  g_test_summary ("Issue #20: coroutines and coiterate tasks sharing one queue of time "
                  "slices run round robin, each its count, the yields going on only "
                  "from coroutine to coroutine");
  for (guint i = 0; i < N; i++)
    {
      if (is_task (i))
        {
          tasks[i] = (Task) { ring.log, i, 0, ROUNDS };
          ips[i] = kaa_coiterate (step_task, &tasks[i], NULL);
          continue;
        }
      members[i] = (Member) { &ring, i };
      ips[i] = kaa_coroutine_spawn (body_member, &members[i], NULL);
      g_array_append_val (expected, i);
    }
  for (guint r = 0; r < ROUNDS; r++)
    for (guint i = 0; i < N; i++)
      if (is_task (i) || r < ROUNDS - 1)
        g_array_append_val (expected, i);

  run_all (f->context, ips, N);
  g_assert_cmpuint (ring.wrong_self, ==, 0);
  g_assert_cmpuint (ring.log->len, ==, expected->len);
  for (guint k = 0; k < expected->len; k++)
    g_assert_cmpuint (g_array_index (ring.log, guint, k), ==,
                      g_array_index (expected, guint, k));
  g_array_unref (ring.log);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  KAA_TEST_ADD ("order", test_order);
  KAA_TEST_ADD ("finish-after-transfer", test_finish_after_transfer);
  KAA_TEST_ADD ("cancel-predecessor", test_cancel_predecessor);
  KAA_TEST_ADD ("cancel-successor", test_cancel_successor);
  KAA_TEST_ADD ("paused-successor", test_paused_successor);
  KAA_TEST_ADD ("budget", test_budget);
  KAA_TEST_ADD ("nested-and-spawn", test_nested_and_spawn);
  KAA_TEST_ADD ("mixed-queue", test_mixed_queue);
  return g_test_run ();
}
