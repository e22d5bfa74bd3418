/* test-misuse.c: misuse that must not break the library (DESIGN §2, §4, §6; issue #7)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Callbacks that finish, cancel or pause the InProgress they are called
 * for, and cleanups that cancel: each settles every InProgress exactly
 * once and runs every cleanup once;
 * kaa_test_still_works() then checks that an ordinary coroutine still
 * settles, and the fixture that nothing leaked. The argument checks of
 * every public function are in test-bad-input.c; waits nested beyond the
 * limit, in test-in-progress-threads.c (wait-nesting).
 */
#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "kaa-test-util.h"

typedef KaaTestFixture Fixture;

#define KAA_TEST_AREA "misuse"

/* --------------------------------- callbacks acting on their InProgress */

typedef struct
{
  GString *log;
} Meddler;

static void
callback_finishes_again (KaaInProgress *ip,
                         gpointer       data)
{
  g_string_append (((Meddler *) data)->log, "f");
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*already done*");
  kaa_in_progress_finish_int64 (ip, 2);
  g_test_assert_expected_messages ();
}

static void
callback_cancels (KaaInProgress *ip,
                  gpointer       data)
{
  g_string_append (((Meddler *) data)->log, "c");
  kaa_in_progress_cancel (ip);
}

static void
callback_pauses (KaaInProgress *ip,
                 gpointer       data)
{
  g_string_append (((Meddler *) data)->log, "p");
  kaa_in_progress_pause (ip);
  g_assert_true (kaa_in_progress_is_paused (ip));   /* counted, reaches nothing */
  kaa_in_progress_resume (ip);
  g_assert_false (kaa_in_progress_is_paused (ip));
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*kaa_in_progress_resume: InProgress * is not paused*");
  kaa_in_progress_resume (ip);
  g_test_assert_expected_messages ();
}

static void
callback_logs (KaaInProgress *ip,
               gpointer       data)
{
  g_string_append (((Meddler *) data)->log, "l");
}

static void
body_awaits_int (KaaCoroutine *co,
                 gpointer      data)
{
  g_autoptr(GError) error = NULL;
  gint64 value = kaa_await_int64 (kaa_in_progress_ref (data), &error);

  if (error == NULL)
    kaa_coroutine_return_int64 (co, value * 10);
}

static void
connect_meddlers (KaaInProgress *ip,
                  Meddler       *m)
{
  kaa_in_progress_connect (ip, callback_finishes_again, m, NULL);
  kaa_in_progress_connect (ip, callback_cancels, m, NULL);
  kaa_in_progress_connect (ip, callback_pauses, m, NULL);
  kaa_in_progress_connect (ip, callback_logs, m, NULL);
}

static void
test_callback_acts_on_self (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  Meddler m = { log };
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) awaiter = kaa_coroutine_spawn (body_awaits_int, ip, NULL);
  g_autoptr(KaaInProgress) cancelled = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) late = kaa_in_progress_new ();

  g_test_summary ("DESIGN §2: a callback that finishes, cancels, pauses or resumes "
                  "the InProgress it is called for changes nothing: the result stays, "
                  "the other callbacks and an awaiting coroutine still run");

  connect_meddlers (ip, &m);
  kaa_in_progress_finish_int64 (ip, 4);
  g_assert_cmpstr (log->str, ==, "fcpl");
  g_assert_cmpint (kaa_in_progress_get_int64 (ip), ==, 4);
  g_assert_true (kaa_in_progress_wait (awaiter, NULL));
  g_assert_cmpint (kaa_in_progress_get_int64 (awaiter), ==, 40);

  /* The same from inside a cancel. */
  g_string_truncate (log, 0);
  kaa_in_progress_connect (cancelled, callback_cancels, &m, NULL);
  kaa_in_progress_connect (cancelled, callback_pauses, &m, NULL);
  kaa_in_progress_connect (cancelled, callback_logs, &m, NULL);
  kaa_in_progress_cancel (cancelled);
  g_assert_cmpstr (log->str, ==, "cpl");
  g_assert_cmpint (kaa_in_progress_get_state (cancelled), ==, KAA_STATE_CANCELLED);

  /* Connected late: the callbacks run on the next dispatch instead. */
  g_string_truncate (log, 0);
  kaa_in_progress_finish_int64 (late, 1);
  connect_meddlers (late, &m);
  g_assert_cmpstr (log->str, ==, "");
  kaa_test_drain (f->context);
  g_assert_cmpstr (log->str, ==, "fcpl");
  g_assert_cmpint (kaa_in_progress_get_int64 (late), ==, 1);
  kaa_test_still_works ();
}

