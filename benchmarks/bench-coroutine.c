/* bench-coroutine.c: the cost of a coroutine, against GLib's peers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Issue #3's benchmarks, each against the GLib way of doing the same
 * thing, in the same process and run (see kaa-bench.h):
 *
 *  yield-N       one yield and resume through the main loop, with N
 *                coroutines runnable; peer: one g_idle_add() per step
 *  spawn         spawn an empty coroutine, its callback on the next
 *                dispatch; peer: GTask new + return + callback
 *  ping-pong     a round trip between two coroutines through futures;
 *                peer: two idle callbacks handing the ball back and forth
 *  suspended     memory of one suspended coroutine (awaiting a future; a
 *                million of them, in a child process): the heap it holds
 *                plus its resident stack; no GLib peer keeps a stack, so
 *                the row compares with the floor of any stackful
 *                coroutine, one page of stack (issue #3's goal: 6 KiB)
 *  lateness-p50/p99  median and 99th percentile lateness of a 5 ms
 *                periodic timer while 1000 tasks each burn 100 µs per
 *                slice; peer: the same
 *                tasks as idle callbacks
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "kaa-bench.h"

#define DEFAULT_OPS 200000
#define QUICK_OPS   20000

enum
{
  S_YIELD_1, S_IDLE_1,
  S_YIELD_100, S_IDLE_100,
  S_YIELD_10000, S_IDLE_10000,
  S_SPAWN, S_GTASK,
  S_PING, S_IDLE_PING,
  S_SUSPENDED, S_STACK_PAGE,
  S_LATE50_KAA, S_LATE50_IDLE,
  S_LATE_KAA, S_LATE_IDLE,
  N_SAMPLES
};

static const KaaBenchRow rows[] = {
  { "yield-1", "yield+resume, 1 runnable", S_YIELD_1,
    "g_idle_add per step", S_IDLE_1, 0, KAA_BENCH_NS },
  { "yield-100", "yield+resume, 100 runnable", S_YIELD_100,
    "g_idle_add per step", S_IDLE_100, 10, KAA_BENCH_NS },
  { "yield-10000", "yield+resume, 10 000 runnable", S_YIELD_10000,
    "g_idle_add per step", S_IDLE_10000, 0, KAA_BENCH_NS },
  { "spawn", "spawn empty coroutine + callback", S_SPAWN,
    "GTask new+return_pointer+callback", S_GTASK, 20, KAA_BENCH_NS },
  { "ping-pong", "round trip between two coroutines", S_PING,
    "two idle callbacks bouncing", S_IDLE_PING, 0, KAA_BENCH_NS },
  { "suspended", "memory of one suspended coroutine", S_SUSPENDED,
    "floor: one page of stack", S_STACK_PAGE, 0, KAA_BENCH_BYTES },
  { "lateness-p50", "5 ms timer lateness p50, 1000 busy", S_LATE50_KAA,
    "same tasks as idle callbacks", S_LATE50_IDLE, 0, KAA_BENCH_NS },
  { "lateness-p99", "5 ms timer lateness p99, 1000 busy", S_LATE_KAA,
    "same tasks as idle callbacks", S_LATE_IDLE, 0, KAA_BENCH_NS },
};

typedef struct
{
  GMainContext *context;
  guint         count;
  guint         target;
} Bench;

static void
drain_until (Bench *bench)
{
  while (bench->count < bench->target)
    g_main_context_iteration (bench->context, TRUE);
}

/* ------------------------------------------------------------ yield */


static void
idle_attach (Bench       *bench,
             GSourceFunc  func,
             gpointer     data)
{
  GSource *source = g_idle_source_new ();

  g_source_set_callback (source, func, data, NULL);
  g_source_attach (source, bench->context);
  g_source_unref (source);
}

static gboolean
idle_step (gpointer data)
{
  Bench *bench = data;

  /* The naive design: every step of every task is a new idle source. */
  if (++bench->count < bench->target)
    idle_attach (bench, idle_step, bench);
  return G_SOURCE_REMOVE;
}

static gdouble
run_idle_steps (Bench *bench,
                guint  n_tasks,
                guint  n_ops)
{
  gint64 start;

  bench->count = 0;
  bench->target = n_ops;
  start = kaa_bench_now_ns ();
  for (guint i = 0; i < n_tasks; i++)
    idle_attach (bench, idle_step, bench);
  while (g_main_context_iteration (bench->context, FALSE) || bench->count < bench->target)
    ;
  return (gdouble) (kaa_bench_now_ns () - start) / bench->count;
}

