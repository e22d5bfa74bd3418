/* bench-channel.c: KaaChannel against GLib's ways of passing items
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Cases (issue #18 §1):
 *  co-ping-pong    a round trip between two coroutines through two
 *                  rendezvous channels; peer: two idle callbacks handing
 *                  an item back and forth through two GQueues
 *  co-flood        1 000 000 items from one coroutine to another through a
 *                  channel of 128, per item; peer: two idle sources, one
 *                  filling a GQueue up to 128 per dispatch, one draining it
 *  thread-ping-pong  a round trip between a thread (blocking forms) and a
 *                  coroutine; peer: g_main_context_invoke() to the loop,
 *                  a GAsyncQueue back
 *  thread-flood    1 000 000 items from a thread to a coroutine through a
 *                  channel of 1024, per item; peer: a GAsyncQueue push and
 *                  a g_main_context_invoke() per item, the loop popping
 *  signal-stream   100 000 emissions of GAction::activate, queued by a
 *                  signal stream (their arguments copied as GValues) and
 *                  read by a coroutine, per emission; peer: a handler
 *                  pushing the parameter onto a GQueue that an idle drains
 *
 * libdex's DexChannel measured 3.6 µs per ping-pong round trip on the
 * machine of the issue; its goal is 5× better, 0.72 µs.
 */
#include <stdio.h>
#include <stdlib.h>

#include "kaa-bench.h"

#define DEFAULT_OPS 200000
#define QUICK_OPS   20000
#define FLOOD       1000000
#define QUICK_FLOOD 50000
#define CO_ROOM     128
#define THREAD_ROOM 1024

enum
{
  S_CO_PING, S_IDLE_PING,
  S_CO_FLOOD, S_IDLE_FLOOD,
  S_THREAD_PING, S_INVOKE_PING,
  S_THREAD_FLOOD, S_INVOKE_FLOOD,
  S_SIGNAL, S_HANDLER,
  N_SAMPLES
};

static const KaaBenchRow rows[] = {
  { "co-ping-pong", "round trip, coroutine to coroutine", S_CO_PING,
    "two idle callbacks through GQueues", S_IDLE_PING, 5, KAA_BENCH_NS },
  { "co-flood", "1 000 000 items, coroutine to coroutine, per item", S_CO_FLOOD,
    "two idle sources through a GQueue", S_IDLE_FLOOD, 0, KAA_BENCH_NS },
  { "thread-ping-pong", "round trip, thread to coroutine", S_THREAD_PING,
    "g_main_context_invoke + GAsyncQueue", S_INVOKE_PING, 0, KAA_BENCH_NS },
  { "thread-flood", "1 000 000 items, thread to coroutine, per item", S_THREAD_FLOOD,
    "GAsyncQueue + g_main_context_invoke", S_INVOKE_FLOOD, 0, KAA_BENCH_NS },
  { "signal-stream", "100 000 emissions through a signal stream, per emission", S_SIGNAL,
    "a handler queueing into a GQueue, an idle draining", S_HANDLER, 0, KAA_BENCH_NS },
};

static gboolean quick;

typedef struct
{
  GMainContext *context;
  KaaChannel   *there;
  KaaChannel   *back;
  guint         n;
  guint         count;
  GQueue        queues[2];
  GAsyncQueue  *async;
} Bench;

static guint
flood_items (void)
{
  return quick ? QUICK_FLOOD : FLOOD;
}

static void
pump_until_done (Bench         *bench,
                 KaaInProgress *ip)
{
  while (!kaa_in_progress_is_done (ip))
    g_main_context_iteration (bench->context, TRUE);
  kaa_in_progress_unref (ip);
}

/* ---------------------------------------------------- coroutine ping-pong */

static void
body_server (KaaCoroutine *co,
             gpointer      data)
{
  Bench *bench = data;
  gpointer item;

  while (kaa_channel_await_next (bench->there, &item, NULL))
    if (!kaa_channel_await_send (bench->back, item, NULL))
      return;
}

static void
body_client (KaaCoroutine *co,
             gpointer      data)
{
  Bench *bench = data;
  gpointer item;

  for (guint i = 0; i < bench->n; i++)
    {
      if (!kaa_channel_await_send (bench->there, GUINT_TO_POINTER (i), NULL) ||
          !kaa_channel_await_next (bench->back, &item, NULL))
        kaa_bench_die ("ping-pong: the channel failed");
    }
  kaa_channel_close (bench->there);
}

