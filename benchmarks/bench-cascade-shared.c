/* bench-cascade-shared.c: many awaiters of one shared InProgress
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Issue #15 §4: giving up one of N awaiters of one InProgress must cost
 * O(1), whatever N (DESIGN §6). Each row against the GLib way of having
 * N parties wait on one thing, in the same process and run (kaa-bench.h):
 *
 *  cancel-awaiters-N  N coroutines await one shared InProgress; each is
 *                     cancelled, oldest first (each one disconnects its
 *                     callback from the shared one); time per awaiter;
 *                     peer: N handlers on one GCancellable, disconnected
 *                     oldest first
 *  any-repeated-N     kaa_any() over one input repeated N times, then the
 *                     input finishes; time per input; peer: N handlers on
 *                     one GCancellable, then it is cancelled
 */
#include <stdio.h>
#include <stdlib.h>

#include "kaa-bench.h"

/* Not used: each row has its own N, fixed by the issue. */
#define DEFAULT_OPS 1
#define QUICK_OPS   1

enum
{
  S_CANCEL_1000, S_HANDLERS_1000,
  S_CANCEL_100000, S_HANDLERS_100000,
  S_ANY_50000, S_EMIT_50000,
  N_SAMPLES
};

static const KaaBenchRow rows[] = {
  { "cancel-awaiters-1000", "cancel 1 000 awaiters of one, oldest first", S_CANCEL_1000,
    "GCancellable: 1 000 handlers disconnected", S_HANDLERS_1000, 0, KAA_BENCH_NS },
  { "cancel-awaiters-100000", "cancel 100 000 awaiters of one, oldest first", S_CANCEL_100000,
    "GCancellable: 100 000 handlers disconnected", S_HANDLERS_100000, 0, KAA_BENCH_NS },
  { "any-repeated-50000", "kaa_any over one input 50 000 times", S_ANY_50000,
    "GCancellable: 50 000 handlers, cancelled", S_EMIT_50000, 0, KAA_BENCH_NS },
};

static GMainContext *context;

static void
drain (void)
{
  while (g_main_context_iteration (context, FALSE))
    ;
}

static void
body_awaits_shared (KaaCoroutine *co,
                    gpointer      data)
{
  kaa_await (kaa_in_progress_ref (data), NULL);
}

/* ns per awaiter: spawning them is not timed, only the cancels. */
static gdouble
run_cancel_awaiters (guint n)
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

static void
count_handler (GCancellable *cancellable,
               gpointer      data)
{
  (*(guint *) data)++;
}

static gdouble
run_disconnect_handlers (guint n)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  gulong *ids = g_new (gulong, n);
  guint calls = 0;
  gint64 start;
  gdouble ns;

  for (guint i = 0; i < n; i++)
    ids[i] = g_signal_connect (cancellable, "cancelled", G_CALLBACK (count_handler), &calls);
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

static gdouble
run_cancel_handlers (guint n)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  guint calls = 0;
  gint64 start;
  gdouble ns;

  start = kaa_bench_now_ns ();
  for (guint i = 0; i < n; i++)
    g_signal_connect (cancellable, "cancelled", G_CALLBACK (count_handler), &calls);
  g_cancellable_cancel (cancellable);
  ns = (gdouble) (kaa_bench_now_ns () - start) / n;
  if (calls != n)
    kaa_bench_die ("%u handlers of %u ran", calls, n);
  return ns;
}

static gboolean quick;

/* The rows of issue #15 §4, kept in one function of their own so that the
 * deep-chain rows can grow beside them. */
static void
run_shared_rows (gdouble *values)
{
  guint big = quick ? 10000 : 100000;

  values[S_CANCEL_1000] = run_cancel_awaiters (1000);
  values[S_HANDLERS_1000] = run_disconnect_handlers (1000);
  values[S_CANCEL_100000] = run_cancel_awaiters (big);
  values[S_HANDLERS_100000] = run_disconnect_handlers (big);
  values[S_ANY_50000] = run_any_repeated (big / 2);
  values[S_EMIT_50000] = run_cancel_handlers (big / 2);
}

static void
run_round (gpointer  data,
           guint     n_ops,
           gdouble  *values)
{
  run_shared_rows (values);
}

int
main (int   argc,
      char *argv[])
{
  KaaBench run = { 0 };
  KaaBenchStats stats[N_SAMPLES];

  kaa_bench_init (&run, "cascade-shared", "- many awaiters of one InProgress",
                  DEFAULT_OPS, QUICK_OPS, &argc, &argv);
  quick = run.quick;
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
