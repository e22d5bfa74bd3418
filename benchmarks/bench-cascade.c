/* bench-cascade.c: what a cancel cascade costs per level and per awaiter
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * DESIGN §6 and issue #15: cancel is flat at any depth, and giving up
 * one of N awaiters of one InProgress costs O(1). Each row against the
 * GLib way of doing the same, in the same process and run (kaa-bench.h).
 * Only the cancel is timed, never the building.
 *
 *  chain-N           cancel the top of a chain of N coroutines, each
 *                    awaiting the next: the whole chain unwinds before
 *                    the cancel returns; time per level; peer: cancelling
 *                    a GCancellable with one handler, the flat cost of one
 *                    step. The 1000-deep chain is built and cancelled
 *                    --ops times per run and the run keeps the fastest: on
 *                    a loaded machine, that is the figure that says what
 *                    the code costs.
 *  follow-1000000    cancel the last link of a finish_from chain; time
 *                    per link; same peer
 *  shared-N          N coroutines await one InProgress and are cancelled,
 *                    oldest first (each detaches from it: the worst order
 *                    for a callback list walked from its newest end); time
 *                    per awaiter; peer: N handlers on one GCancellable,
 *                    disconnected oldest first
 *  any-repeated-N    kaa_any() over one input repeated N times, then the
 *                    input finishes; time per input; peer: N handlers on
 *                    one GCancellable, then it is cancelled
 *
 * chain-1000000 maps a million coroutine stacks: building one takes the
 * better part of a minute and 5 GiB here, and its cancel seconds more,
 * so it is measured apart, in one round without a warm-up, whatever
 * --runs says (its JSON line says "runs": 1). --quick makes every big N
 * small, chain-1000000 included, and runs it as the other rows.
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
  S_CANCELLABLE,
  S_SHARED_1000,
  S_HANDLERS_1000,
  S_SHARED_100000,
  S_HANDLERS_100000,
  S_ANY_50000,
  S_EMIT_50000,
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
  { "shared-1000", "cancel 1 000 awaiters of one, oldest first, per awaiter", S_SHARED_1000,
    "GCancellable: 1 000 handlers disconnected", S_HANDLERS_1000, 0, KAA_BENCH_NS },
  { "shared-100000", "cancel 100 000 awaiters of one, oldest first, per awaiter",
    S_SHARED_100000, "GCancellable: 100 000 handlers disconnected", S_HANDLERS_100000, 0,
    KAA_BENCH_NS },
  { "any-repeated-50000", "kaa_any over one input 50 000 times, per input", S_ANY_50000,
    "GCancellable: 50 000 handlers, cancelled", S_EMIT_50000, 0, KAA_BENCH_NS },
};

typedef enum
{
  D_CHAIN_1000000,
  D_CANCELLABLE,
  N_DEEP_SAMPLES
} DeepSample;

static const KaaBenchRow deep_rows[] = {
  { "chain-1000000", "cancel a 1 000 000-deep coroutine chain, per level",
    D_CHAIN_1000000, "g_cancellable_cancel, one handler", D_CANCELLABLE, 0, KAA_BENCH_NS },
};

static gboolean quick;
static GMainContext *context;

static void
drain (void)
{
  while (g_main_context_iteration (context, FALSE))
    ;
}

/* ------------------------------------------------------------- chains */

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

/* ns per level. */
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

/* ns per link. */
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
on_cancelled (GCancellable *cancellable,
              gpointer      data)
{
  (*(guint *) data)++;
}

/* ns per GCancellable: each cancelled, with one handler. */
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

/* ----------------------------------------------- awaiters of one thing */

static void
body_awaits_shared (KaaCoroutine *co,
                    gpointer      data)
{
  kaa_await (kaa_in_progress_ref (data), NULL);
}

/* ns per awaiter. */
static gdouble
run_shared (guint n)
{
  g_autoptr(KaaInProgress) shared = kaa_in_progress_new ();
  KaaInProgress **awaiters = g_new (KaaInProgress *, n);
  gint64 start;
  gdouble ns;

  for (guint i = 0; i < n; i++)
    awaiters[i] = kaa_coroutine_spawn (body_awaits_shared, shared, NULL);
  start = kaa_bench_now_ns ();
  for (guint i = 0; i < n; i++)
    kaa_in_progress_cancel (awaiters[i]);
  ns = (gdouble) (kaa_bench_now_ns () - start) / n;
  for (guint i = 0; i < n; i++)
    {
      if (kaa_in_progress_get_state (awaiters[i]) != KAA_STATE_CANCELLED)
        kaa_bench_die ("awaiter %u was not cancelled", i);
      kaa_in_progress_unref (awaiters[i]);
    }
  g_free (awaiters);
  kaa_in_progress_finish_pointer (shared, NULL, NULL);
  drain ();
  return ns;
}

/* ns per handler. */
static gdouble
run_disconnect_handlers (guint n)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  gulong *ids = g_new (gulong, n);
  guint calls = 0;
  gint64 start;
  gdouble ns;

  for (guint i = 0; i < n; i++)
    ids[i] = g_signal_connect (cancellable, "cancelled", G_CALLBACK (on_cancelled), &calls);
  start = kaa_bench_now_ns ();
  for (guint i = 0; i < n; i++)
    g_signal_handler_disconnect (cancellable, ids[i]);
  ns = (gdouble) (kaa_bench_now_ns () - start) / n;
  g_free (ids);
  return ns;
}