static gdouble
run_co_ping (Bench *bench,
             guint  n_ops)
{
  KaaInProgress *server, *client;
  gint64 start = kaa_bench_now_ns ();

  bench->there = kaa_channel_new (0);
  bench->back = kaa_channel_new (0);
  bench->n = n_ops;
  server = kaa_coroutine_spawn (body_server, bench, NULL);
  client = kaa_coroutine_spawn (body_client, bench, NULL);
  pump_until_done (bench, client);
  pump_until_done (bench, server);
  g_clear_pointer (&bench->there, kaa_channel_unref);
  g_clear_pointer (&bench->back, kaa_channel_unref);
  return (gdouble) (kaa_bench_now_ns () - start) / n_ops;
}

static void idle_attach (Bench       *bench,
                         GSourceFunc  func);

static gboolean idle_pong (gpointer data);

static gboolean
idle_ping (gpointer data)
{
  Bench *bench = data;

  /* The first call starts the ball. */
  if (!g_queue_is_empty (&bench->queues[1]))
    g_queue_pop_head (&bench->queues[1]);
  if (bench->count++ < bench->n)
    {
      g_queue_push_tail (&bench->queues[0], GUINT_TO_POINTER (bench->count));
      idle_attach (bench, idle_pong);
    }
  return G_SOURCE_REMOVE;
}

static gboolean
idle_pong (gpointer data)
{
  Bench *bench = data;

  g_queue_push_tail (&bench->queues[1], g_queue_pop_head (&bench->queues[0]));
  idle_attach (bench, idle_ping);
  return G_SOURCE_REMOVE;
}

static void
idle_attach (Bench       *bench,
             GSourceFunc  func)
{
  GSource *source = g_idle_source_new ();

  g_source_set_callback (source, func, bench, NULL);
  g_source_attach (source, bench->context);
  g_source_unref (source);
}

static gdouble
run_idle_ping (Bench *bench,
               guint  n_ops)
{
  gint64 start = kaa_bench_now_ns ();

  bench->n = n_ops;
  bench->count = 0;
  idle_attach (bench, idle_ping);
  while (bench->count <= bench->n)
    g_main_context_iteration (bench->context, TRUE);
  return (gdouble) (kaa_bench_now_ns () - start) / n_ops;
}

/* ------------------------------------------------------ coroutine flood */

static void
body_flood_sender (KaaCoroutine *co,
                   gpointer      data)
{
  Bench *bench = data;

  for (guint i = 0; i < bench->n; i++)
    if (!kaa_channel_await_send (bench->there, GUINT_TO_POINTER (i), NULL))
      return;
  kaa_channel_close (bench->there);
}

static void
body_flood_receiver (KaaCoroutine *co,
                     gpointer      data)
{
  Bench *bench = data;
  gpointer item;

  while (kaa_channel_await_next (bench->there, &item, NULL))
    bench->count++;
}

static gdouble
run_co_flood (Bench *bench)
{
  KaaInProgress *sender, *receiver;
  guint n = flood_items ();
  gint64 start = kaa_bench_now_ns ();

  bench->there = kaa_channel_new (CO_ROOM);
  bench->n = n;
  bench->count = 0;
  receiver = kaa_coroutine_spawn (body_flood_receiver, bench, NULL);
  sender = kaa_coroutine_spawn (body_flood_sender, bench, NULL);
  pump_until_done (bench, sender);
  pump_until_done (bench, receiver);
  if (bench->count != n)
    kaa_bench_die ("flood: %u items of %u", bench->count, n);
  g_clear_pointer (&bench->there, kaa_channel_unref);
  return (gdouble) (kaa_bench_now_ns () - start) / n;
}

