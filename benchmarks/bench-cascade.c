/* bench-cascade.c: what a cancel cascade costs per level and per awaiter
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * DESIGN §6: cancelling the top of a chain of coroutines, each awaiting
 * the next, unwinds the whole chain before the cancel returns; so does
 * cancelling the last link of a finish_from chain. Cancelling each of N
 * coroutines that await one shared InProgress detaches each from it.
 * Only the cancel is timed, never the building. The 1000-deep chain is
 * built and cancelled --ops times per run, and the run keeps the fastest:
 * on a loaded machine, that is the figure that says what the code costs.
 * The peer is the flat GLib cost of one step: cancelling a GCancellable
 * with one handler.
 */
#include <stdio.h>
#include <stdlib.h>

#include <gio/gio.h>

#include "kaa-bench.h"

typedef enum
{
  S_CHAIN_1000,
  S_CHAIN_10000,
  S_CHAIN_100000,
  S_FOLLOW_1000000,
  S_SHARED_1000,
  S_SHARED_100000,
  S_CANCELLABLE,
  N_SAMPLES
} Sample;

static const KaaBenchRow rows[] = {
  { "chain-1000", "cancel a 1000-deep coroutine chain, per level", S_CHAIN_1000,
    "g_cancellable_cancel, one handler", S_CANCELLABLE, 0, KAA_BENCH_NS },
  { "chain-10000", "cancel a 10 000-deep coroutine chain, per level", S_CHAIN_10000,
    "g_cancellable_cancel, one handler", S_CANCELLABLE, 0, KAA_BENCH_NS },
  { "chain-100000", "cancel a 100 000-deep coroutine chain, per level", S_CHAIN_100000,
    "g_cancellable_cancel, one handler", S_CANCELLABLE, 0, KAA_BENCH_NS },
  { "follow-1000000", "cancel a 1 000 000-link finish_from chain, per link",
    S_FOLLOW_1000000, "g_cancellable_cancel, one handler", S_CANCELLABLE, 0, KAA_BENCH_NS },
  { "shared-1000", "cancel 1000 awaiters of one InProgress, per awaiter", S_SHARED_1000,
    "g_cancellable_cancel, one handler", S_CANCELLABLE, 0, KAA_BENCH_NS },
  { "shared-100000", "cancel 100 000 awaiters of one InProgress, per awaiter",
    S_SHARED_100000, "g_cancellable_cancel, one handler", S_CANCELLABLE, 0, KAA_BENCH_NS },
};

static gboolean quick;

static void
body_awaits (KaaCoroutine *co,
             gpointer      data)
{
  guint below = GPOINTER_TO_UINT (data);
  KaaInProgress *awaited = below == 0 ? kaa_sleep (3600 * 1000)
                                      : kaa_coroutine_spawn (body_awaits,
                                                             GUINT_TO_POINTER (below - 1),
                                                             NULL);

  kaa_await (awaited, NULL);
}

static gdouble
run_chain (guint depth)
{
  KaaInProgress *top = kaa_coroutine_spawn (body_awaits, GUINT_TO_POINTER (depth - 1), NULL);
  gint64 start = kaa_bench_now_ns ();

  kaa_in_progress_cancel (top);
  start = kaa_bench_now_ns () - start;
  if (kaa_in_progress_get_state (top) != KAA_STATE_CANCELLED)
    kaa_bench_die ("the chain of %u was not cancelled", depth);
  kaa_in_progress_unref (top);
  return (gdouble) start / depth;
}

static gdouble
run_chain_best (guint depth,
                guint reps)
{
  gdouble best = G_MAXDOUBLE;

  for (guint i = 0; i < reps; i++)
    best = MIN (best, run_chain (depth));
  return best;
}