/* ns per input: building the group and settling it, which drops the
 * other connections to the input. */
static gdouble
run_any_repeated (guint n)
{
  g_autoptr(KaaInProgress) input = kaa_in_progress_new ();
  KaaInProgress **inputs = g_new (KaaInProgress *, n);
  KaaInProgress *any;
  gint64 start;
  gdouble ns;

  for (guint i = 0; i < n; i++)
    inputs[i] = kaa_in_progress_ref (input);   /* kaa_any takes each */
  start = kaa_bench_now_ns ();
  any = kaa_any (inputs, n);
  kaa_in_progress_finish_pointer (input, NULL, NULL);
  drain ();
  ns = (gdouble) (kaa_bench_now_ns () - start) / n;
  if (kaa_in_progress_get_int64 (any) != 0)
    kaa_bench_die ("kaa_any picked input %" G_GINT64_FORMAT, kaa_in_progress_get_int64 (any));
  kaa_in_progress_unref (any);
  g_free (inputs);
  return ns;
}

/* ns per handler: connecting them, then one cancel that calls them all. */
static gdouble
run_cancel_handlers (guint n)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  guint calls = 0;
  gint64 start;
  gdouble ns;

  start = kaa_bench_now_ns ();
  for (guint i = 0; i < n; i++)
    g_signal_connect (cancellable, "cancelled", G_CALLBACK (on_cancelled), &calls);
  g_cancellable_cancel (cancellable);
  ns = (gdouble) (kaa_bench_now_ns () - start) / n;
  if (calls != n)
    kaa_bench_die ("%u handlers of %u ran", calls, n);
  return ns;
}

/* -------------------------------------------------------------- rounds */

static void
body_returns (KaaCoroutine *co,
              gpointer      data)
{
}

/* The stack pool gives the pages of its surplus stacks back when a main
 * loop has slept with nothing to do (kaa-scheduler-trim.c); this
 * benchmark's loop never sleeps, so no trim lands in a timed row. When
 * frees trimmed, a batch of madvise() after a big chain landed inside
 * whichever timed cancel freed the next stack; the pause and the free
 * here, kept so that the rows run as they did then, paid for it. */
static void
settle_stack_pool (void)
{
  if (quick)
    return;
  g_usleep (1100 * 1000);
  kaa_in_progress_unref (kaa_coroutine_spawn (body_returns, NULL, NULL));
}

static void
run_round (gpointer  data,
           guint     n_ops,
           gdouble  *values)
{
  guint big = quick ? 10000 : 100000;

  settle_stack_pool ();
  values[S_CHAIN_1000] = run_chain_best (1000, n_ops);
  values[S_CHAIN_10000] = run_chain (10000);
  values[S_CHAIN_100000] = run_chain (quick ? 20000 : 100000);
  values[S_FOLLOW_1000000] = run_follow (quick ? 20000 : 1000000);
  values[S_CANCELLABLE] = run_cancellables (10000);
  settle_stack_pool ();
  values[S_SHARED_1000] = run_shared (1000);
  values[S_HANDLERS_1000] = run_disconnect_handlers (1000);
  values[S_SHARED_100000] = run_shared (big);
  values[S_HANDLERS_100000] = run_disconnect_handlers (big);
  values[S_ANY_50000] = run_any_repeated (big / 2);
  values[S_EMIT_50000] = run_cancel_handlers (big / 2);
  drain ();
}

static void
run_deep_round (gpointer  data,
                guint     n_ops,
                gdouble  *values)
{
  values[D_CHAIN_1000000] = run_chain (quick ? 20000 : 1000000);
  values[D_CANCELLABLE] = run_cancellables (10000);
  drain ();
}

/* One round, no warm-up: the rounds before have paged in what a warm-up
 * would, and a second million-deep chain would double the run. */
static void
measure_once (KaaBench          *bench,
              guint              n_samples,
              KaaBenchRoundFunc  round,
              KaaBenchStats     *stats)
{
  g_autofree gdouble *values = g_new (gdouble, n_samples);

  bench->runs = 1;
  round (NULL, bench->n_ops, values);
  for (guint s = 0; s < n_samples; s++)
    stats[s] = (KaaBenchStats) { values[s], values[s], values[s] };
}

int
main (int   argc,
      char *argv[])
{
  KaaBench run = { 0 };
  KaaBench deep;
  KaaBenchStats stats[N_SAMPLES];
  KaaBenchStats deep_stats[N_DEEP_SAMPLES];

  kaa_bench_init (&run, "cascade", "- the cancel cascade per level and per awaiter",
                  50, 5, &argc, &argv);
  quick = run.quick;
  context = g_main_context_new ();
  g_main_context_push_thread_default (context);

  kaa_bench_measure (&run, N_SAMPLES, run_round, NULL, stats);
  kaa_bench_report (&run, rows, G_N_ELEMENTS (rows), stats);

  /* The same options; only the number of runs differs. */
  deep = run;
  if (quick)
    kaa_bench_measure (&deep, N_DEEP_SAMPLES, run_deep_round, NULL, deep_stats);
  else
    measure_once (&deep, N_DEEP_SAMPLES, run_deep_round, deep_stats);
  printf ("\n");
  kaa_bench_report (&deep, deep_rows, G_N_ELEMENTS (deep_rows), deep_stats);

  g_main_context_pop_thread_default (context);
  drain ();
  g_main_context_unref (context);
  kaa_bench_clear (&run);
  return EXIT_SUCCESS;
}
