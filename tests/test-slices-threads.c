/* test-slices-threads.c: time slices on many threads, contexts dying busy
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Issue #20: the time slices' sources come and go with the work queued
 * in them. Each thread here runs contexts of its own, where coroutines
 * of four slice priorities yield, some iterating the context from inside
 * a slice, and drops each context at a random point: whatever was still
 * queued unwinds, cancelled, with its cleanup run, and no source, stack
 * or InProgress is left behind.
 */
#include "config.h"

#define KAA_TEST_AREA "slices-threads"
#include "kaa-test-util.h"

#define N_THREADS    4
#define N_CONTEXTS   20
#define N_COROUTINES 40

static const gint priorities[] = {
  0, G_PRIORITY_LOW, G_PRIORITY_DEFAULT, G_PRIORITY_HIGH_IDLE,
};

typedef struct
{
  GMainContext *context;
  guint         rounds;
  gboolean      nests;      /* iterates the context from inside a slice */
  guint         done;       /* yielded all its rounds */
  guint         unwound;    /* cancelled part way */
} Task;

static void
body_task (KaaCoroutine *co,
           gpointer      data)
{
  Task *task = data;

  for (guint i = 0; i < task->rounds; i++)
    {
      if (!kaa_yield ())
        {
          task->unwound++;
          return;
        }
      if (task->nests && i % 7 == 3)
        g_main_context_iteration (task->context, FALSE);
    }
  task->done++;
}

/* One context's life: spawns, runs it for a while, drops it. */
static void
run_one_context (GRand *rand)
{
  GMainContext *context = g_main_context_new ();
  KaaInProgress *ips[N_COROUTINES];
  Task tasks[N_COROUTINES];
  guint iterations = g_rand_int_range (rand, 0, 300);

  g_main_context_push_thread_default (context);
  for (guint i = 0; i < N_COROUTINES; i++)
    {
      KaaCoroutineDef def = {
        .func = body_task,
        .priority = priorities[g_rand_int_range (rand, 0, G_N_ELEMENTS (priorities))],
      };

      tasks[i] = (Task) { context, g_rand_int_range (rand, 1, 200), i % 5 == 0 };
      ips[i] = kaa_coroutine_spawn_def (&def, NULL, &tasks[i], NULL);
    }
  for (guint i = 0; i < iterations; i++)
    g_main_context_iteration (context, FALSE);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);

  for (guint i = 0; i < N_COROUTINES; i++)
    {
      KaaState state = kaa_in_progress_get_state (ips[i]);

      g_assert_cmpuint (tasks[i].done + tasks[i].unwound, ==, 1);
      g_assert_cmpint (state, ==, tasks[i].done ? KAA_STATE_FINISHED : KAA_STATE_CANCELLED);
      kaa_in_progress_unref (ips[i]);
    }
}

static gpointer
thread_main (gpointer data)
{
  GRand *rand = g_rand_new_with_seed (GPOINTER_TO_UINT (data));

  for (guint i = 0; i < N_CONTEXTS; i++)
    run_one_context (rand);
  g_rand_free (rand);
  return NULL;
}

static void
test_threads (KaaTestFixture *f,
              gconstpointer   data)
{
  GThread *threads[N_THREADS];
  guint32 seed = g_test_rand_int ();

  g_test_summary ("Issue #20: coroutines of four slice priorities yield on several "
                  "threads, each in contexts that die at a random point; each ends "
                  "finished or unwound, cancelled, and nothing is left");
  g_test_message ("seed %u", seed);

  for (guint i = 0; i < N_THREADS; i++)
    threads[i] = g_thread_new ("slices", thread_main, GUINT_TO_POINTER (seed + i));
  for (guint i = 0; i < N_THREADS; i++)
    g_thread_join (threads[i]);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  KAA_TEST_ADD ("threads", test_threads);

  return g_test_run ();
}