/* A callback of what a coroutine awaits cancels that coroutine. */
static void
callback_cancels_other (KaaInProgress *ip,
                        gpointer       data)
{
  kaa_in_progress_cancel (data);
}

static void
test_callback_cancels_awaiter (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) awaiter = kaa_coroutine_spawn (body_awaits_int, ip, NULL);

  g_test_summary ("DESIGN §6: a callback of the awaited InProgress that cancels its "
                  "awaiter cancels it, and the awaited result stays");

  kaa_in_progress_connect (ip, callback_cancels_other, awaiter, NULL);
  kaa_in_progress_finish_int64 (ip, 4);
  g_assert_cmpint (kaa_in_progress_get_state (awaiter), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (kaa_in_progress_get_int64 (ip), ==, 4);
  kaa_test_drain (f->context);
  g_assert_cmpint (kaa_in_progress_get_state (awaiter), ==, KAA_STATE_CANCELLED);
  kaa_test_still_works ();
}

/* -------------------------------------------- cancel from a cleanup */

/* A g_autoptr() cleanup that cancels: the C form of a `finally` that
 * cancels something. */
typedef struct
{
  KaaInProgress *target;
  guint         *runs;
} Canceller;

static void
canceller_free (Canceller *c)
{
  (*c->runs)++;
  kaa_in_progress_cancel (c->target);
  kaa_in_progress_unref (c->target);
  g_free (c);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Canceller, canceller_free)

static Canceller *
canceller_new (KaaInProgress *target,
               guint         *runs)
{
  Canceller *c = g_new0 (Canceller, 1);

  c->target = kaa_in_progress_ref (target);
  c->runs = runs;
  return c;
}

typedef struct
{
  KaaInProgress *awaited;
  KaaInProgress *target;   /* NULL: the coroutine's own InProgress */
  guint          runs;
} CleanupCase;

static void
body_cleanup_cancels (KaaCoroutine *co,
                      gpointer      data)
{
  CleanupCase *c = data;
  g_autoptr(Canceller) canceller =
    canceller_new (c->target != NULL ? c->target : kaa_coroutine_get_in_progress (co), &c->runs);

  if (kaa_await (kaa_in_progress_ref (c->awaited), NULL))
    kaa_coroutine_return_int64 (co, 1);
}

