/* test-progress.c: progress carried by an InProgress
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "kaa-test-util.h"

typedef KaaTestFixture Fixture;

#define KAA_TEST_AREA "progress"

/* --------------------------------------------------------------- helpers */

#define MAX_TIMES 16

/* What the progress callbacks saw. */
typedef struct
{
  guint    calls;
  gint64   position;
  gint64   total;
  gint64   times[MAX_TIMES];   /* monotonic time of the first calls */
  GThread *expected_thread;
  guint    off_thread;
  gint64   done_position;      /* sets @done when seen, if > 0 */
  gboolean done;
  guint    destroyed;
} ProgressLog;

static void
progress_cb (KaaInProgress *ip,
             gpointer       data)
{
  ProgressLog *log = data;

  if (log->calls < MAX_TIMES)
    log->times[log->calls] = g_get_monotonic_time ();
  log->calls++;
  if (log->expected_thread != NULL && g_thread_self () != log->expected_thread)
    log->off_thread++;
  g_assert_true (kaa_in_progress_get_progress (ip, &log->position, &log->total));
  if (log->done_position > 0 && log->position == log->done_position)
    log->done = TRUE;
}

static void
progress_log_destroy (gpointer data)
{
  ProgressLog *log = data;

  log->destroyed++;
}

/* ------------------------------------------------------------- get / set */

static void
test_get_set (Fixture      *f,
              gconstpointer data)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  ProgressLog log = { 0 };
  gint64 position = -1;
  gint64 total = -1;
  gulong id;

  g_test_summary ("DESIGN §2 Progress: position and total read back as set; the "
                  "fraction is position/total clamped to [0, 1], 0 with an unknown "
                  "total; nothing is reported before the first set");

  g_assert_false (kaa_in_progress_get_progress (ip, &position, &total));
  g_assert_cmpint (position, ==, 0);
  g_assert_cmpint (total, ==, 0);
  g_assert_cmpfloat (kaa_in_progress_get_fraction (ip), ==, 0.0);
  g_assert_cmpfloat (kaa_in_progress_get_rate (ip), ==, 0.0);
  g_assert_cmpfloat (kaa_in_progress_get_eta (ip), ==, -1.0);

  /* A connected callback alone reports no progress. */
  id = kaa_in_progress_connect_progress (ip, progress_cb, &log, NULL);
  g_assert_cmpuint (id, !=, 0);
  g_assert_false (kaa_in_progress_get_progress (ip, NULL, NULL));

  kaa_in_progress_set_progress (ip, 25, 100);
  g_assert_true (kaa_in_progress_get_progress (ip, &position, &total));
  g_assert_cmpint (position, ==, 25);
  g_assert_cmpint (total, ==, 100);
  g_assert_true (kaa_in_progress_get_progress (ip, NULL, NULL));
  g_assert_cmpfloat_with_epsilon (kaa_in_progress_get_fraction (ip), 0.25, 1e-12);

  kaa_in_progress_set_progress (ip, 5, 0);
  g_assert_cmpfloat (kaa_in_progress_get_fraction (ip), ==, 0.0);
  kaa_in_progress_set_progress (ip, 150, 100);
  g_assert_cmpfloat (kaa_in_progress_get_fraction (ip), ==, 1.0);
  kaa_in_progress_set_progress (ip, 0, 100);
  g_assert_cmpfloat (kaa_in_progress_get_fraction (ip), ==, 0.0);
  kaa_in_progress_set_progress (ip, 100, 100);
  g_assert_cmpfloat (kaa_in_progress_get_fraction (ip), ==, 1.0);

  /* A negative value is refused, and changes nothing. */
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*kaa_in_progress_set_progress*position >= 0*");
  kaa_in_progress_set_progress (ip, -1, 100);
  g_test_assert_expected_messages ();
  g_assert_true (kaa_in_progress_get_progress (ip, &position, &total));
  g_assert_cmpint (position, ==, 100);
  g_assert_cmpint (total, ==, 100);

  /* Notified asynchronously, once, with the latest values. */
  g_assert_cmpuint (log.calls, ==, 0);
  kaa_test_drain (f->context);
  g_assert_cmpuint (log.calls, ==, 1);
  g_assert_cmpint (log.position, ==, 100);
  kaa_in_progress_disconnect_progress (ip, id);
}

/* ------------------------------------------------------------ throttling */