/* ------------------------------------------------------------ spawn */

static void
body_empty (KaaCoroutine *co,
            gpointer      data)
{
}

static void
count_settled (KaaInProgress *ip,
               gpointer       data)
{
  ((Bench *) data)->count++;
}

static gdouble
run_spawn (Bench *bench,
           guint  n_ops)
{
  gint64 start = kaa_bench_now_ns ();

  bench->count = 0;
  bench->target = n_ops;
  for (guint i = 0; i < n_ops; i++)
    {
      KaaInProgress *ip = kaa_coroutine_spawn (body_empty, NULL, NULL);

      kaa_in_progress_connect (ip, count_settled, bench, NULL);
      kaa_in_progress_unref (ip);
    }
  drain_until (bench);
  return (gdouble) (kaa_bench_now_ns () - start) / n_ops;
}

static void
task_done (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  ((Bench *) data)->count++;
}

static gdouble
run_gtask (Bench *bench,
           guint  n_ops)
{
  gint64 start = kaa_bench_now_ns ();

  bench->count = 0;
  bench->target = n_ops;
  for (guint i = 0; i < n_ops; i++)
    {
      GTask *task = g_task_new (NULL, NULL, task_done, bench);

      g_task_return_pointer (task, NULL, NULL);
      g_object_unref (task);
    }
  drain_until (bench);
  return (gdouble) (kaa_bench_now_ns () - start) / n_ops;
}

/* -------------------------------------------------------- ping-pong */

typedef struct
{
  KaaInProgress *ball[2];   /* what each player awaits */
  guint          rounds;
} Table;

typedef struct
{
  Table *table;
  guint  side;
} Player;

/* Makes the future it will be answered through, then finishes the one
 * the other side awaits, and waits for the answer. */
static void
body_player (KaaCoroutine *co,
             gpointer      data)
{
  Player *player = data;
  Table *table = player->table;

  for (guint i = 0; i < table->rounds; i++)
    {
      KaaInProgress *other = g_steal_pointer (&table->ball[1 - player->side]);

      table->ball[player->side] = kaa_in_progress_new ();
      if (other != NULL)
        {
          kaa_in_progress_finish_pointer (other, NULL, NULL);
          kaa_in_progress_unref (other);
        }
      if (!kaa_await (kaa_in_progress_ref (table->ball[player->side]), NULL))
        return;
    }
}

static gdouble
run_ping_pong (Bench *bench,
               guint  n_ops)
{
  Table table = { { NULL, NULL }, n_ops };
  Player players[2] = { { &table, 0 }, { &table, 1 } };
  KaaInProgress *a, *b;
  gint64 start = kaa_bench_now_ns ();

  a = kaa_coroutine_spawn (body_player, &players[0], NULL);
  b = kaa_coroutine_spawn (body_player, &players[1], NULL);
  while (!kaa_in_progress_is_done (a) || !kaa_in_progress_is_done (b))
    {
      /* The last ball has nobody to answer it. */
      if (kaa_in_progress_is_done (a) && table.ball[1] != NULL)
        kaa_in_progress_finish_pointer (table.ball[1], NULL, NULL);
      if (kaa_in_progress_is_done (b) && table.ball[0] != NULL)
        kaa_in_progress_finish_pointer (table.ball[0], NULL, NULL);
      g_main_context_iteration (bench->context, TRUE);
    }
  kaa_in_progress_unref (a);
  kaa_in_progress_unref (b);
  g_clear_pointer (&table.ball[0], kaa_in_progress_unref);
  g_clear_pointer (&table.ball[1], kaa_in_progress_unref);
  return (gdouble) (kaa_bench_now_ns () - start) / n_ops;
}

static gboolean
idle_bounce (gpointer data)
{
  Bench *bench = data;

  /* Two half-trips make one round trip. */
  if (++bench->count < 2 * bench->target)
    idle_attach (bench, idle_bounce, bench);
  return G_SOURCE_REMOVE;
}

static gdouble
run_idle_ping (Bench *bench,
               guint  n_ops)
{
  gint64 start = kaa_bench_now_ns ();

  bench->count = 0;
  bench->target = n_ops;
  idle_attach (bench, idle_bounce, bench);
  while (bench->count < 2 * bench->target)
    g_main_context_iteration (bench->context, TRUE);
  return (gdouble) (kaa_bench_now_ns () - start) / n_ops;
}

