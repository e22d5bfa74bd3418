/* test-thread-pool.c: thread pools, jobs and main-thread calls
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The main test thread owns a private GMainContext, pushed as
 * thread-default, so every job's InProgress belongs to it; each test makes
 * its own pool (a unique name) and shuts it down. Workers are held at
 * gates (atomics, spun on with a bounded wait) so that the order of
 * events is forced, never guessed from timing.
 */
#include "config.h"

#include "kaa-test-util.h"
#include "kaa-live-private.h"

typedef KaaTestFixture Fixture;

#define KAA_TEST_AREA "thread-pool"

/* ------------------------------------------------------------ blockers */

/* A job that says it started, then holds its worker until the gate opens
 * (or it is cancelled, unless it is deaf). */
typedef struct
{
  gint     started;   /* atomic */
  gint     gate;      /* atomic */
  gint     finished;  /* atomic */
  gboolean deaf;      /* holds on after a cancel too */
} Blocker;

static gpointer
blocker_func (KaaThreadJob *job,
              gpointer      user_data,
              GError      **error)
{
  Blocker *blocker = user_data;

  g_atomic_int_set (&blocker->started, 1);
  while (!g_atomic_int_get (&blocker->gate) && (blocker->deaf || kaa_thread_job_check (job)))
    g_usleep (200);
  g_atomic_int_set (&blocker->finished, 1);
  return NULL;
}

/* Records its tag in the shared order, on the worker. */
typedef struct
{
  GMutex     lock;
  GPtrArray *order;
  gint       n_called;   /* atomic */
} Recorder;

typedef struct
{
  Recorder   *recorder;
  const char *tag;
  gint       *destroyed;
} Tagged;

static gpointer
record_func (KaaThreadJob *job,
             gpointer      user_data,
             GError      **error)
{
  Tagged *tagged = user_data;

  g_mutex_lock (&tagged->recorder->lock);
  g_ptr_array_add (tagged->recorder->order, (gpointer) tagged->tag);
  g_mutex_unlock (&tagged->recorder->lock);
  g_atomic_int_inc (&tagged->recorder->n_called);
  return NULL;
}

static void
tagged_free (gpointer data)
{
  Tagged *tagged = data;

  if (tagged->destroyed != NULL)
    g_atomic_int_inc (tagged->destroyed);
  g_free (tagged);
}

static KaaInProgress *
run_tagged (KaaThreadPool *pool,
            gint           priority,
            Recorder      *recorder,
            const char    *tag,
            gint          *destroyed)
{
  Tagged *tagged = g_new0 (Tagged, 1);

  tagged->recorder = recorder;
  tagged->tag = tag;
  tagged->destroyed = destroyed;
  return kaa_thread_pool_run (pool, priority, record_func, tagged, tagged_free);
}

static void
recorder_init (Recorder *recorder)
{
  g_mutex_init (&recorder->lock);
  recorder->order = g_ptr_array_new ();
  recorder->n_called = 0;
}

static void
recorder_clear (Recorder *recorder)
{
  g_ptr_array_unref (recorder->order);
  g_mutex_clear (&recorder->lock);
}

static void
assert_order (Recorder   *recorder,
              const char *expected)
{
  g_autoptr(GString) got = g_string_new (NULL);

  g_mutex_lock (&recorder->lock);
  for (guint i = 0; i < recorder->order->len; i++)
    g_string_append_printf (got, "%s%s", i > 0 ? " " : "",
                            (const char *) recorder->order->pdata[i]);
  g_mutex_unlock (&recorder->lock);
  g_assert_cmpstr (got->str, ==, expected);
}

/* ------------------------------------------------------------ results */

static gpointer
return_int64_func (KaaThreadJob *job,
                   gpointer      user_data,
                   GError      **error)
{
  kaa_thread_job_return_int64 (job, GPOINTER_TO_INT (user_data));
  return NULL;
}

static gpointer
return_string_func (KaaThreadJob *job,
                    gpointer      user_data,
                    GError      **error)
{
  kaa_thread_job_return_string (job, "hashed");
  return NULL;
}

static gpointer
return_pointer_func (KaaThreadJob *job,
                     gpointer      user_data,
                     GError      **error)
{
  return user_data;
}

static gpointer
fail_func (KaaThreadJob *job,
           gpointer      user_data,
           GError      **error)
{
  kaa_thread_job_return_string (job, "dropped with the failure");
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no such file");
  return NULL;
}