static void
test_throttle_burst (Fixture      *f,
                     gconstpointer data)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  ProgressLog log = { 0 };
  gulong id;

  g_test_summary ("DESIGN §2 Progress: notifications are throttled: a burst of updates "
                  "gives one notification with the latest values, and a burst after a "
                  "quiet spell longer than the interval gives one more, at once");

  id = kaa_in_progress_connect_progress (ip, progress_cb, &log, NULL);
  for (gint64 i = 1; i <= 1000; i++)
    kaa_in_progress_set_progress (ip, i, 1000);
  g_assert_cmpuint (log.calls, ==, 0);
  /* The first update after a quiet spell: delivered on the next dispatch. */
  g_main_context_iteration (f->context, FALSE);
  g_assert_cmpuint (log.calls, ==, 1);
  g_assert_cmpint (log.position, ==, 1000);
  g_assert_cmpint (log.total, ==, 1000);
  kaa_test_drain (f->context);
  g_assert_cmpuint (log.calls, ==, 1);

  /* Quiet spell: nothing more is delivered. */
  kaa_test_pump_for (150);
  g_assert_cmpuint (log.calls, ==, 1);

  /* The interval has passed: the next burst is delivered on the next
   * dispatch, without waiting for a timer. */
  for (gint64 i = 1; i <= 1000; i++)
    kaa_in_progress_set_progress (ip, i, 2000);
  g_main_context_iteration (f->context, FALSE);
  g_assert_cmpuint (log.calls, ==, 2);
  g_assert_cmpint (log.position, ==, 1000);
  g_assert_cmpint (log.total, ==, 2000);
  kaa_test_drain (f->context);
  g_assert_cmpuint (log.calls, ==, 2);

  kaa_in_progress_disconnect_progress (ip, id);
}

static void
test_throttle_trailing (Fixture      *f,
                        gconstpointer data)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  ProgressLog log = { 0 };
  gulong id;
  gint wakeup;

  g_test_summary ("DESIGN §2 Progress, §3: updates that arrive within the interval after "
                  "a notification are folded into one, delivered by the scheduler's "
                  "timer once the interval (default 100 ms) has passed");

  id = kaa_in_progress_connect_progress (ip, progress_cb, &log, NULL);
  kaa_in_progress_set_progress (ip, 1, 10);
  kaa_test_drain (f->context);
  g_assert_cmpuint (log.calls, ==, 1);

  kaa_in_progress_set_progress (ip, 2, 10);
  kaa_in_progress_set_progress (ip, 3, 10);
  kaa_test_drain (f->context);
  wakeup = kaa_test_next_wakeup_msec (f->context);
  if (g_get_monotonic_time () - log.times[0] < 90 * 1000)
    {
      /* Still inside the interval: held back, on a timer due within it. */
      g_assert_cmpuint (log.calls, ==, 1);
      g_assert_cmpint (wakeup, >=, 0);
      g_assert_cmpint (wakeup, <=, 100);
    }

  kaa_test_pump_for (150);
  g_assert_cmpuint (log.calls, ==, 2);
  g_assert_cmpint (log.position, ==, 3);
  g_assert_cmpint (log.total, ==, 10);
  g_assert_cmpint (log.times[1] - log.times[0], >=, 90 * 1000);
  g_assert_cmpint (log.times[1] - log.times[0], <, 2 * G_USEC_PER_SEC);

  /* Delivered once: nothing more follows. */
  kaa_test_pump_for (150);
  g_assert_cmpuint (log.calls, ==, 2);

  kaa_in_progress_disconnect_progress (ip, id);
}

static void
test_interval_zero (Fixture      *f,
                    gconstpointer data)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  ProgressLog log = { 0 };
  gulong id;

  g_test_summary ("DESIGN §2 Progress: with set_progress_interval(0), every dispatch that "
                  "follows an update notifies, and a dispatch without one does not");

  kaa_in_progress_set_progress_interval (ip, 0);
  id = kaa_in_progress_connect_progress (ip, progress_cb, &log, NULL);

  kaa_in_progress_set_progress (ip, 1, 10);
  kaa_test_drain (f->context);
  g_assert_cmpuint (log.calls, ==, 1);

  kaa_in_progress_set_progress (ip, 2, 10);
  kaa_test_drain (f->context);
  g_assert_cmpuint (log.calls, ==, 2);
  g_assert_cmpint (log.position, ==, 2);

  kaa_in_progress_set_progress (ip, 3, 10);
  kaa_in_progress_set_progress (ip, 4, 10);
  kaa_test_drain (f->context);
  g_assert_cmpuint (log.calls, ==, 3);
  g_assert_cmpint (log.position, ==, 4);

  kaa_test_drain (f->context);
  g_assert_cmpuint (log.calls, ==, 3);

  kaa_in_progress_disconnect_progress (ip, id);
}