static gboolean
idle_fill (gpointer data)
{
  Bench *bench = data;

  while (bench->queues[0].length < CO_ROOM && bench->n > 0)
    {
      g_queue_push_tail (&bench->queues[0], GUINT_TO_POINTER (bench->n));
      bench->n--;
    }
  return bench->n > 0 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static gboolean
idle_drain (gpointer data)
{
  Bench *bench = data;

  while (!g_queue_is_empty (&bench->queues[0]))
    {
      g_queue_pop_head (&bench->queues[0]);
      bench->count++;
    }
  return bench->n > 0 || !g_queue_is_empty (&bench->queues[0])
         ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static gdouble
run_idle_flood (Bench *bench)
{
  guint n = flood_items ();
  gint64 start = kaa_bench_now_ns ();

  bench->n = n;
  bench->count = 0;
  idle_attach (bench, idle_fill);
  idle_attach (bench, idle_drain);
  while (bench->count < n)
    g_main_context_iteration (bench->context, TRUE);
  return (gdouble) (kaa_bench_now_ns () - start) / n;
}

/* ------------------------------------------------------ thread ping-pong */

static gpointer
thread_client (gpointer data)
{
  Bench *bench = data;
  gpointer item;

  for (guint i = 0; i < bench->n; i++)
    {
      if (!kaa_channel_send_blocking (bench->there, GUINT_TO_POINTER (i + 1), NULL, NULL) ||
          !kaa_channel_receive_blocking (bench->back, &item, NULL, NULL))
        kaa_bench_die ("thread ping-pong: the channel failed");
    }
  kaa_channel_close (bench->there);
  return NULL;
}

static gdouble
run_thread_ping (Bench *bench,
                 guint  n_ops)
{
  KaaInProgress *server;
  GThread *thread;
  gint64 start = kaa_bench_now_ns ();

  bench->there = kaa_channel_new (0);
  bench->back = kaa_channel_new (0);
  bench->n = n_ops;
  server = kaa_coroutine_spawn (body_server, bench, NULL);
  thread = g_thread_new ("bench-client", thread_client, bench);
  pump_until_done (bench, server);
  g_thread_join (thread);
  g_clear_pointer (&bench->there, kaa_channel_unref);
  g_clear_pointer (&bench->back, kaa_channel_unref);
  return (gdouble) (kaa_bench_now_ns () - start) / n_ops;
}

static gboolean
invoked_pong (gpointer data)
{
  Bench *bench = data;

  g_async_queue_push (bench->async, GUINT_TO_POINTER (1));
  bench->count++;
  return G_SOURCE_REMOVE;
}

static gpointer
thread_invoke_client (gpointer data)
{
  Bench *bench = data;

  for (guint i = 0; i < bench->n; i++)
    {
      g_main_context_invoke (bench->context, invoked_pong, bench);
      g_async_queue_pop (bench->async);
    }
  return NULL;
}

static gdouble
run_invoke_ping (Bench *bench,
                 guint  n_ops)
{
  GThread *thread;
  gint64 start = kaa_bench_now_ns ();

  bench->n = n_ops;
  bench->count = 0;
  thread = g_thread_new ("bench-client", thread_invoke_client, bench);
  while (bench->count < n_ops)
    g_main_context_iteration (bench->context, TRUE);
  g_thread_join (thread);
  return (gdouble) (kaa_bench_now_ns () - start) / n_ops;
}

/* --------------------------------------------------------- thread flood */

static gpointer
thread_flood (gpointer data)
{
  Bench *bench = data;

  for (guint i = 0; i < bench->n; i++)
    if (!kaa_channel_send_blocking (bench->there, GUINT_TO_POINTER (i + 1), NULL, NULL))
      kaa_bench_die ("thread flood: the channel failed");
  kaa_channel_close (bench->there);
  return NULL;
}

static gdouble
run_thread_flood (Bench *bench)
{
  KaaInProgress *receiver;
  GThread *thread;
  guint n = flood_items ();
  gint64 start = kaa_bench_now_ns ();

  bench->there = kaa_channel_new (THREAD_ROOM);
  bench->n = n;
  bench->count = 0;
  receiver = kaa_coroutine_spawn (body_flood_receiver, bench, NULL);
  thread = g_thread_new ("bench-flood", thread_flood, bench);
  pump_until_done (bench, receiver);
  g_thread_join (thread);
  if (bench->count != n)
    kaa_bench_die ("thread flood: %u items of %u", bench->count, n);
  g_clear_pointer (&bench->there, kaa_channel_unref);
  return (gdouble) (kaa_bench_now_ns () - start) / n;
}

static gboolean
invoked_pop (gpointer data)
{
  Bench *bench = data;

  g_async_queue_pop (bench->async);
  bench->count++;
  return G_SOURCE_REMOVE;
}

static gpointer
thread_invoke_flood (gpointer data)
{
  Bench *bench = data;

  for (guint i = 0; i < bench->n; i++)
    {
      g_async_queue_push (bench->async, GUINT_TO_POINTER (i + 1));
      g_main_context_invoke (bench->context, invoked_pop, bench);
    }
  return NULL;
}

static gdouble
run_invoke_flood (Bench *bench)
{
  GThread *thread;
  guint n = flood_items ();
  gint64 start = kaa_bench_now_ns ();

  bench->n = n;
  bench->count = 0;
  thread = g_thread_new ("bench-flood", thread_invoke_flood, bench);
  while (bench->count < n)
    g_main_context_iteration (bench->context, TRUE);
  g_thread_join (thread);
  return (gdouble) (kaa_bench_now_ns () - start) / n;
}

/* -------------------------------------------------------- signal stream */

#define EMISSIONS_PER_TURN 128

static void
body_stream_reader (KaaCoroutine *co,
                    gpointer      data)
{
  Bench *bench = data;
  gpointer args;

  while (kaa_channel_await_next (bench->there, &args, NULL))
    {
      g_array_unref (args);
      bench->count++;
    }
}

/* Emits in turns, as events come between iterations of a busy loop. */
static void
emit_all (Bench   *bench,
          GAction *action,
          guint    n)
{
  for (guint i = 0; i < n; i++)
    {
      g_action_activate (action, NULL);
      if (i % EMISSIONS_PER_TURN == EMISSIONS_PER_TURN - 1)
        g_main_context_iteration (bench->context, FALSE);
    }
}

static gdouble
run_signal_stream (Bench *bench)
{
  g_autoptr(GSimpleAction) action = g_simple_action_new ("tick", NULL);
  KaaInProgress *reader;
  guint n = flood_items () / 10;
  gint64 start = kaa_bench_now_ns ();

  bench->there = kaa_channel_new_for_signal (action, "activate", EMISSIONS_PER_TURN,
                                             KAA_OVERFLOW_FAIL);
  bench->count = 0;
  reader = kaa_coroutine_spawn (body_stream_reader, bench, NULL);
  emit_all (bench, G_ACTION (action), n);
  kaa_channel_close (bench->there);
  pump_until_done (bench, reader);
  if (bench->count != n)
    kaa_bench_die ("signal stream: %u emissions of %u", bench->count, n);
  g_clear_pointer (&bench->there, kaa_channel_unref);
  return (gdouble) (kaa_bench_now_ns () - start) / n;
}

static void
handler_queue (GSimpleAction *action,
               GVariant      *parameter,
               gpointer       data)
{
  Bench *bench = data;

  g_queue_push_tail (&bench->queues[0], parameter != NULL ? g_variant_ref (parameter) : NULL);
}

static gboolean
idle_drain_emissions (gpointer data)
{
  Bench *bench = data;

  while (!g_queue_is_empty (&bench->queues[0]))
    {
      GVariant *parameter = g_queue_pop_head (&bench->queues[0]);

      g_clear_pointer (&parameter, g_variant_unref);
      bench->count++;
    }
  return bench->count < bench->n ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static gdouble
run_signal_handler (Bench *bench)
{
  g_autoptr(GSimpleAction) action = g_simple_action_new ("tick", NULL);
  guint n = flood_items () / 10;
  gint64 start = kaa_bench_now_ns ();

  bench->n = n;
  bench->count = 0;
  g_signal_connect (action, "activate", G_CALLBACK (handler_queue), bench);
  idle_attach (bench, idle_drain_emissions);
  emit_all (bench, G_ACTION (action), n);
  while (bench->count < n)
    g_main_context_iteration (bench->context, TRUE);
  return (gdouble) (kaa_bench_now_ns () - start) / n;
}

/* ------------------------------------------------------------ main */

static void
run_round (gpointer  data,
           guint     n_ops,
           gdouble  *values)
{
  Bench *bench = data;

  values[S_CO_PING] = run_co_ping (bench, n_ops);
  values[S_IDLE_PING] = run_idle_ping (bench, n_ops);
  values[S_CO_FLOOD] = run_co_flood (bench);
  values[S_IDLE_FLOOD] = run_idle_flood (bench);
  values[S_THREAD_PING] = run_thread_ping (bench, n_ops / 4);
  values[S_INVOKE_PING] = run_invoke_ping (bench, n_ops / 4);
  values[S_THREAD_FLOOD] = run_thread_flood (bench);
  values[S_INVOKE_FLOOD] = run_invoke_flood (bench);
  values[S_SIGNAL] = run_signal_stream (bench);
  values[S_HANDLER] = run_signal_handler (bench);
}

int
main (int   argc,
      char *argv[])
{
  KaaBench run = { 0 };
  KaaBenchStats stats[N_SAMPLES];
  Bench bench = { 0 };

  kaa_bench_init (&run, "channel", "- KaaChannel against GLib's ways of passing items",
                  DEFAULT_OPS, QUICK_OPS, &argc, &argv);
  quick = run.quick;
  bench.context = g_main_context_new ();
  bench.async = g_async_queue_new ();
  g_queue_init (&bench.queues[0]);
  g_queue_init (&bench.queues[1]);
  g_main_context_push_thread_default (bench.context);

  kaa_bench_measure (&run, N_SAMPLES, run_round, &bench, stats);
  kaa_bench_report (&run, rows, G_N_ELEMENTS (rows), stats);

  g_main_context_pop_thread_default (bench.context);
  while (g_main_context_iteration (bench.context, FALSE))
    ;
  g_main_context_unref (bench.context);
  g_async_queue_unref (bench.async);
  kaa_bench_clear (&run);
  return EXIT_SUCCESS;
}
