/* test-slices.c: the time slices' sources, attached only while busy
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Issue #20: what follows a yield runs from a source of its own, which
 * is attached while something is queued there and given back when the
 * queue empties, so an idle main-loop iteration pays for the
 * scheduler's source alone.
 */
#include "config.h"

#define KAA_TEST_AREA "slices"
#include "kaa-test-util.h"
#include "kaa-scheduler-private.h"

#define SLICES_NAME "[kaa] time slices"

/* Source ids count up per context from 1; a test makes a handful. */
static guint
count_named (GMainContext *context,
             const char   *name,
             guint        *found_id,
             gint         *priority)
{
  guint n = 0;

  for (guint id = 1; id < 64; id++)
    {
      GSource *source = g_main_context_find_source_by_id (context, id);

      if (source != NULL && g_strcmp0 (g_source_get_name (source), name) == 0)
        {
          n++;
          if (found_id != NULL)
            *found_id = id;
          if (priority != NULL)
            *priority = g_source_get_priority (source);
        }
    }
  return n;
}

typedef struct
{
  GMainContext *context;
  guint         yields;
  guint         seen_busy;   /* slices sources seen from inside a slice */
  guint         first_id;    /* the id of the first one seen */
  guint         other_ids;   /* slices that saw another id than that */
  gint          priority;
} Yielder;

static void
body_yield_many (KaaCoroutine *co,
                 gpointer      data)
{
  Yielder *y = data;

  for (guint i = 0; i < y->yields; i++)
    {
      guint id = 0;

      g_assert_true (kaa_yield ());
      y->seen_busy = MAX (y->seen_busy,
                          count_named (y->context, SLICES_NAME, &id, &y->priority));
      if (y->first_id == 0)
        y->first_id = id;
      else if (id != y->first_id)
        y->other_ids++;
    }
}

static void
run_until_done (GMainContext  *context,
                KaaInProgress *ip)
{
  while (!kaa_in_progress_is_done (ip))
    g_main_context_iteration (context, TRUE);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_FINISHED);
  kaa_in_progress_unref (ip);
}

static void
test_only_while_busy (KaaTestFixture *f,
                      gconstpointer   data)
{
  Yielder y = { f->context, 1000 };

  g_test_summary ("Issue #20: the time slices' source is attached while coroutines "
                  "yield, once for a busy stretch, and given back when none is left");

  run_until_done (f->context, kaa_coroutine_spawn (body_yield_many, &y, NULL));
  g_assert_cmpuint (y.seen_busy, ==, 1);
  g_assert_cmpint (y.priority, ==, G_PRIORITY_DEFAULT_IDLE);
  /* A thousand yields in a row kept one source, not one each. */
  g_assert_cmpuint (y.first_id, !=, 0);
  g_assert_cmpuint (y.other_ids, ==, 0);

  /* Given back after the last slice: nothing of it is left attached. */
  kaa_test_drain (f->context);
  g_assert_null (g_main_context_find_source_by_id (f->context, y.first_id));
  g_assert_cmpuint (count_named (f->context, SLICES_NAME, NULL, NULL), ==, 0);
  g_assert_false (g_main_context_pending (f->context));

  /* And one comes back for the next busy stretch. */
  y = (Yielder) { f->context, 10 };
  run_until_done (f->context, kaa_coroutine_spawn (body_yield_many, &y, NULL));
  g_assert_cmpuint (y.seen_busy, ==, 1);
  g_assert_cmpuint (y.other_ids, ==, 0);
  kaa_test_drain (f->context);
  g_assert_cmpuint (count_named (f->context, SLICES_NAME, NULL, NULL), ==, 0);
}

static void
test_priority (KaaTestFixture *f,
               gconstpointer   data)
{
  KaaCoroutineDef def = { .func = body_yield_many, .priority = G_PRIORITY_LOW };
  Yielder y = { f->context, 3 };

  g_test_summary ("Issue #20: a coroutine's own slice priority gets a source at that "
                  "priority, given back too");

  run_until_done (f->context, kaa_coroutine_spawn_def (&def, NULL, &y, NULL));
  g_assert_cmpuint (y.seen_busy, ==, 1);
  g_assert_cmpint (y.priority, ==, G_PRIORITY_LOW);
  kaa_test_drain (f->context);
  g_assert_cmpuint (count_named (f->context, SLICES_NAME, NULL, NULL), ==, 0);
}

typedef struct
{
  GMainContext  *context;
  KaaInProgress *other;
  guint          nested;   /* iterations run from inside a slice */
} Nester;

/* In a slice, iterates the context until @other is done: the slices'
 * dispatch runs nested in itself, empties the queue and gives the
 * source back while the outer dispatch is still on the stack. */