/* --------------------------------------------------------------- threads */

#define N_WORKER_UPDATES 20000

static gpointer
worker_report (gpointer data)
{
  KaaInProgress *ip = data;

  for (gint64 i = 1; i <= N_WORKER_UPDATES; i++)
    kaa_in_progress_set_progress (ip, i, N_WORKER_UPDATES);
  return NULL;
}

/*  Timeline of worker-thread:
 *
 *    test thread (owns ctx)                 worker thread
 *    ----------------------                 -------------
 *    connect_progress (progress_cb)
 *    spawn worker ────────────────────────▶ set_progress (1 .. N, N)
 *    iterate ctx (blocking)                   (queues one notification,
 *      progress_cb runs here, throttled        folds the rest)
 *      ... until it sees position N
 *    join worker ◀─────────────────────────  returns
 *    pump 150 ms: a trailing notification,
 *      if any, runs here too
 */
static void
test_worker_thread (Fixture      *f,
                    gconstpointer data)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  ProgressLog log = { 0 };
  GThread *worker;
  gulong id;

  g_test_summary ("DESIGN §2 Progress, Thread safety: progress set from a worker thread "
                  "is delivered on the owner context's thread, with the latest values");

  log.expected_thread = g_thread_self ();
  log.done_position = N_WORKER_UPDATES;
  id = kaa_in_progress_connect_progress (ip, progress_cb, &log, NULL);

  worker = g_thread_new ("progress-worker", worker_report, ip);
  while (!log.done)
    g_main_context_iteration (f->context, TRUE);
  g_thread_join (worker);

  kaa_test_pump_for (150);
  g_assert_true (log.done);
  g_assert_cmpuint (log.calls, >=, 1);
  g_assert_cmpuint (log.calls, <=, N_WORKER_UPDATES);
  g_assert_cmpuint (log.off_thread, ==, 0);
  g_assert_cmpint (log.position, ==, N_WORKER_UPDATES);
  g_assert_cmpint (log.total, ==, N_WORKER_UPDATES);

  kaa_in_progress_disconnect_progress (ip, id);
}

typedef struct
{
  KaaInProgress *ip;
  gint           stop;
} Flipper;

static gpointer
worker_flip (gpointer data)
{
  Flipper *flipper = data;

  while (!g_atomic_int_get (&flipper->stop))
    {
      kaa_in_progress_set_progress (flipper->ip, 1, 2);
      kaa_in_progress_set_progress (flipper->ip, 3, 4);
    }
  return NULL;
}

/*  Timeline of consistent-pair:
 *
 *    test thread (owns ctx)                 worker thread
 *    ----------------------                 -------------
 *    set_progress (1, 2)
 *    spawn worker ────────────────────────▶ loop: set_progress (1, 2)
 *    loop for up to 300 ms:                       set_progress (3, 4)
 *      get_progress: (1, 2) or (3, 4),
 *      never (3, 2) nor (1, 4)
 *    stop, join worker ◀───────────────────  returns
 *    pump 150 ms: the queued notification runs
 */
static void
test_consistent_pair (Fixture      *f,
                      gconstpointer data)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  Flipper flipper = { ip, FALSE };
  GThread *worker;
  gint64 end;
  gint64 torn_position = 0, torn_total = 0;
  guint reads = 0, torn = 0;

  g_test_summary ("DESIGN §2 Progress, Thread safety: get_progress() returns a position "
                  "and a total reported together, never the position of one update with "
                  "the total of another, while another thread keeps reporting");

  kaa_in_progress_set_progress (ip, 1, 2);
  worker = g_thread_new ("progress-flipper", worker_flip, &flipper);
  end = g_get_monotonic_time () + 300 * 1000;
  while (torn == 0 && g_get_monotonic_time () < end)
    for (guint i = 0; i < 1000; i++, reads++)
      {
        gint64 position, total;

        g_assert_true (kaa_in_progress_get_progress (ip, &position, &total));
        if (!((position == 1 && total == 2) || (position == 3 && total == 4)))
          {
            torn++;
            torn_position = position;
            torn_total = total;
          }
      }
  g_atomic_int_set (&flipper.stop, TRUE);
  g_thread_join (worker);
  kaa_test_pump_for (150);

  if (torn != 0)
    g_test_message ("get_progress() returned (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT
                    "), a pair never reported, after %u reads",
                    torn_position, torn_total, reads);
  g_assert_cmpuint (torn, ==, 0);
}

/* ------------------------------------------------------------ rate / ETA */

