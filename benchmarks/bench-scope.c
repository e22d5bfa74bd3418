/* bench-scope.c: what owning work in a task scope costs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Issue 18 §4. Each row against the GLib way of doing the same, in the
 * same process and run (kaa-bench.h):
 *
 *  join-100     spawn 100 coroutines into a scope, each done at once,
 *               and join it; time per member; peer: 100 GTasks sharing
 *               one GCancellable, each returning at once, and a counter
 *               that says when the last one called back
 *  cancel-100   cancel a scope of 100 coroutines suspended in a sleep,
 *               which unwind before the cancel returns; time per member;
 *               peer: one GCancellable cancelled under 100 GTasks whose
 *               handlers each return the task
 */
#include <stdio.h>
#include <stdlib.h>

#include <gio/gio.h>

#include "kaa-bench.h"

#define N_MEMBERS 100

typedef enum
{
  S_JOIN,
  S_TASKS,
  S_CANCEL,
  S_TASKS_CANCEL,
  N_SAMPLES
} Sample;

static const KaaBenchRow rows[] = {
  { "join-100", "spawn 100 coroutines in a scope and join it, per member", S_JOIN,
    "100 GTasks, one GCancellable, counted down", S_TASKS, 0, KAA_BENCH_NS },
  { "cancel-100", "cancel a scope of 100 sleeping coroutines, per member", S_CANCEL,
    "GCancellable cancelled under 100 GTasks", S_TASKS_CANCEL, 0, KAA_BENCH_NS },
};

static GMainContext *context;

static void
drain (void)
{
  while (g_main_context_iteration (context, FALSE))
    ;
}

/* --------------------------------------------------------------- libkaa */

static void
body_returns (KaaCoroutine *co,
              gpointer      data)
{
}

static void
body_sleeps (KaaCoroutine *co,
             gpointer      data)
{
  kaa_await (kaa_sleep (3600 * 1000), NULL);
}

static gdouble
run_join (guint reps)
{
  gint64 start = kaa_bench_now_ns ();

  for (guint r = 0; r < reps; r++)
    {
      g_autoptr(KaaScope) scope = kaa_scope_new (KAA_SCOPE_FAIL_FAST);
      g_autoptr(KaaInProgress) joined = NULL;

      for (guint i = 0; i < N_MEMBERS; i++)
        kaa_scope_spawn (scope, body_returns, NULL, NULL);
      joined = kaa_scope_join (scope);
      drain ();
      if (kaa_in_progress_get_int64 (joined) != N_MEMBERS)
        kaa_bench_die ("the scope did not finish with its %u members", N_MEMBERS);
    }
  return (gdouble) (kaa_bench_now_ns () - start) / (reps * N_MEMBERS);
}

/* Only the cancel is timed. */
static gdouble
run_cancel (guint reps)
{
  gint64 total = 0;

  for (guint r = 0; r < reps; r++)
    {
      g_autoptr(KaaScope) scope = kaa_scope_new (KAA_SCOPE_FAIL_FAST);
      g_autoptr(KaaInProgress) joined = NULL;
      gint64 start;

      for (guint i = 0; i < N_MEMBERS; i++)
        kaa_scope_spawn (scope, body_sleeps, NULL, NULL);
      joined = kaa_scope_join (scope);
      start = kaa_bench_now_ns ();
      kaa_scope_cancel (scope);
      total += kaa_bench_now_ns () - start;
      if (kaa_in_progress_get_state (joined) != KAA_STATE_CANCELLED)
        kaa_bench_die ("the scope was not cancelled");
      drain ();
    }
  return (gdouble) total / (reps * N_MEMBERS);
}

/* ----------------------------------------------------------------- GLib */

static void
task_done (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  guint *left = data;

  g_task_propagate_boolean (G_TASK (result), NULL);
  (*left)--;
}

static void
task_cancelled (GCancellable *cancellable,
                gpointer      data)
{
  g_task_return_boolean (data, FALSE);
}

static gdouble
run_tasks (guint    reps,
           gboolean cancel)
{
  gint64 total = 0;

  for (guint r = 0; r < reps; r++)
    {
      g_autoptr(GCancellable) cancellable = g_cancellable_new ();
      GTask *tasks[N_MEMBERS];
      guint left = N_MEMBERS;
      gint64 start = kaa_bench_now_ns ();

      for (guint i = 0; i < N_MEMBERS; i++)
        {
          tasks[i] = g_task_new (NULL, cancellable, task_done, &left);
          if (cancel)
            g_cancellable_connect (cancellable, G_CALLBACK (task_cancelled), tasks[i], NULL);
          else
            g_task_return_boolean (tasks[i], TRUE);
        }
      if (cancel)
        {
          start = kaa_bench_now_ns ();
          g_cancellable_cancel (cancellable);
        }
      while (left > 0)
        g_main_context_iteration (context, TRUE);
      total += kaa_bench_now_ns () - start;
      for (guint i = 0; i < N_MEMBERS; i++)
        g_object_unref (tasks[i]);
    }
  return (gdouble) total / (reps * N_MEMBERS);
}

static void
run_round (gpointer  data,
           guint     n_ops,
           gdouble  *values)
{
  values[S_JOIN] = run_join (n_ops);
  values[S_TASKS] = run_tasks (n_ops, FALSE);
  values[S_CANCEL] = run_cancel (n_ops);
  values[S_TASKS_CANCEL] = run_tasks (n_ops, TRUE);
  drain ();
}

int
main (int   argc,
      char *argv[])
{
  KaaBench run = { 0 };
  KaaBenchStats stats[N_SAMPLES];

  kaa_bench_init (&run, "scope", "- task scopes against GTasks under one GCancellable",
                  200, 20, &argc, &argv);
  context = g_main_context_new ();
  g_main_context_push_thread_default (context);

  kaa_bench_measure (&run, N_SAMPLES, run_round, NULL, stats);
  kaa_bench_report (&run, rows, G_N_ELEMENTS (rows), stats);

  g_main_context_pop_thread_default (context);
  drain ();
  g_main_context_unref (context);
  kaa_bench_clear (&run);
  return EXIT_SUCCESS;
}