static void
test_results (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(KaaThreadPool) pool = kaa_test_pool_new (2);
  g_autoptr(KaaInProgress) a = kaa_thread_pool_run (pool, 0, return_int64_func, GINT_TO_POINTER (42), NULL);
  g_autoptr(KaaInProgress) b = kaa_thread_pool_run (pool, 0, return_string_func, NULL, NULL);
  g_autoptr(KaaInProgress) c = kaa_thread_pool_run (pool, 0, return_pointer_func, &f, NULL);
  g_autoptr(KaaInProgress) d = kaa_thread_pool_run (pool, 0, fail_func, NULL, NULL);
  g_autoptr(GError) error = NULL;

  g_test_summary ("DESIGN §5: a job's returned pointer or typed result finishes its "
                  "InProgress; a GError fails it with its own domain and code");
  g_assert_true (kaa_in_progress_wait (a, &error));
  g_assert_cmpint (kaa_in_progress_get_int64 (a), ==, 42);
  g_assert_true (kaa_in_progress_wait (b, &error));
  g_assert_cmpstr (kaa_in_progress_get_string (b), ==, "hashed");
  g_assert_true (kaa_in_progress_wait (c, &error));
  g_assert_true (kaa_in_progress_get_pointer (c) == &f);
  g_assert_false (kaa_in_progress_wait (d, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  kaa_thread_pool_shutdown (pool);
}

/* ------------------------------------------------------------ priorities */

static void
test_priority_order (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(KaaThreadPool) pool = kaa_test_pool_new (1);
  Blocker blocker = { 0 };
  Recorder recorder;
  g_autoptr(KaaInProgress) block = NULL;
  g_autoptr(KaaInProgress) low = NULL;
  g_autoptr(KaaInProgress) high = NULL;
  g_autoptr(KaaInProgress) low2 = NULL;

  g_test_summary ("DESIGN §5: higher priority first, FIFO within one priority");
  recorder_init (&recorder);

  /* main: blocker -> (started) -> low, high, low2 -> open gate
   * worker: blocker ... high, low, low2 */
  block = kaa_thread_pool_run (pool, 0, blocker_func, &blocker, NULL);
  kaa_test_spin_until (&blocker.started, 1);
  low = run_tagged (pool, 0, &recorder, "low", NULL);
  high = run_tagged (pool, 10, &recorder, "high", NULL);
  low2 = run_tagged (pool, 0, &recorder, "low2", NULL);
  g_atomic_int_set (&blocker.gate, 1);
  kaa_test_pump_until_done (f->context, low2);
  assert_order (&recorder, "high low low2");

  kaa_thread_pool_shutdown (pool);
  recorder_clear (&recorder);
}

typedef struct
{
  GMutex  lock;
  GArray *keys;   /* priority * 1000000 + submission index */
} KeyLog;

typedef struct
{
  KeyLog *log;
  gint64  key;
} KeyJob;

static gpointer
log_key_func (KaaThreadJob *job,
              gpointer      user_data,
              GError      **error)
{
  KeyJob *key_job = user_data;

  g_mutex_lock (&key_job->log->lock);
  g_array_append_val (key_job->log->keys, key_job->key);
  g_mutex_unlock (&key_job->log->lock);
  return NULL;
}

static void
test_priority_many (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(KaaThreadPool) pool = kaa_test_pool_new (1);
  Blocker blocker = { 0 };
  KeyLog log;
  g_autoptr(GPtrArray) ips = g_ptr_array_new_with_free_func ((GDestroyNotify) kaa_in_progress_unref);
  g_autoptr(KaaInProgress) block = NULL;
  const gint n = 2000;

  g_test_summary ("DESIGN §5: 2000 jobs over 7 priorities run in (priority desc, "
                  "submission) order: the heap keeps FIFO within a priority");
  g_mutex_init (&log.lock);
  log.keys = g_array_new (FALSE, FALSE, sizeof (gint64));
  block = kaa_thread_pool_run (pool, 100, blocker_func, &blocker, NULL);
  kaa_test_spin_until (&blocker.started, 1);
  for (gint i = 0; i < n; i++)
    {
      KeyJob *key_job = g_new (KeyJob, 1);
      gint priority = g_test_rand_int_range (-3, 4);

      key_job->log = &log;
      key_job->key = (gint64) (3 - priority) * 1000000 + i;
      g_ptr_array_add (ips, kaa_thread_pool_run (pool, priority, log_key_func, key_job, g_free));
    }
  g_atomic_int_set (&blocker.gate, 1);
  for (guint i = 0; i < ips->len; i++)
    kaa_test_pump_until_done (f->context, ips->pdata[i]);

  g_assert_cmpuint (log.keys->len, ==, n);
  for (guint i = 1; i < log.keys->len; i++)
    g_assert_cmpint (g_array_index (log.keys, gint64, i - 1), <, g_array_index (log.keys, gint64, i));
  kaa_thread_pool_shutdown (pool);
  g_array_unref (log.keys);
  g_mutex_clear (&log.lock);
}

/* ------------------------------------------------------------ cancel */

static gpointer
cancel_from_thread (gpointer data)
{
  kaa_in_progress_cancel (data);
  return NULL;
}

static void
test_cancel_queued (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(KaaThreadPool) pool = kaa_test_pool_new (1);
  Blocker blocker = { 0 };
  Recorder recorder;
  gint destroyed = 0;
  g_autoptr(KaaInProgress) block = NULL;
  g_autoptr(KaaInProgress) direct = NULL;
  g_autoptr(KaaInProgress) remote = NULL;
  g_autoptr(KaaInProgress) timed = NULL;
  g_autoptr(KaaInProgress) timeout = NULL;
  g_autoptr(KaaInProgress) last = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary ("DESIGN §5: a queued job never runs once cancelled, whether the cancel "
                  "came from the owner, another thread or a timeout; its InProgress is "
                  "cancelled at once and its data destroyed");
  recorder_init (&recorder);
  block = kaa_thread_pool_run (pool, 0, blocker_func, &blocker, NULL);
  kaa_test_spin_until (&blocker.started, 1);
  direct = run_tagged (pool, 0, &recorder, "direct", &destroyed);
  remote = run_tagged (pool, 0, &recorder, "remote", &destroyed);
  timed = run_tagged (pool, 0, &recorder, "timed", &destroyed);
  last = run_tagged (pool, 0, &recorder, "last", &destroyed);

  kaa_in_progress_cancel (direct);
  g_assert_cmpint (kaa_in_progress_get_state (direct), ==, KAA_STATE_CANCELLED);

  timeout = kaa_timeout (kaa_in_progress_ref (timed), 1, TRUE);
  g_assert_false (kaa_in_progress_wait (timeout, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpint (kaa_in_progress_get_state (timed), ==, KAA_STATE_CANCELLED);

  /* The owner does not iterate until the worker ran `last`, which is
   * behind `remote`: that job must be skipped on the strength of the
   * cancel request alone, before the owner carried it out. */
  g_thread_join (g_thread_new ("canceller", cancel_from_thread, remote));
  g_atomic_int_set (&blocker.gate, 1);
  kaa_test_spin_until (&recorder.n_called, 1);
  kaa_test_pump_until_done (f->context, last);
  kaa_test_pump_until_done (f->context, remote);
  assert_order (&recorder, "last");
  g_assert_cmpint (kaa_in_progress_get_state (remote), ==, KAA_STATE_CANCELLED);
  kaa_thread_pool_shutdown (pool);
  g_assert_cmpint (g_atomic_int_get (&destroyed), ==, 4);
  recorder_clear (&recorder);
}

/* A job whose context died while it ran: the worker delivers its end
 * to a swept scheduler, which discards it on the worker, and so drops
 * the last references there. Data on the InProgress's cancellable,
 * destroyed in the InProgress's finalize, holds the worker there. */
typedef struct
{
  GThread *owner;
  GThread *thread;    /* where the finalize ran */
  gint     entered;   /* atomic */
  gint     go;        /* atomic */
} Holder;

static void
holder_destroy (gpointer data)
{
  Holder *holder = data;

  holder->thread = g_thread_self ();
  g_atomic_int_set (&holder->entered, 1);
  /* Only a worker waits: on the owner thread nothing would release it. */
  while (holder->thread != holder->owner && !g_atomic_int_get (&holder->go))
    g_usleep (200);
}

static void
test_job_counted_after_in_progress (Fixture       *f,
                                    gconstpointer  data)
{
  g_autoptr(KaaThreadPool) pool = kaa_test_pool_new (1);
  /* Deaf to the cancel, so that it returns only once its context is gone. */
  Blocker blocker = { .deaf = TRUE };
  Holder holder = { g_thread_self () };
  KaaInProgress *ip;

  g_test_summary ("Issue #7's leak accounting: a job is counted gone only once its "
                  "InProgress reference is, also when its worker drops the last one, so "
                  "that a job count back where it was means the job's InProgress is "
                  "released too");
  ip = kaa_thread_pool_run (pool, 0, blocker_func, &blocker, NULL);
  g_object_set_data_full (G_OBJECT (kaa_in_progress_get_cancellable (ip)), "holder",
                          &holder, holder_destroy);
  kaa_in_progress_unref (ip);
  /* Running, not queued: a queued job's context takes it along. */
  kaa_test_spin_until (&blocker.started, 1);
  kaa_test_drain (f->context);
  kaa_test_fixture_kill_context (f);
  g_assert_cmpint (g_atomic_int_get (&holder.entered), ==, 0);

  g_atomic_int_set (&blocker.gate, 1);
  kaa_test_spin_until (&holder.entered, 1);
  g_assert_true (holder.thread != holder.owner);
  /* The worker is inside the InProgress's finalize: the job still counts. */
  g_assert_cmpint (kaa_live_get (KAA_LIVE_THREAD_JOB), >, f->live[KAA_LIVE_THREAD_JOB]);
  g_atomic_int_set (&holder.go, 1);
  kaa_thread_pool_shutdown (pool);
}

typedef struct
{
  gint started;        /* atomic */
  gint saw_cancel;     /* atomic: the check failed */
  gint saw_cancellable;/* atomic: the cancellable fired */
  gint result_freed;   /* atomic */
} Runner;

static void
runner_result_free (gpointer data)
{
  g_atomic_int_inc (&((Runner *) data)->result_freed);
}

static gpointer
runner_func (KaaThreadJob *job,
             gpointer      user_data,
             GError      **error)
{
  Runner *runner = user_data;
  GCancellable *cancellable = kaa_thread_job_get_cancellable (job);

  g_atomic_int_set (&runner->started, 1);
  while (kaa_thread_job_check (job))
    g_usleep (200);
  g_atomic_int_set (&runner->saw_cancel, 1);
  /* The owner carries out the cancel, cancellable included. */
  while (!g_cancellable_is_cancelled (cancellable))
    g_usleep (200);
  g_atomic_int_set (&runner->saw_cancellable, 1);
  kaa_thread_job_return_pointer (job, runner, runner_result_free);
  return NULL;
}

static void
test_cancel_running (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(KaaThreadPool) pool = kaa_test_pool_new (1);
  Runner runner = { 0 };
  g_autoptr(KaaInProgress) ip = kaa_thread_pool_run (pool, 0, runner_func, &runner, NULL);
  Blocker blocker = { 0 };
  g_autoptr(KaaInProgress) next = NULL;

  g_test_summary ("DESIGN §5: a running job sees its check fail and its cancellable "
                  "fire; its InProgress is cancelled at once; a result it returns "
                  "afterwards is freed; the worker is free as soon as it returns");
  kaa_test_spin_until (&runner.started, 1);
  kaa_in_progress_cancel (ip);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
  kaa_test_spin_until (&runner.saw_cancel, 1);
  kaa_test_spin_until (&runner.saw_cancellable, 1);

  /* The one worker takes the next job: the cancelled one let it go. */
  g_atomic_int_set (&blocker.gate, 1);
  next = kaa_thread_pool_run (pool, 0, blocker_func, &blocker, NULL);
  kaa_test_pump_until_done (f->context, next);
  kaa_test_drain (f->context);
  g_assert_cmpint (g_atomic_int_get (&runner.result_freed), ==, 1);
  kaa_thread_pool_shutdown (pool);
}

static void
test_cancel_running_from_thread (Fixture       *f,
                                 gconstpointer  data)
{
  g_autoptr(KaaThreadPool) pool = kaa_test_pool_new (1);
  Blocker blocker = { 0 };
  g_autoptr(KaaInProgress) ip = kaa_thread_pool_run (pool, 0, blocker_func, &blocker, NULL);

  g_test_summary ("DESIGN §5: a cancel from another thread fails the running job's "
                  "check at once, before the owner context carried it out");
  kaa_test_spin_until (&blocker.started, 1);
  g_thread_join (g_thread_new ("canceller", cancel_from_thread, ip));
  kaa_test_spin_until (&blocker.finished, 1);
  g_assert_false (g_atomic_int_get (&blocker.gate));
  kaa_test_pump_until_done (f->context, ip);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
  kaa_thread_pool_shutdown (pool);
}

/* ------------------------------------------------------------ pause */

static void
test_pause_queued (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(KaaThreadPool) pool = kaa_test_pool_new (1);
  Blocker blocker = { 0 };
  Recorder recorder;
  g_autoptr(KaaInProgress) block = NULL;
  g_autoptr(KaaInProgress) paused = NULL;
  g_autoptr(KaaInProgress) behind = NULL;

  g_test_summary ("DESIGN §5: a paused queued job does not start and does not hold up "
                  "the jobs behind it; resumed, it runs");
  recorder_init (&recorder);
  block = kaa_thread_pool_run (pool, 0, blocker_func, &blocker, NULL);
  kaa_test_spin_until (&blocker.started, 1);
  paused = run_tagged (pool, 5, &recorder, "paused", NULL);
  behind = run_tagged (pool, 0, &recorder, "behind", NULL);
  kaa_in_progress_pause (paused);
  kaa_in_progress_pause (paused);
  g_atomic_int_set (&blocker.gate, 1);
  kaa_test_pump_until_done (f->context, behind);
  assert_order (&recorder, "behind");
  g_assert_false (kaa_in_progress_is_done (paused));

  kaa_in_progress_resume (paused);
  kaa_test_pump_for (20);
  assert_order (&recorder, "behind");
  kaa_in_progress_resume (paused);
  kaa_test_pump_until_done (f->context, paused);
  assert_order (&recorder, "behind paused");
  kaa_thread_pool_shutdown (pool);
  recorder_clear (&recorder);
}

static void
test_pause_keeps_place (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(KaaThreadPool) pool = kaa_test_pool_new (1);
  Blocker blocker = { 0 };
  Recorder recorder;
  g_autoptr(KaaInProgress) block = NULL;
  g_autoptr(KaaInProgress) a = NULL;
  g_autoptr(KaaInProgress) b = NULL;
  g_autoptr(KaaInProgress) c = NULL;

  g_test_summary ("DESIGN §6: a queued job paused and resumed before it could run "
                  "goes back to its place among its priority");
  recorder_init (&recorder);
  block = kaa_thread_pool_run (pool, 0, blocker_func, &blocker, NULL);
  kaa_test_spin_until (&blocker.started, 1);
  a = run_tagged (pool, 0, &recorder, "a", NULL);
  b = run_tagged (pool, 0, &recorder, "b", NULL);
  c = run_tagged (pool, 0, &recorder, "c", NULL);
  kaa_in_progress_pause (b);
  kaa_in_progress_pause (a);
  kaa_in_progress_resume (b);
  kaa_in_progress_resume (a);
  g_atomic_int_set (&blocker.gate, 1);
  kaa_test_pump_until_done (f->context, c);
  kaa_test_pump_until_done (f->context, a);
  kaa_test_pump_until_done (f->context, b);
  assert_order (&recorder, "a b c");
  kaa_thread_pool_shutdown (pool);
  recorder_clear (&recorder);
}

typedef struct
{
  gint started;   /* atomic */
  gint gate;      /* atomic */
  gint passed;    /* atomic */
} Checker;

static gpointer
checker_func (KaaThreadJob *job,
              gpointer      user_data,
              GError      **error)
{
  Checker *checker = user_data;

  g_atomic_int_set (&checker->started, 1);
  kaa_test_spin_until (&checker->gate, 1);
  if (kaa_thread_job_check (job))
    g_atomic_int_set (&checker->passed, 1);
  return NULL;
}

static void
test_pause_running (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(KaaThreadPool) pool = kaa_test_pool_new (1);
  Checker checker = { 0 };
  g_autoptr(KaaInProgress) ip = kaa_thread_pool_run (pool, 0, checker_func, &checker, NULL);
  Checker cancelled = { 0 };
  g_autoptr(KaaInProgress) ip2 = NULL;

  g_test_summary ("DESIGN §5: a paused running job waits at its next check; resume "
                  "continues it, cancel makes the check fail");
  kaa_test_spin_until (&checker.started, 1);
  kaa_in_progress_pause (ip);
  g_atomic_int_set (&checker.gate, 1);
  kaa_test_pump_for (50);
  g_assert_false (g_atomic_int_get (&checker.passed));
  kaa_in_progress_resume (ip);
  kaa_test_pump_until_done (f->context, ip);
  g_assert_true (g_atomic_int_get (&checker.passed));

  ip2 = kaa_thread_pool_run (pool, 0, checker_func, &cancelled, NULL);
  kaa_test_spin_until (&cancelled.started, 1);
  kaa_in_progress_pause (ip2);
  g_atomic_int_set (&cancelled.gate, 1);
  kaa_test_pump_for (20);
  kaa_in_progress_cancel (ip2);
  kaa_thread_pool_shutdown (pool);
  g_assert_false (g_atomic_int_get (&cancelled.passed));
}

/* ------------------------------------------------------------ owner thread */

typedef struct
{
  GThread       *owner;
  gint           n_called;
  gint64         sum;
  KaaThreadPool *pool;
} Tally;

static void
tally_callback (KaaInProgress *ip,
                gpointer       user_data)
{
  Tally *tally = user_data;

  g_assert_true (g_thread_self () == tally->owner);
  tally->n_called++;
  tally->sum += kaa_in_progress_get_int64 (ip);
}

static void
await_job_body (KaaCoroutine *co,
                gpointer      user_data)
{
  Tally *tally = user_data;
  g_autoptr(GError) error = NULL;
  gint64 value = kaa_await_int64 (kaa_thread_pool_run (tally->pool, 0, return_int64_func,
                                                       GINT_TO_POINTER (7), NULL), &error);

  g_assert_no_error (error);
  g_assert_true (g_thread_self () == tally->owner);
  kaa_coroutine_return_int64 (co, value * 6);
}

static void
test_owner_thread (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(KaaThreadPool) pool = kaa_test_pool_new (4);
  Tally tally = { g_thread_self (), 0, 0, NULL };
  g_autoptr(GPtrArray) ips = g_ptr_array_new_with_free_func ((GDestroyNotify) kaa_in_progress_unref);
  g_autoptr(KaaInProgress) co = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary ("DESIGN §2, §4: a job's callbacks run on its owner thread, and a "
                  "coroutine awaiting a job resumes there with its result");
  for (gint i = 1; i <= 50; i++)
    {
      KaaInProgress *ip = kaa_thread_pool_run (pool, 0, return_int64_func, GINT_TO_POINTER (i), NULL);

      kaa_in_progress_connect (ip, tally_callback, &tally, NULL);
      g_ptr_array_add (ips, ip);
    }
  for (guint i = 0; i < ips->len; i++)
    kaa_test_pump_until_done (f->context, ips->pdata[i]);
  kaa_test_drain (f->context);
  g_assert_cmpint (tally.n_called, ==, 50);
  g_assert_cmpint (tally.sum, ==, 50 * 51 / 2);

  tally.pool = pool;
  co = kaa_coroutine_spawn (await_job_body, &tally, NULL);
  g_assert_true (kaa_in_progress_wait (co, &error));
  g_assert_cmpint (kaa_in_progress_get_int64 (co), ==, 42);
  kaa_thread_pool_shutdown (pool);
}

static void
test_batched_delivery (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(KaaThreadPool) pool = kaa_test_pool_new (1);
  Tally tally = { g_thread_self (), 0, 0, NULL };
  g_autoptr(GPtrArray) ips = g_ptr_array_new_with_free_func ((GDestroyNotify) kaa_in_progress_unref);
  Blocker blocker = { 0 };
  g_autoptr(KaaInProgress) block = NULL;

  g_test_summary ("DESIGN §3: completions that arrived since the last dispatch are "
                  "all delivered by one iteration of the owner context");
  /* One iteration must deliver all 100: under TSan on a loaded machine
   * they can outlast the default budget of 4 ms, which has tests of its
   * own. */
  kaa_main_set_budget (G_USEC_PER_SEC);
  for (gint i = 1; i <= 100; i++)
    {
      KaaInProgress *ip = kaa_thread_pool_run (pool, 0, return_int64_func, GINT_TO_POINTER (i), NULL);

      kaa_in_progress_connect (ip, tally_callback, &tally, NULL);
      g_ptr_array_add (ips, ip);
    }
  /* One worker: when the blocker runs, the 100 before it were handed over. */
  block = kaa_thread_pool_run (pool, 0, blocker_func, &blocker, NULL);
  kaa_test_spin_until (&blocker.started, 1);
  g_assert_cmpint (tally.n_called, ==, 0);
  g_assert_true (g_main_context_iteration (f->context, FALSE));
  g_assert_cmpint (tally.n_called, ==, 100);
  g_assert_cmpint (tally.sum, ==, 5050);
  g_atomic_int_set (&blocker.gate, 1);
  kaa_test_pump_until_done (f->context, block);
  kaa_thread_pool_shutdown (pool);
}

/* ------------------------------------------------------------ progress */

static gpointer
progress_func (KaaThreadJob *job,
               gpointer      user_data,
               GError      **error)
{
  for (gint i = 1; i <= 1000; i++)
    kaa_thread_job_set_progress (job, i, 1000);
  return NULL;
}

static void
progress_callback (KaaInProgress *ip,
                   gpointer       user_data)
{
  Tally *tally = user_data;

  g_assert_true (g_thread_self () == tally->owner);
  tally->n_called++;
}

static void
test_progress (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(KaaThreadPool) pool = kaa_test_pool_new (1);
  Tally tally = { g_thread_self (), 0, 0, NULL };
  g_autoptr(KaaInProgress) ip = kaa_thread_pool_run (pool, 0, progress_func, NULL, NULL);
  gint64 position = 0;
  gint64 total = 0;

  g_test_summary ("DESIGN §2, §5: a job's progress reaches its InProgress on the owner "
                  "context, throttled, and the last value is delivered");
  kaa_in_progress_connect_progress (ip, progress_callback, &tally, NULL);
  kaa_test_pump_until_done (f->context, ip);
  g_assert_true (kaa_in_progress_get_progress (ip, &position, &total));
  g_assert_cmpint (position, ==, 1000);
  g_assert_cmpint (total, ==, 1000);
  g_assert_cmpint (tally.n_called, >=, 1);
  g_assert_cmpint (tally.n_called, <, 1000);
  kaa_thread_pool_shutdown (pool);
}

/* ------------------------------------------------------------ main thread */

static void
main_call (KaaInProgress *ip,
           gpointer       user_data)
{
  g_assert_true (g_thread_self () == user_data);
  kaa_in_progress_finish_int64 (ip, 99);
}

static gpointer
calls_main_func (KaaThreadJob *job,
                 gpointer      user_data,
                 GError      **error)
{
  g_autoptr(KaaInProgress) call = kaa_main_thread_run (main_call, user_data, NULL);

  g_assert_true (g_thread_self () != user_data);
  if (!kaa_in_progress_wait (call, error))
    return NULL;
  kaa_thread_job_return_int64 (job, kaa_in_progress_get_int64 (call) + 1);
  return NULL;
}

static void
test_main_thread_run (void)
{
  g_autoptr(KaaThreadPool) pool = kaa_test_pool_new (2);
  g_autoptr(KaaInProgress) a = kaa_thread_pool_run (pool, 0, calls_main_func, g_thread_self (), NULL);
  g_autoptr(KaaInProgress) b = kaa_thread_pool_run (pool, 0, calls_main_func, g_thread_self (), NULL);
  g_autoptr(GError) error = NULL;

  g_test_summary ("DESIGN §5: a worker runs a function on the main context and "
                  "blocks on its InProgress (kaa's MAINTHREAD)");
  /* No private context here: the jobs and the calls share the global one. */
  g_assert_true (kaa_in_progress_wait (a, &error));
  g_assert_true (kaa_in_progress_wait (b, &error));
  g_assert_cmpint (kaa_in_progress_get_int64 (a), ==, 100);
  g_assert_cmpint (kaa_in_progress_get_int64 (b), ==, 100);
  kaa_thread_pool_shutdown (pool);
}

static gpointer
calls_main_many (KaaThreadJob *job,
                 gpointer      user_data,
                 GError      **error)
{
  for (guint i = 0; i < 200; i++)
    {
      g_autoptr(KaaInProgress) call = kaa_main_thread_run (main_call, user_data, NULL);

      if (!kaa_in_progress_wait (call, error))
        return NULL;
    }
  kaa_thread_job_return_int64 (job, 200);
  return NULL;
}

static void
test_main_thread_run_many (void)
{
  g_autoptr(KaaThreadPool) pool = kaa_test_pool_new (2);
  g_autoptr(KaaInProgress) a = kaa_thread_pool_run (pool, 0, calls_main_many, g_thread_self (), NULL);
  g_autoptr(KaaInProgress) b = kaa_thread_pool_run (pool, 0, calls_main_many, g_thread_self (), NULL);

  g_test_summary ("Regression: kaa_main_thread_run() read its call after handing it to "
                  "the main thread, which may already have run and freed it (TSan: "
                  "heap-use-after-free); 400 calls while the main thread dispatches");
  g_assert_true (kaa_in_progress_wait (a, NULL));
  g_assert_true (kaa_in_progress_wait (b, NULL));
  g_assert_cmpint (kaa_in_progress_get_int64 (a) + kaa_in_progress_get_int64 (b), ==, 400);
  kaa_thread_pool_shutdown (pool);
}

/* ------------------------------------------------------------ volume */

static gpointer
count_func (KaaThreadJob *job,
            gpointer      user_data,
            GError      **error)
{
  return user_data;
}

static void
count_callback (KaaInProgress *ip,
                gpointer       user_data)
{
  (*(gint *) user_data)++;
}

static void
test_many_jobs (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(KaaThreadPool) pool = kaa_test_pool_new (0);
  KaaInProgress **ips = g_new (KaaInProgress *, 100000);
  gint n_called = 0;

  g_test_summary ("DESIGN §5: 100 000 jobs in flight all run, and all complete on "
                  "the owner context");
  for (gint i = 0; i < 100000; i++)
    {
      ips[i] = kaa_thread_pool_run (pool, i % 3, count_func, GINT_TO_POINTER (i), NULL);
      kaa_in_progress_connect (ips[i], count_callback, &n_called, NULL);
    }
  for (gint i = 0; i < 100000; i++)
    {
      kaa_test_pump_until_done (f->context, ips[i]);
      g_assert_cmpint (GPOINTER_TO_INT (kaa_in_progress_get_pointer (ips[i])), ==, i);
    }
  kaa_test_drain (f->context);
  g_assert_cmpint (n_called, ==, 100000);
  for (gint i = 0; i < 100000; i++)
    kaa_in_progress_unref (ips[i]);
  g_free (ips);
  kaa_thread_pool_shutdown (pool);
}

/* ------------------------------------------------------------ lifetime */

static gpointer
wait_cancellable_func (KaaThreadJob *job,
                       gpointer      user_data,
                       GError      **error)
{
  Runner *runner = user_data;
  GCancellable *cancellable = kaa_thread_job_get_cancellable (job);

  g_atomic_int_set (&runner->started, 1);
  /* A blocking call that only the cancellable ends. */
  while (!g_cancellable_is_cancelled (cancellable))
    g_usleep (200);
  g_atomic_int_set (&runner->saw_cancellable, 1);
  g_atomic_int_set (&runner->saw_cancel, !kaa_thread_job_check (job));
  return NULL;
}

static void
test_shutdown (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(KaaThreadPool) pool = kaa_test_pool_new (1);
  Runner runner = { 0 };
  Recorder recorder;
  gint destroyed = 0;
  g_autoptr(KaaInProgress) running = kaa_thread_pool_run (pool, 0, wait_cancellable_func, &runner, NULL);
  g_autoptr(KaaInProgress) queued = NULL;
  g_autoptr(KaaInProgress) parked = NULL;
  g_autoptr(KaaInProgress) late = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary ("DESIGN §5: shutdown cancels queued jobs without running them, "
                  "fires running jobs' cancellables, joins the threads; later jobs fail");
  recorder_init (&recorder);
  kaa_test_spin_until (&runner.started, 1);
  queued = run_tagged (pool, 0, &recorder, "queued", &destroyed);
  parked = run_tagged (pool, 0, &recorder, "parked", &destroyed);
  kaa_in_progress_pause (parked);

  kaa_thread_pool_shutdown (pool);
  g_assert_cmpuint (kaa_thread_pool_get_n_threads (pool), ==, 0);
  g_assert_true (g_atomic_int_get (&runner.saw_cancellable));
  g_assert_true (g_atomic_int_get (&runner.saw_cancel));
  g_assert_cmpint (kaa_in_progress_get_state (running), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (kaa_in_progress_get_state (queued), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (kaa_in_progress_get_state (parked), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (g_atomic_int_get (&destroyed), ==, 2);
  assert_order (&recorder, "");

  late = kaa_thread_pool_run (pool, 0, count_func, NULL, NULL);
  g_assert_false (kaa_in_progress_wait (late, &error));
  g_assert_error (error, KAA_ERROR, KAA_ERROR_FAILED);
  kaa_thread_pool_shutdown (pool);
  kaa_test_drain (f->context);
  recorder_clear (&recorder);
}

static void
test_idle_retire (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(KaaThreadPool) pool = kaa_test_pool_new (3);
  g_autoptr(KaaInProgress) ip = NULL;
  gint64 deadline;

  g_test_summary ("Issue #4: threads start lazily and retire after the idle timeout");
  g_assert_cmpuint (kaa_thread_pool_get_n_threads (pool), ==, 0);
  kaa_thread_pool_set_idle_timeout (pool, 10);
  ip = kaa_thread_pool_run (pool, 0, count_func, NULL, NULL);
  g_assert_cmpuint (kaa_thread_pool_get_n_threads (pool), ==, 1);
  kaa_test_pump_until_done (f->context, ip);
  deadline = g_get_monotonic_time () + KAA_TEST_WATCHDOG_SEC * G_USEC_PER_SEC;
  while (kaa_thread_pool_get_n_threads (pool) > 0)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (1000);
    }
  g_clear_pointer (&ip, kaa_in_progress_unref);
  ip = kaa_thread_pool_run (pool, 0, count_func, NULL, NULL);
  kaa_test_pump_until_done (f->context, ip);
  kaa_thread_pool_shutdown (pool);
}

static const KaaThreadDef hash_def = {
  .name = "hash-file",
  .func = return_string_func,
  .pool = "test-def",
  .priority = 3,
};

static void
test_def_and_registry (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(KaaInProgress) ip = kaa_thread_run_def (&hash_def, NULL, NULL);
  g_autoptr(KaaInProgress) plain = kaa_thread_run (return_int64_func, GINT_TO_POINTER (5), NULL);
  KaaThreadPool *pool = kaa_thread_pool_get ("test-def");
  g_autoptr(KaaThreadPool) again = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary ("Issue #4: named pools are registered and created on first use; a "
                  "KaaThreadDef names the job and picks pool and priority");
  g_assert_true (G_TYPE_IS_BOXED (KAA_TYPE_THREAD_POOL));
  g_assert_cmpstr (kaa_thread_pool_get_name (pool), ==, "test-def");
  g_assert_true (kaa_thread_pool_get ("test-def") == pool);
  g_assert_cmpstr (kaa_thread_pool_get_name (kaa_thread_pool_get_default ()), ==, "default");
  g_assert_cmpstr (kaa_in_progress_get_name (ip), ==, "hash-file");
  g_assert_true (kaa_in_progress_wait (ip, &error));
  g_assert_cmpstr (kaa_in_progress_get_string (ip), ==, "hashed");
  g_assert_true (kaa_in_progress_wait (plain, &error));
  g_assert_cmpint (kaa_in_progress_get_int64 (plain), ==, 5);

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*already exists*");
  again = kaa_thread_pool_new ("test-def", 1);
  g_test_assert_expected_messages ();
  g_assert_true (again == pool);
  kaa_thread_pool_shutdown (pool);
  kaa_thread_pool_shutdown (kaa_thread_pool_get_default ());
}

static void
test_bad_input (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(KaaInProgress) ip = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary ("STYLE §5: a failed precondition returns a failed InProgress, never NULL");
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*func != NULL*");
  ip = kaa_thread_run (NULL, NULL, NULL);
  g_test_assert_expected_messages ();
  g_assert_false (kaa_in_progress_wait (ip, &error));
  g_assert_error (error, KAA_ERROR, KAA_ERROR_INVALID_ARGUMENT);
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*job != NULL*");
  g_assert_false (kaa_thread_job_check (NULL));
  g_test_assert_expected_messages ();
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  KAA_TEST_ADD ("results", test_results);
  KAA_TEST_ADD ("priority-order", test_priority_order);
  KAA_TEST_ADD ("priority-many", test_priority_many);
  KAA_TEST_ADD ("cancel-queued", test_cancel_queued);
  KAA_TEST_ADD ("job-counted-after-in-progress", test_job_counted_after_in_progress);
  KAA_TEST_ADD ("cancel-running", test_cancel_running);
  KAA_TEST_ADD ("cancel-running-from-thread", test_cancel_running_from_thread);
  KAA_TEST_ADD ("pause-queued", test_pause_queued);
  KAA_TEST_ADD ("pause-keeps-place", test_pause_keeps_place);
  KAA_TEST_ADD ("pause-running", test_pause_running);
  KAA_TEST_ADD ("owner-thread", test_owner_thread);
  KAA_TEST_ADD ("batched-delivery", test_batched_delivery);
  KAA_TEST_ADD ("progress", test_progress);
  KAA_TEST_ADD ("many-jobs", test_many_jobs);
  KAA_TEST_ADD ("shutdown", test_shutdown);
  KAA_TEST_ADD ("idle-retire", test_idle_retire);
  KAA_TEST_ADD ("def-and-registry", test_def_and_registry);
  KAA_TEST_ADD ("bad-input", test_bad_input);
  g_test_add_func ("/kaa/thread-pool/main-thread-run", test_main_thread_run);
  g_test_add_func ("/kaa/thread-pool/main-thread-run-many", test_main_thread_run_many);

  return g_test_run ();
}