static void
test_cleanup_cancels (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(KaaInProgress) gate = kaa_in_progress_new ();
  CleanupCase victim_case = { gate, NULL, 0 };
  g_autoptr(KaaInProgress) victim = kaa_coroutine_spawn (body_cleanup_cancels,
                                                         &victim_case, NULL);
  g_autoptr(KaaInProgress) sleep = kaa_sleep (60 * 1000);
  CleanupCase outer_case = { sleep, victim, 0 };
  g_autoptr(KaaInProgress) outer = kaa_coroutine_spawn (body_cleanup_cancels,
                                                        &outer_case, NULL);
  g_autoptr(KaaInProgress) self_gate = kaa_in_progress_new ();
  CleanupCase self_case = { self_gate, NULL, 0 };
  g_autoptr(KaaInProgress) self_cancel = kaa_coroutine_spawn (body_cleanup_cancels,
                                                              &self_case, NULL);

  g_test_summary ("DESIGN §4, §6: a cleanup that cancels, run by a cancel, cancels "
                  "another coroutine at once, or its own InProgress, which is "
                  "already being cancelled; each cleanup runs once");

  /* outer is cancelled -> its cleanup cancels victim -> victim's cleanup
   * cancels victim again, inside that cancel. */
  kaa_in_progress_cancel (outer);
  g_assert_cmpint (kaa_in_progress_get_state (outer), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (kaa_in_progress_get_state (sleep), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (kaa_in_progress_get_state (victim), ==, KAA_STATE_CANCELLED);
  g_assert_cmpuint (outer_case.runs, ==, 1);
  g_assert_cmpuint (victim_case.runs, ==, 1);
  g_assert_cmpint (kaa_in_progress_get_state (gate), ==, KAA_STATE_CANCELLED);

  /* A body that returns normally and cancels itself in its cleanup: the
   * cleanups run before the InProgress settles, so the cancel wins and
   * the returned value is dropped. */
  kaa_in_progress_finish_boolean (self_gate, TRUE);
  g_assert_false (kaa_in_progress_wait (self_cancel, NULL));
  g_assert_cmpuint (self_case.runs, ==, 1);
  g_assert_cmpint (kaa_in_progress_get_state (self_cancel), ==, KAA_STATE_CANCELLED);
  kaa_test_still_works ();
}

typedef struct
{
  KaaInProgress *ip;      /* atomic: set once the job was submitted */
  gint           ready;   /* atomic: 1 once @ip is set */
  gint           runs;
} JobCleanup;

static void
job_cleanup_cancels (gpointer data)
{
  JobCleanup *c = data;

  g_atomic_int_inc (&c->runs);
  kaa_in_progress_cancel (g_atomic_pointer_get (&c->ip));
}

/* Waits for the submitter to publish the InProgress, which the destroy
 * notify cancels, then returns a result that must be dropped and freed. */
static gpointer
job_returns_string (KaaThreadJob *job,
                    gpointer      data,
                    GError      **error)
{
  JobCleanup *c = data;

  kaa_test_wait_for_round (&c->ready, 1);
  kaa_thread_job_return_string (job, "dropped");
  return NULL;
}

static void
test_job_cleanup_cancels (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(KaaThreadPool) pool = kaa_thread_pool_new ("misuse-cleanup", 1);
  JobCleanup c = { NULL, 0, 0 };
  g_autoptr(GError) error = NULL;

  g_test_summary ("DESIGN §5, §6: a job's destroy notify that cancels the job's own "
                  "InProgress from the worker cancels it once, and leaks nothing");

  g_atomic_pointer_set (&c.ip, kaa_thread_pool_run (pool, 0, job_returns_string, &c,
                                                    job_cleanup_cancels));
  g_atomic_int_set (&c.ready, 1);
  /* The worker calls the destroy notify before it hands the result over:
   * the cancel comes first, and the result is dropped (and freed). */
  g_assert_false (kaa_in_progress_wait (c.ip, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_atomic_int_get (&c.runs), ==, 1);
  kaa_test_drain (f->context);
  kaa_in_progress_unref (c.ip);
  kaa_test_pool_still_works (pool);
  kaa_test_still_works ();
}

/* ------------------------------------------- misuse caught and named */

typedef struct
{
  KaaInProgress *awaited;
  gboolean       waited;
  GError        *error;
} Waiter;

static void
body_waits (KaaCoroutine *co,
            gpointer      data)
{
  Waiter *w = data;

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL,
                         "*kaa_in_progress_wait: called inside a coroutine for InProgress "
                         "kaa_sleep*kaa_await()*");
  w->waited = kaa_in_progress_wait (w->awaited, &w->error);
  g_test_assert_expected_messages ();
}

static void
test_wait_in_coroutine (Fixture       *f,
                        gconstpointer  data)
{
  Waiter w = { kaa_sleep (60 * 1000), TRUE, NULL };
  g_autoptr(KaaInProgress) co = NULL;

  g_test_summary ("kaa_in_progress_wait() inside a coroutine is a critical and "
                  "KAA_ERROR_IN_COROUTINE, never a loop nested on its stack (DESIGN §2)");
  g_test_bug ("16");

  /* The body runs inside spawn, up to its end: it must not sit in a
   * nested loop for the minute the sleep lasts. */
  co = kaa_coroutine_spawn (body_waits, &w, NULL);
  g_assert_true (kaa_in_progress_is_done (co));
  g_assert_false (w.waited);
  g_assert_error (w.error, KAA_ERROR, KAA_ERROR_IN_COROUTINE);
  g_assert_nonnull (strstr (w.error->message, "kaa_sleep"));
  g_assert_false (kaa_in_progress_is_done (w.awaited));
  g_clear_error (&w.error);
  kaa_in_progress_cancel (w.awaited);
  kaa_in_progress_unref (w.awaited);
  kaa_test_still_works ();
}

typedef struct
{
  KaaInProgress *awaited;
  char          *result;
  GError        *error;
} TypedAwait;

static void
body_awaits_string (KaaCoroutine *co,
                    gpointer      data)
{
  TypedAwait *t = data;

  t->result = kaa_await_string (t->awaited, &t->error);
}

static void
test_typed_await_wrong_type (Fixture       *f,
                             gconstpointer  data)
{
  static int payload;
  TypedAwait t = { kaa_in_progress_new (), (char *) "unset", NULL };
  g_autoptr(KaaInProgress) co = NULL;

  g_test_summary ("A typed await of a result of another type sets a GError naming "
                  "both types, besides the critical (DESIGN §2)");
  g_test_bug ("16");

  kaa_in_progress_set_static_name (t.awaited, "test-pointer");
  co = kaa_coroutine_spawn (body_awaits_string, &t, NULL);
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL,
                         "*kaa_await_string: InProgress test-pointer (*) finished with a "
                         "result of type pointer, not string*");
  kaa_in_progress_finish_pointer (t.awaited, &payload, NULL);
  kaa_test_pump_until_done (f->context, co);
  g_test_assert_expected_messages ();

  g_assert_null (t.result);
  g_assert_error (t.error, KAA_ERROR, KAA_ERROR_WRONG_RESULT_TYPE);
  g_assert_nonnull (strstr (t.error->message, "test-pointer"));
  g_assert_nonnull (strstr (t.error->message, "pointer"));
  g_assert_nonnull (strstr (t.error->message, "string"));
  g_clear_error (&t.error);
}

static void
test_finish_from_misuse (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(KaaInProgress) nap = kaa_sleep (60 * 1000);
  g_autoptr(KaaInProgress) follower = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) first = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) second = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) source = kaa_in_progress_new ();

  g_test_summary ("finish_from on an InProgress that something else produces, or a "
                  "second time, is a critical that leaves it as it was (DESIGN §2)");
  g_test_bug ("16");

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL,
                         "*kaa_in_progress_finish_from: InProgress kaa_sleep (*) is produced "
                         "by a timer*");
  kaa_in_progress_finish_from (nap, kaa_in_progress_ref (source));
  g_test_assert_expected_messages ();

  kaa_in_progress_finish_from (follower, kaa_in_progress_ref (first));
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL,
                         "*kaa_in_progress_finish_from: InProgress * already follows another "
                         "InProgress*only once*");
  kaa_in_progress_finish_from (follower, kaa_in_progress_ref (second));
  g_test_assert_expected_messages ();

  /* Neither was touched: the follower still follows the first, the
   * sleep still runs its timer, the source has no follower. */
  kaa_in_progress_finish_int64 (second, 2);
  kaa_in_progress_finish_int64 (source, 3);
  g_assert_false (kaa_in_progress_is_done (follower));
  g_assert_false (kaa_in_progress_is_done (nap));
  kaa_in_progress_finish_int64 (first, 1);
  g_assert_cmpint (kaa_in_progress_get_int64 (follower), ==, 1);
  kaa_in_progress_cancel (nap);
}