static void
test_rate_eta (Fixture      *f,
               gconstpointer data)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  ProgressLog log = { 0 };
  gint64 before0, before1;
  gdouble dt_min, dt_max, rate, eta;
  gulong id;

  g_test_summary ("DESIGN §2 Progress: the rate follows the positions reported over time "
                  "and the ETA is remaining/rate; both are unknown (0, -1) until they can "
                  "be told, and the ETA is -1 while the total is unknown");

  kaa_in_progress_set_progress_interval (ip, 0);
  id = kaa_in_progress_connect_progress (ip, progress_cb, &log, NULL);

  before0 = g_get_monotonic_time ();
  kaa_in_progress_set_progress (ip, 0, 10000);
  kaa_test_drain (f->context);
  g_assert_cmpuint (log.calls, ==, 1);
  /* One sample: no rate yet. */
  g_assert_cmpfloat (kaa_in_progress_get_rate (ip), ==, 0.0);
  g_assert_cmpfloat (kaa_in_progress_get_eta (ip), ==, -1.0);

  kaa_test_pump_for (200);

  before1 = g_get_monotonic_time ();
  kaa_in_progress_set_progress (ip, 1000, 10000);
  kaa_test_drain (f->context);
  g_assert_cmpuint (log.calls, ==, 2);

  /* The library sampled the two positions somewhere inside
   * [before0, times[0]] and [before1, times[1]]. */
  dt_min = (before1 - log.times[0]) / (gdouble) G_USEC_PER_SEC;
  dt_max = (log.times[1] - before0) / (gdouble) G_USEC_PER_SEC;
  g_assert_cmpfloat (dt_min, >=, 0.2);
  rate = kaa_in_progress_get_rate (ip);
  g_test_message ("rate %.1f/s, expected within [%.1f, %.1f]", rate, 1000 / dt_max, 1000 / dt_min);
  g_assert_cmpfloat (rate, >, 0.0);
  g_assert_cmpfloat (rate, >=, 1000 / dt_max * 0.99);
  g_assert_cmpfloat (rate, <=, 1000 / dt_min * 1.01);
  /* 1000 units in 0.2 s to 2 s. */
  g_assert_cmpfloat (rate, >=, 500.0 * 0.99);
  g_assert_cmpfloat (rate, <=, 5000.0 * 1.01);

  eta = kaa_in_progress_get_eta (ip);
  g_assert_cmpfloat_with_epsilon (eta, (10000 - 1000) / rate, 1e-6 * eta);

  /* The total becomes unknown: no ETA, however good the rate. */
  kaa_in_progress_set_progress (ip, 2000, 0);
  g_assert_cmpfloat (kaa_in_progress_get_eta (ip), ==, -1.0);
  kaa_test_drain (f->context);
  g_assert_cmpfloat (kaa_in_progress_get_rate (ip), >, 0.0);
  g_assert_cmpfloat (kaa_in_progress_get_eta (ip), ==, -1.0);

  kaa_in_progress_disconnect_progress (ip, id);
}

/* ---------------------------------------------------- disconnect / destroy */

static void
test_disconnect (Fixture      *f,
                 gconstpointer data)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  ProgressLog log1 = { 0 };
  ProgressLog log2 = { 0 };
  gulong id1, id2;

  g_test_summary ("DESIGN §2 Progress: disconnect_progress stops a callback's "
                  "notifications at once and runs its destroy notify, once");

  kaa_in_progress_set_progress_interval (ip, 0);
  id1 = kaa_in_progress_connect_progress (ip, progress_cb, &log1, progress_log_destroy);
  id2 = kaa_in_progress_connect_progress (ip, progress_cb, &log2, progress_log_destroy);
  g_assert_cmpuint (id1, !=, id2);

  kaa_in_progress_set_progress (ip, 1, 10);
  kaa_test_drain (f->context);
  g_assert_cmpuint (log1.calls, ==, 1);
  g_assert_cmpuint (log2.calls, ==, 1);

  /* Disconnected with an update already queued: it is not delivered. */
  kaa_in_progress_set_progress (ip, 2, 10);
  kaa_in_progress_disconnect_progress (ip, id1);
  g_assert_cmpuint (log1.destroyed, ==, 1);
  kaa_test_drain (f->context);
  g_assert_cmpuint (log1.calls, ==, 1);
  g_assert_cmpuint (log2.calls, ==, 2);

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*no progress callback with id*");
  kaa_in_progress_disconnect_progress (ip, id1);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (log1.destroyed, ==, 1);

  kaa_in_progress_disconnect_progress (ip, id2);
  g_assert_cmpuint (log2.destroyed, ==, 1);
  kaa_in_progress_set_progress (ip, 3, 10);
  kaa_test_drain (f->context);
  g_assert_cmpuint (log1.calls, ==, 1);
  g_assert_cmpuint (log2.calls, ==, 2);

  g_clear_pointer (&ip, kaa_in_progress_unref);
  g_assert_cmpuint (log1.destroyed, ==, 1);
  g_assert_cmpuint (log2.destroyed, ==, 1);
}