/* ------------------------------------------------------------ memory */

static gsize
resident_bytes (void)
{
  g_autofree char *statm = NULL;
  unsigned long size = 0, resident = 0;

  if (!g_file_get_contents ("/proc/self/statm", &statm, NULL, NULL) ||
      sscanf (statm, "%lu %lu", &size, &resident) != 2)
    kaa_bench_die ("cannot read /proc/self/statm");
  return (gsize) resident * (gsize) sysconf (_SC_PAGESIZE);
}

static void
body_waits (KaaCoroutine *co,
            gpointer      data)
{
  kaa_await (kaa_in_progress_ref (data), NULL);
}

typedef struct
{
  gsize resident;
  gsize heap_in_use;
  gsize heap_mapped;
} Footprint;

static Footprint
footprint (void)
{
  struct mallinfo2 info = mallinfo2 ();
  Footprint now = { resident_bytes (), info.uordblks + info.hblkhd, info.arena + info.hblkhd };

  return now;
}

/* What @n objects cost: the heap they hold, exactly, plus whatever else
 * became resident (stacks are mapped outside the heap). */
static gsize
footprint_growth (Footprint before)
{
  Footprint after = footprint ();
  gsize heap = after.heap_in_use - before.heap_in_use;
  gsize heap_growth = after.heap_mapped - before.heap_mapped;
  gsize other = after.resident - before.resident;

  return heap + (other > heap_growth ? other - heap_growth : 0);
}

static gsize
hold_suspended (guint n)
{
  KaaInProgress *gate = kaa_in_progress_new ();
  Footprint before = footprint ();

  for (guint i = 0; i < n; i++)
    kaa_in_progress_unref (kaa_coroutine_spawn (body_waits, gate, NULL));
  return footprint_growth (before);
}

/* Memory is measured in a fresh process (this program, run again with
 * --hold-suspended N): here the earlier cases leave free heap and warm
 * pooled stacks behind that would hide the cost. It prints bytes per
 * coroutine. */
static gdouble
run_in_child (const char *self_path,
              guint       n)
{
  g_autofree char *count = g_strdup_printf ("%u", n);
  const char *argv[] = { self_path, "--hold-suspended", count, NULL };
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  gint status;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                     &out, NULL, &status, &error) ||
      !g_spawn_check_wait_status (status, &error))
    kaa_bench_die ("the memory measurement failed: %s", error->message);
  return g_ascii_strtod (out, NULL);
}

/* ---------------------------------------------------------- lateness */

#define BUSY_TASKS   1000
#define BURN_USEC    100
#define TICK_MSEC    5

typedef struct
{
  Bench   *bench;
  gint64   expected;
  GArray  *lateness;   /* gint64 µs */
  guint    ticks;
  gboolean stop;
} Ticker;

static void
burn (void)
{
  gint64 until = g_get_monotonic_time () + BURN_USEC;

  while (g_get_monotonic_time () < until)
    ;
}