static gpointer
job_shuts_own_pool (KaaThreadJob *job,
                    gpointer      data,
                    GError      **error)
{
  kaa_thread_pool_shutdown (data);
  kaa_thread_job_return_int64 (job, 1);
  return NULL;
}

static void
test_shutdown_from_own_job (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(KaaThreadPool) pool = kaa_test_pool_new (1);
  g_autoptr(KaaInProgress) ip = NULL;

  g_test_summary ("kaa_thread_pool_shutdown() from one of the pool's own jobs is a "
                  "critical and returns, instead of waiting for itself forever");
  g_test_bug ("16");

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL,
                         "*kaa_thread_pool_shutdown: called from a job of thread pool test-*"
                         "its own thread*");
  ip = kaa_thread_pool_run (pool, 0, job_shuts_own_pool, pool, NULL);
  g_assert_true (kaa_in_progress_wait (ip, NULL));
  g_test_assert_expected_messages ();
  g_assert_cmpint (kaa_in_progress_get_int64 (ip), ==, 1);
  kaa_test_pool_still_works (pool);
  kaa_thread_pool_shutdown (pool);
}

static void
test_set_name_own_name (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  /* Longer than the 16 bytes malloc reuses in a freed block. */
  const char *name = "a name long enough to span several words of memory";

  g_test_summary ("A setter handed the value it already holds copies it before "
                  "freeing the old one");
  g_test_bug ("16");

  kaa_in_progress_set_name (ip, name);
  kaa_in_progress_set_name (ip, kaa_in_progress_get_name (ip));
  g_assert_cmpstr (kaa_in_progress_get_name (ip), ==, name);
  kaa_in_progress_set_static_name (ip, "static");
  kaa_in_progress_set_name (ip, kaa_in_progress_get_name (ip));
  g_assert_cmpstr (kaa_in_progress_get_name (ip), ==, "static");
  kaa_in_progress_cancel (ip);
}