static void
test_destroy_on_free (Fixture      *f,
                      gconstpointer data)
{
  KaaInProgress *ip = kaa_in_progress_new ();
  ProgressLog log1 = { 0 };
  ProgressLog log2 = { 0 };
  ProgressLog log3 = { 0 };
  gulong id3;

  g_test_summary ("DESIGN §2 Progress: the destroy notifies of progress callbacks still "
                  "connected run, once each, when the InProgress is freed");

  kaa_in_progress_connect_progress (ip, progress_cb, &log1, progress_log_destroy);
  kaa_in_progress_connect_progress (ip, progress_cb, &log2, progress_log_destroy);
  id3 = kaa_in_progress_connect_progress (ip, progress_cb, &log3, progress_log_destroy);
  kaa_in_progress_set_progress (ip, 5, 10);
  kaa_test_drain (f->context);
  g_assert_cmpuint (log1.calls, ==, 1);
  kaa_in_progress_disconnect_progress (ip, id3);
  g_assert_cmpuint (log3.destroyed, ==, 1);

  kaa_in_progress_finish_boolean (ip, TRUE);
  g_assert_cmpuint (log1.destroyed, ==, 0);
  g_assert_cmpuint (log2.destroyed, ==, 0);

  kaa_in_progress_unref (ip);
  g_assert_cmpuint (log1.destroyed, ==, 1);
  g_assert_cmpuint (log2.destroyed, ==, 1);
  g_assert_cmpuint (log3.destroyed, ==, 1);
  g_assert_cmpuint (log1.calls, ==, 1);
  g_assert_cmpuint (log2.calls, ==, 1);
}

#define IDS_PER_THREAD 20000

static void
ignore_progress (KaaInProgress *ip,
                 gpointer       data)
{
}

/* Connects on a context of its own, as the owner of its InProgress. */
static gpointer
connect_many (gpointer data)
{
  gulong *ids = data;
  GMainContext *context = g_main_context_new ();
  KaaInProgress *ip;

  g_main_context_push_thread_default (context);
  ip = kaa_in_progress_new ();
  for (guint i = 0; i < IDS_PER_THREAD; i++)
    ids[i] = kaa_in_progress_connect_progress (ip, ignore_progress, NULL, NULL);
  kaa_in_progress_unref (ip);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return NULL;
}

static void
test_ids_across_threads (Fixture       *f,
                         gconstpointer  data)
{
  g_autofree gulong *ids = g_new (gulong, 2 * IDS_PER_THREAD);
  g_autoptr(GHashTable) seen = g_hash_table_new (g_direct_hash, g_direct_equal);
  GThread *a, *b;

  g_test_summary ("DESIGN §2 Progress: owners on two threads connect progress callbacks "
                  "at once; every id is unique and no counter is shared unsynchronised");
  g_test_bug ("21");
  a = g_thread_new ("ids-a", connect_many, ids);
  b = g_thread_new ("ids-b", connect_many, ids + IDS_PER_THREAD);
  g_thread_join (a);
  g_thread_join (b);
  for (guint i = 0; i < 2 * IDS_PER_THREAD; i++)
    {
      g_assert_cmpuint (ids[i], !=, 0);
      g_assert_true (g_hash_table_add (seen, GSIZE_TO_POINTER (ids[i])));
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);


  KAA_TEST_ADD_QUIET ("get-set", test_get_set);
  KAA_TEST_ADD_QUIET ("throttle-burst", test_throttle_burst);
  KAA_TEST_ADD_QUIET ("throttle-trailing", test_throttle_trailing);
  KAA_TEST_ADD_QUIET ("interval-zero", test_interval_zero);
  KAA_TEST_ADD_QUIET ("worker-thread", test_worker_thread);
  KAA_TEST_ADD_QUIET ("consistent-pair", test_consistent_pair);
  KAA_TEST_ADD_QUIET ("rate-eta", test_rate_eta);
  KAA_TEST_ADD_QUIET ("disconnect", test_disconnect);
  KAA_TEST_ADD_QUIET ("destroy-on-free", test_destroy_on_free);
  KAA_TEST_ADD_QUIET ("ids-across-threads", test_ids_across_threads);

  return g_test_run ();
}