static void
body_nest (KaaCoroutine *co,
           gpointer      data)
{
  Nester *n = data;

  g_assert_true (kaa_yield ());
  while (!kaa_in_progress_is_done (n->other))
    {
      g_main_context_iteration (n->context, FALSE);
      n->nested++;
    }
  /* The queue is empty now and its source gone: this yield needs a new
   * one, and the outer dispatch must leave it be. */
  g_assert_true (kaa_yield ());
  g_assert_true (kaa_yield ());
}

static void
test_nested_dispatch (KaaTestFixture *f,
                      gconstpointer   data)
{
  Yielder y = { f->context, 20 };
  Nester n = { f->context, NULL, 0 };
  KaaInProgress *nest;

  g_test_summary ("Issue #20: a slice that iterates the context runs the other slices "
                  "nested; the source given back meanwhile is attached again for what "
                  "yields after");

  n.other = kaa_coroutine_spawn (body_yield_many, &y, NULL);
  nest = kaa_coroutine_spawn (body_nest, &n, NULL);
  run_until_done (f->context, nest);
  g_assert_cmpuint (n.nested, >, 0);
  run_until_done (f->context, n.other);
  kaa_test_drain (f->context);
  g_assert_cmpuint (count_named (f->context, SLICES_NAME, NULL, NULL), ==, 0);
}

static void
body_yield_forever (KaaCoroutine *co,
                    gpointer      data)
{
  guint *cleanups = data;

  while (kaa_yield ())
    ;
  (*cleanups)++;
}

static void
test_context_dies_busy (KaaTestFixture *f,
                        gconstpointer   data)
{
  guint cleanups = 0;
  KaaInProgress *ips[3];

  g_test_summary ("Issue #20: a context that dies while slices are queued takes their "
                  "source with it; the coroutines unwind, cancelled");

  for (guint i = 0; i < G_N_ELEMENTS (ips); i++)
    ips[i] = kaa_coroutine_spawn (body_yield_forever, &cleanups, NULL);
  g_main_context_iteration (f->context, FALSE);
  g_assert_cmpuint (count_named (f->context, SLICES_NAME, NULL, NULL), ==, 1);

  kaa_test_fixture_kill_context (f);
  g_assert_cmpuint (cleanups, ==, G_N_ELEMENTS (ips));
  for (guint i = 0; i < G_N_ELEMENTS (ips); i++)
    {
      g_assert_cmpint (kaa_in_progress_get_state (ips[i]), ==, KAA_STATE_CANCELLED);
      kaa_in_progress_unref (ips[i]);
    }
}

typedef struct
{
  KaaRunnable  runnable;   /* first */
  KaaRunnable *seen_next;
  gboolean     ran;
} Peeker;

static void
peeker_run (KaaRunnable *runnable,
            gboolean     discard)
{
  Peeker *p = (Peeker *) runnable;
  KaaRunnable *next = kaa_runnable_get_queued_next (runnable);

  g_assert_false (discard);
  /* What comes next has not run yet. */
  g_assert_true (next == NULL || !((Peeker *) next)->ran);
  p->seen_next = next;
  p->ran = TRUE;
}

static void
test_queued_next (KaaTestFixture *f,
                  gconstpointer   data)
{
  KaaScheduler *scheduler = kaa_scheduler_get_thread_default ();
  Peeker ready[4] = { 0 };
  Peeker slices[4] = { 0 };

  g_test_summary ("Issue #20: a runnable run from a queue sees the one queued after it, "
                  "which a coroutine warms while it runs; the last sees none");

  for (guint i = 0; i < G_N_ELEMENTS (ready); i++)
    {
      ready[i].runnable.run = peeker_run;
      kaa_scheduler_push (scheduler, &ready[i].runnable);
      slices[i].runnable.run = peeker_run;
      kaa_scheduler_push_slice (scheduler, &slices[i].runnable);
    }
  kaa_test_drain (f->context);
  for (guint i = 0; i < G_N_ELEMENTS (ready); i++)
    {
      KaaRunnable *ready_next = i + 1 < G_N_ELEMENTS (ready) ? &ready[i + 1].runnable : NULL;
      KaaRunnable *slice_next = i + 1 < G_N_ELEMENTS (slices) ? &slices[i + 1].runnable : NULL;

      g_assert_true (ready[i].ran && slices[i].ran);
      g_assert_true (ready[i].seen_next == ready_next);
      g_assert_true (slices[i].seen_next == slice_next);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  KAA_TEST_ADD ("only-while-busy", test_only_while_busy);
  KAA_TEST_ADD ("priority", test_priority);
  KAA_TEST_ADD ("nested-dispatch", test_nested_dispatch);
  KAA_TEST_ADD ("context-dies-busy", test_context_dies_busy);
  KAA_TEST_ADD ("queued-next", test_queued_next);

  return g_test_run ();
}