static gpointer
job_reports_unknown_total (KaaThreadJob *job,
                           gpointer      data,
                           GError      **error)
{
  kaa_thread_job_set_progress (job, 1, 0);
  kaa_thread_job_set_progress (job, 2, -1);
  kaa_thread_job_return_int64 (job, 1);
  return NULL;
}

static void
test_job_progress_rule (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(KaaThreadPool) pool = kaa_test_pool_new (1);
  g_autoptr(KaaInProgress) ip = NULL;
  gint64 position = -5, total = -5;

  g_test_summary ("A thread job's progress follows the InProgress rule: an unknown "
                  "total is 0, and -1 is refused by the job's own function");
  g_test_bug ("16");

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL,
                         "*kaa_thread_job_set_progress: assertion 'total >= 0' failed*");
  ip = kaa_thread_pool_run (pool, 0, job_reports_unknown_total, NULL, NULL);
  g_assert_true (kaa_in_progress_wait (ip, NULL));
  g_test_assert_expected_messages ();
  kaa_test_drain (f->context);
  g_assert_true (kaa_in_progress_get_progress (ip, &position, &total));
  g_assert_cmpint (position, ==, 1);
  g_assert_cmpint (total, ==, 0);
  kaa_thread_pool_shutdown (pool);
}

static void
body_second_state (KaaCoroutine *co,
                   gpointer      data)
{
  kaa_coroutine_return_int64 (co, *(gint64 *) data);
}

static void
body_first_state (KaaCoroutine *co,
                  gpointer      data)
{
  *(gint64 *) data = 42;
  kaa_coroutine_become (co, body_second_state, data, g_free);
  /* Twice, as a retrying state machine might: the data stays. */
  kaa_coroutine_become (co, body_second_state, data, g_free);
}

static void
body_returns_pointer_twice (KaaCoroutine *co,
                            gpointer      data)
{
  char *text = g_strdup ("once, though returned twice");

  kaa_coroutine_return_pointer (co, text, g_free);
  kaa_coroutine_return_pointer (co, text, g_free);
}

static void
test_setters_keep_own_value (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(KaaInProgress) chain = NULL;
  g_autoptr(KaaInProgress) twice = NULL;

  g_test_summary ("A tail call handing on its own data, and a return of the pointer "
                  "already returned, move it instead of freeing it");
  g_test_bug ("16");

  chain = kaa_coroutine_spawn (body_first_state, g_new0 (gint64, 1), g_free);
  g_assert_cmpint (kaa_in_progress_get_int64 (chain), ==, 42);
  twice = kaa_coroutine_spawn (body_returns_pointer_twice, NULL, NULL);
  g_assert_cmpstr (kaa_in_progress_get_pointer (twice), ==, "once, though returned twice");
}

/* ------------------------------------------------------------- main */

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);


  KAA_TEST_ADD ("callback-acts-on-self", test_callback_acts_on_self);
  KAA_TEST_ADD ("callback-cancels-awaiter", test_callback_cancels_awaiter);
  KAA_TEST_ADD ("cleanup-cancels", test_cleanup_cancels);
  KAA_TEST_ADD ("job-cleanup-cancels", test_job_cleanup_cancels);
  KAA_TEST_ADD ("wait-in-coroutine", test_wait_in_coroutine);
  KAA_TEST_ADD ("typed-await-wrong-type", test_typed_await_wrong_type);
  KAA_TEST_ADD ("finish-from-misuse", test_finish_from_misuse);
  KAA_TEST_ADD ("shutdown-from-own-job", test_shutdown_from_own_job);
  KAA_TEST_ADD ("set-name-own-name", test_set_name_own_name);
  KAA_TEST_ADD ("job-progress-rule", test_job_progress_rule);
  KAA_TEST_ADD ("setters-keep-own-value", test_setters_keep_own_value);

  return g_test_run ();
}