static gboolean
tick (gpointer data)
{
  Ticker *ticker = data;
  gint64 late = g_get_monotonic_time () - ticker->expected;

  g_array_append_val (ticker->lateness, late);
  /* A GLib timeout is due one interval after its last dispatch. */
  ticker->expected = g_get_monotonic_time () + TICK_MSEC * 1000;
  ticker->stop = ticker->lateness->len >= ticker->ticks;
  return ticker->stop ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

static void
body_burns (KaaCoroutine *co,
            gpointer      data)
{
  Ticker *ticker = data;

  while (!ticker->stop)
    {
      burn ();
      kaa_yield ();
    }
}

static gboolean
idle_burns (gpointer data)
{
  Ticker *ticker = data;

  burn ();
  return ticker->stop ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

static int
compare_int64 (gconstpointer a,
               gconstpointer b)
{
  gint64 x = *(const gint64 *) a;
  gint64 y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

/* The @percent percentile of @sorted (µs), in ns; at least 1, so that a
 * ratio stays defined. */
static gdouble
percentile_ns (GArray *sorted,
               guint   percent)
{
  return MAX (g_array_index (sorted, gint64, (sorted->len * percent) / 100) * 1000.0, 1.0);
}

/* Sets the p50 and p99 lateness in ns of TICK_MSEC ticks while the busy
 * tasks run as coroutines (@coroutines) or as idle callbacks. */
static void
run_lateness (Bench    *bench,
              guint     ticks,
              gboolean  coroutines,
              gdouble  *p50,
              gdouble  *p99)
{
  Ticker ticker = { bench, 0, g_array_new (FALSE, FALSE, sizeof (gint64)), ticks, FALSE };
  g_autofree KaaInProgress **ips = g_new0 (KaaInProgress *, BUSY_TASKS);
  GSource *timer = g_timeout_source_new (TICK_MSEC);

  for (guint i = 0; i < BUSY_TASKS; i++)
    if (coroutines)
      ips[i] = kaa_coroutine_spawn (body_burns, &ticker, NULL);
    else
      idle_attach (bench, idle_burns, &ticker);
  ticker.expected = g_get_monotonic_time () + TICK_MSEC * 1000;
  g_source_set_callback (timer, tick, &ticker, NULL);
  g_source_attach (timer, bench->context);
  g_source_unref (timer);

  while (!ticker.stop)
    g_main_context_iteration (bench->context, TRUE);
  for (guint i = 0; i < BUSY_TASKS && coroutines; i++)
    {
      while (!kaa_in_progress_is_done (ips[i]))
        g_main_context_iteration (bench->context, TRUE);
      kaa_in_progress_unref (ips[i]);
    }
  while (g_main_context_iteration (bench->context, FALSE))
    ;
  g_array_sort (ticker.lateness, compare_int64);
  *p50 = percentile_ns (ticker.lateness, 50);
  *p99 = percentile_ns (ticker.lateness, 99);
  g_array_unref (ticker.lateness);
}

/* ------------------------------------------------------------ rounds */

static gboolean quick;
static const char *self_path;

static void
run_round (gpointer  data,
           guint     n_ops,
           gdouble  *values)
{
  Bench *bench = data;
  guint ticks = quick ? 10 : 100;

  values[S_YIELD_1] = kaa_bench_run_yields (bench->context, 1, n_ops);
  values[S_IDLE_1] = run_idle_steps (bench, 1, n_ops);
  values[S_YIELD_100] = kaa_bench_run_yields (bench->context, 100, n_ops);
  values[S_IDLE_100] = run_idle_steps (bench, 100, n_ops);
  values[S_YIELD_10000] = kaa_bench_run_yields (bench->context, 10000, MAX (n_ops, 10000));
  values[S_IDLE_10000] = run_idle_steps (bench, 10000, MAX (n_ops, 10000));
  values[S_SPAWN] = run_spawn (bench, n_ops);
  values[S_GTASK] = run_gtask (bench, n_ops);
  values[S_PING] = run_ping_pong (bench, n_ops);
  values[S_IDLE_PING] = run_idle_ping (bench, n_ops);
  /* Measured once, in main(): a million coroutines take seconds to map. */
  values[S_SUSPENDED] = 1;
  values[S_STACK_PAGE] = sysconf (_SC_PAGESIZE);
  run_lateness (bench, ticks, TRUE, &values[S_LATE50_KAA], &values[S_LATE_KAA]);
  run_lateness (bench, ticks, FALSE, &values[S_LATE50_IDLE], &values[S_LATE_IDLE]);
}

int
main (int   argc,
      char *argv[])
{
  KaaBench run = { 0 };
  KaaBenchStats stats[N_SAMPLES];
  Bench bench = { 0 };
  gdouble suspended;

  if (argc == 3 && g_str_equal (argv[1], "--hold-suspended"))
    {
      guint n = (guint) g_ascii_strtoull (argv[2], NULL, 10);

      printf ("%.1f\n", (gdouble) hold_suspended (MAX (n, 1)) / MAX (n, 1));
      return EXIT_SUCCESS;
    }
  self_path = argv[0];
  kaa_bench_init (&run, "coroutine", "- libkaa coroutines against GLib's peers",
                  DEFAULT_OPS, QUICK_OPS, &argc, &argv);
  quick = run.quick;
  bench.context = g_main_context_new ();
  g_main_context_push_thread_default (bench.context);

  kaa_bench_measure (&run, N_SAMPLES, run_round, &bench, stats);
  suspended = run_in_child (self_path, quick ? 20000 : 1000000);
  stats[S_SUSPENDED] = (KaaBenchStats) { suspended, suspended, suspended };
  kaa_bench_report (&run, rows, G_N_ELEMENTS (rows), stats);

  g_main_context_pop_thread_default (bench.context);
  while (g_main_context_iteration (bench.context, FALSE))
    ;
  g_main_context_unref (bench.context);
  kaa_bench_clear (&run);
  return EXIT_SUCCESS;
}