static gdouble
run_follow (guint n)
{
  KaaInProgress **links = g_new (KaaInProgress *, n + 1);
  gint64 start;

  links[0] = kaa_in_progress_new ();
  for (guint i = 1; i <= n; i++)
    {
      links[i] = kaa_in_progress_new ();
      kaa_in_progress_finish_from (links[i], kaa_in_progress_ref (links[i - 1]));
    }
  start = kaa_bench_now_ns ();
  kaa_in_progress_cancel (links[n]);
  start = kaa_bench_now_ns () - start;
  if (kaa_in_progress_get_state (links[0]) != KAA_STATE_CANCELLED)
    kaa_bench_die ("the finish_from chain of %u was not cancelled", n);
  for (guint i = 0; i <= n; i++)
    kaa_in_progress_unref (links[i]);
  g_free (links);
  return (gdouble) start / n;
}

static void
body_awaits_shared (KaaCoroutine *co,
                    gpointer      data)
{
  kaa_await (kaa_in_progress_ref (data), NULL);
}

/* Oldest first: the worst order for a callback list walked from its
 * newest end. */
static gdouble
run_shared (guint n)
{
  KaaInProgress *shared = kaa_in_progress_new ();
  KaaInProgress **awaiters = g_new (KaaInProgress *, n);
  gint64 start;

  for (guint i = 0; i < n; i++)
    awaiters[i] = kaa_coroutine_spawn (body_awaits_shared, shared, NULL);
  start = kaa_bench_now_ns ();
  for (guint i = 0; i < n; i++)
    kaa_in_progress_cancel (awaiters[i]);
  start = kaa_bench_now_ns () - start;
  for (guint i = 0; i < n; i++)
    kaa_in_progress_unref (awaiters[i]);
  g_free (awaiters);
  kaa_in_progress_cancel (shared);
  kaa_in_progress_unref (shared);
  return (gdouble) start / n;
}

static void
on_cancelled (GCancellable *cancellable,
              gpointer      data)
{
  (*(guint *) data)++;
}

static gdouble
run_cancellables (guint n)
{
  GCancellable **cancellables = g_new (GCancellable *, n);
  guint count = 0;
  gint64 start;

  for (guint i = 0; i < n; i++)
    {
      cancellables[i] = g_cancellable_new ();
      g_cancellable_connect (cancellables[i], G_CALLBACK (on_cancelled), &count, NULL);
    }
  start = kaa_bench_now_ns ();
  for (guint i = 0; i < n; i++)
    g_cancellable_cancel (cancellables[i]);
  start = kaa_bench_now_ns () - start;
  for (guint i = 0; i < n; i++)
    g_object_unref (cancellables[i]);
  g_free (cancellables);
  return (gdouble) start / n;
}

static void
run_round (gpointer  data,
           guint     n_ops,
           gdouble  *values)
{
  GMainContext *context = data;

  values[S_CHAIN_1000] = run_chain_best (1000, n_ops);
  values[S_CHAIN_10000] = run_chain (10000);
  values[S_CHAIN_100000] = run_chain (quick ? 20000 : 100000);
  values[S_FOLLOW_1000000] = run_follow (quick ? 20000 : 1000000);
  values[S_SHARED_1000] = run_shared (1000);
  values[S_SHARED_100000] = run_shared (quick ? 10000 : 100000);
  values[S_CANCELLABLE] = run_cancellables (10000);
  while (g_main_context_iteration (context, FALSE))
    ;
}

int
main (int   argc,
      char *argv[])
{
  KaaBench run = { 0 };
  KaaBenchStats stats[N_SAMPLES];
  GMainContext *context;

  kaa_bench_init (&run, "cascade", "- the cancel cascade per level and per awaiter",
                  50, 5, &argc, &argv);
  quick = run.quick;
  context = g_main_context_new ();
  g_main_context_push_thread_default (context);

  kaa_bench_measure (&run, N_SAMPLES, run_round, context, stats);
  kaa_bench_report (&run, rows, G_N_ELEMENTS (rows), stats);

  g_main_context_pop_thread_default (context);
  while (g_main_context_iteration (context, FALSE))
    ;
  g_main_context_unref (context);
  kaa_bench_clear (&run);
  return EXIT_SUCCESS;
}
