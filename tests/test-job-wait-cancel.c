/* test-job-wait-cancel.c: a job's blocking wait ends with the job
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A thread-pool job may block in kaa_in_progress_wait(). That wait also
 * ends when the job is cancelled or its pool shuts down, failing with
 * G_IO_ERROR_CANCELLED: a shutdown on the owner thread must not wait for
 * a job that waits in turn for something only the owner's loop settles.
 */
#include "config.h"

#define KAA_TEST_AREA "job-wait-cancel"
#include "kaa-test-util.h"

typedef struct
{
  KaaThreadPool *pool;
  gint           inner_ran;   /* atomic */
  gint           waiting;     /* atomic: the outer job is about to wait */
  GError        *error;       /* the outer job's wait's */
  gint           outer_done;  /* atomic */
  GMutex         gate_lock;
  GCond          gate_cond;
  gboolean       gate_open;   /* under gate_lock: the inner job may return */
} Nest;

/* Returns once the gate is open (at once when it already is). */
static gpointer
inner_job (KaaThreadJob  *job,
           gpointer       data,
           GError       **error)
{
  Nest *nest = data;

  g_atomic_int_set (&nest->inner_ran, TRUE);
  g_mutex_lock (&nest->gate_lock);
  while (!nest->gate_open)
    g_cond_wait (&nest->gate_cond, &nest->gate_lock);
  g_mutex_unlock (&nest->gate_lock);
  return GINT_TO_POINTER (1);
}

/* Submits the inner job to the same pool and blocks waiting for it. The
 * inner job's InProgress belongs to the owner's context (this worker has
 * none of its own), so it settles only when the owner iterates. */
static gpointer
outer_job (KaaThreadJob  *job,
           gpointer       data,
           GError       **error)
{
  Nest *nest = data;
  KaaInProgress *inner = kaa_thread_pool_run (nest->pool, 0, inner_job, nest, NULL);

  g_atomic_int_set (&nest->waiting, TRUE);
  g_assert_false (kaa_in_progress_wait (inner, &nest->error));
  kaa_in_progress_unref (inner);
  g_atomic_int_set (&nest->outer_done, TRUE);
  return NULL;
}

static void
nest_init (Nest *nest,
           guint threads)
{
  *nest = (Nest) { kaa_test_pool_new (threads) };
  g_mutex_init (&nest->gate_lock);
  g_cond_init (&nest->gate_cond);
}

static void
nest_open_gate (Nest *nest)
{
  g_mutex_lock (&nest->gate_lock);
  nest->gate_open = TRUE;
  g_cond_broadcast (&nest->gate_cond);
  g_mutex_unlock (&nest->gate_lock);
}

/* The inner job's InProgress was made on a worker, so it belongs to the
 * global default context, which this thread owns: its completion is
 * delivered there. */
static void
drain_both (KaaTestFixture *f)
{
  kaa_test_drain (f->context);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
nest_clear (Nest *nest)
{
  g_clear_error (&nest->error);
  kaa_thread_pool_unref (nest->pool);
  g_mutex_clear (&nest->gate_lock);
  g_cond_clear (&nest->gate_cond);
}

static void
spin_until (gint *flag)
{
  gint64 deadline = g_get_monotonic_time () + KAA_TEST_WATCHDOG_SEC * G_USEC_PER_SEC;

  while (!g_atomic_int_get (flag))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (1000);
    }
}

static void
test_cancel (KaaTestFixture *f,
             gconstpointer   data)
{
  Nest nest;
  KaaInProgress *outer;

  g_test_summary ("A job blocked in kaa_in_progress_wait() for a job that does not end "
                  "is cancelled: its wait fails with G_IO_ERROR_CANCELLED at once");

  nest_init (&nest, 2);
  outer = kaa_thread_pool_run (nest.pool, 0, outer_job, &nest, NULL);
  spin_until (&nest.inner_ran);
  spin_until (&nest.waiting);
  kaa_in_progress_cancel (outer);
  /* The inner job still holds its gate shut: only the cancel ends the wait. */
  spin_until (&nest.outer_done);
  g_assert_error (nest.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_nonnull (strstr (nest.error->message, "was cancelled"));

  nest_open_gate (&nest);
  kaa_in_progress_unref (outer);
  kaa_thread_pool_shutdown (nest.pool);
  drain_both (f);
  nest_clear (&nest);
}

static gpointer
cancel_on_thread (gpointer data)
{
  kaa_in_progress_cancel (data);
  return NULL;
}

static void
test_cancel_from_thread (KaaTestFixture *f,
                         gconstpointer   data)
{
  Nest nest;
  KaaInProgress *outer;

  g_test_summary ("A job blocked in kaa_in_progress_wait() is cancelled from a third "
                  "thread while the owner thread does not iterate: its wait still ends "
                  "at once with G_IO_ERROR_CANCELLED");

  nest_init (&nest, 2);
  outer = kaa_thread_pool_run (nest.pool, 0, outer_job, &nest, NULL);
  spin_until (&nest.inner_ran);
  spin_until (&nest.waiting);
  g_thread_join (g_thread_new ("canceller", cancel_on_thread, outer));
  /* Not iterating: nothing the owner's loop would deliver helps. */
  spin_until (&nest.outer_done);
  g_assert_error (nest.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  nest_open_gate (&nest);
  kaa_thread_pool_shutdown (nest.pool);
  drain_both (f);
  g_assert_true (kaa_in_progress_is_done (outer));
  kaa_in_progress_unref (outer);
  nest_clear (&nest);
}

static void
test_shutdown (KaaTestFixture *f,
               gconstpointer   data)
{
  Nest nest;
  KaaInProgress *outer;

  g_test_summary ("Shutting a pool down on the owner thread, without iterating, while a "
                  "job waits for a job whose InProgress only the owner's loop settles, "
                  "returns: the waiting job's wait fails with the shutdown");

  nest_init (&nest, 2);
  nest_open_gate (&nest);
  outer = kaa_thread_pool_run (nest.pool, 0, outer_job, &nest, NULL);
  spin_until (&nest.inner_ran);
  spin_until (&nest.waiting);
  /* The inner job has run or is about to; its InProgress settles only
   * when this thread iterates, which it does not: before the guard, the
   * shutdown joined a worker that waited for this loop, for ever. */
  kaa_thread_pool_shutdown (nest.pool);
  g_assert_true (g_atomic_int_get (&nest.outer_done));
  g_assert_error (nest.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  drain_both (f);
  g_assert_true (kaa_in_progress_is_done (outer));
  kaa_in_progress_unref (outer);
  nest_clear (&nest);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  KAA_TEST_ADD ("cancel", test_cancel);
  KAA_TEST_ADD ("cancel-from-thread", test_cancel_from_thread);
  KAA_TEST_ADD ("shutdown", test_shutdown);

  return g_test_run ();
}
