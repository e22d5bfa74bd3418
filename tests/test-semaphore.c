/* test-semaphore.c: KaaSemaphore and KaaMutex on one context (DESIGN §9, issue #18 §3)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * FIFO hand-out, cancelled and paused waiters that never hold a permit,
 * holders whose cancel gives the permit back through their g_autoptr
 * guard, misuse criticals, context death, and the issue's 10 000
 * downloads with at most 16 in flight under random cancels and pauses.
 * Threads are in test-semaphore-threads.c.
 */
#include "config.h"

#include "kaa-test-util.h"

typedef KaaTestFixture Fixture;

#define KAA_TEST_AREA "semaphore"
#define ISSUE "18"

typedef struct
{
  GString *log;
  char     letter;
} Served;

static void
served_cb (KaaInProgress *ip,
           gpointer       data)
{
  Served *served = data;

  if (kaa_in_progress_get_state (ip) == KAA_STATE_FINISHED)
    g_string_append_c (served->log, served->letter);
}

static KaaInProgress *
acquire_logged (KaaSemaphore *sem,
                GString      *log,
                char          letter)
{
  KaaInProgress *ip = kaa_semaphore_acquire (sem);
  Served *served = g_new (Served, 1);

  served->log = log;
  served->letter = letter;
  kaa_in_progress_connect (ip, served_cb, served, g_free);
  return ip;
}

static void
test_counting (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(KaaSemaphore) sem = kaa_semaphore_new (2);
  g_autoptr(KaaInProgress) a = NULL, b = NULL, c = NULL;

  g_test_summary ("DESIGN §9: acquire finishes at once while permits are free, "
                  "waits when none is, and a release serves the waiter");
  g_test_bug (ISSUE);

  a = kaa_semaphore_acquire (sem);
  b = kaa_semaphore_acquire (sem);
  c = kaa_semaphore_acquire (sem);
  g_assert_cmpint (kaa_in_progress_get_state (a), ==, KAA_STATE_FINISHED);
  g_assert_true (kaa_in_progress_get_boolean (a));
  g_assert_cmpint (kaa_in_progress_get_state (b), ==, KAA_STATE_FINISHED);
  g_assert_cmpint (kaa_in_progress_get_state (c), ==, KAA_STATE_PENDING);
  g_assert_cmpuint (kaa_semaphore_get_available (sem), ==, 0);
  g_assert_cmpuint (kaa_semaphore_get_n_waiting (sem), ==, 1);
  g_assert_false (kaa_semaphore_try_acquire (sem));

  kaa_semaphore_release (sem);
  g_assert_cmpint (kaa_in_progress_get_state (c), ==, KAA_STATE_FINISHED);
  g_assert_cmpuint (kaa_semaphore_get_available (sem), ==, 0);
  kaa_semaphore_release (sem);
  kaa_semaphore_release (sem);
  g_assert_cmpuint (kaa_semaphore_get_available (sem), ==, 2);
  g_assert_true (kaa_semaphore_try_acquire (sem));
  kaa_semaphore_release (sem);
  g_assert_cmpuint (kaa_semaphore_get_permits (sem), ==, 2);
}

static void
test_fifo (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(KaaSemaphore) sem = kaa_semaphore_new (1);
  g_autoptr(GString) log = g_string_new (NULL);

  g_test_summary ("DESIGN §9: release wakes waiters in FIFO order, and a newcomer "
                  "never overtakes the line, not even with try_acquire; a waiter "
                  "with a callback needs no reference of its own");
  g_test_bug (ISSUE);

  g_assert_true (kaa_semaphore_try_acquire (sem));
  for (guint i = 0; i < 6; i++)
    kaa_in_progress_unref (acquire_logged (sem, log, 'a' + (char) i));
  for (guint i = 0; i < 6; i++)
    {
      kaa_semaphore_release (sem);
      /* The permit went to the next in line, not to the newcomer. */
      g_assert_false (kaa_semaphore_try_acquire (sem));
      kaa_test_drain (f->context);
    }
  g_assert_cmpstr (log->str, ==, "abcdef");
  kaa_semaphore_release (sem);
  g_assert_cmpuint (kaa_semaphore_get_available (sem), ==, 1);
}

static void
test_unobserved_waiter (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(KaaSemaphore) sem = kaa_semaphore_new (1);
  g_autoptr(GString) log = g_string_new (NULL);
  KaaInProgress *dropped;
  g_autoptr(KaaInProgress) kept = NULL;

  g_test_summary ("DESIGN §9: an acquire that nobody holds or listens to when its "
                  "turn comes is cancelled, not served, so no permit is lost");
  g_test_bug (ISSUE);

  g_assert_true (kaa_semaphore_try_acquire (sem));
  dropped = kaa_semaphore_acquire (sem);
  kept = acquire_logged (sem, log, 'k');
  kaa_in_progress_unref (dropped);
  g_assert_cmpuint (kaa_semaphore_get_n_waiting (sem), ==, 2);
  kaa_semaphore_release (sem);
  g_assert_cmpstr (log->str, ==, "k");
  g_assert_cmpuint (kaa_semaphore_get_n_waiting (sem), ==, 0);
  kaa_semaphore_release (sem);
  g_assert_cmpuint (kaa_semaphore_get_available (sem), ==, 1);
}

static void
test_cancel_waiter (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(KaaSemaphore) sem = kaa_semaphore_new (1);
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(KaaInProgress) a = NULL, b = NULL, c = NULL;

  g_test_summary ("DESIGN §9: a cancelled waiter leaves the line and never holds a "
                  "permit");
  g_test_bug (ISSUE);

  g_assert_true (kaa_semaphore_try_acquire (sem));
  a = acquire_logged (sem, log, 'a');
  b = acquire_logged (sem, log, 'b');
  c = acquire_logged (sem, log, 'c');
  kaa_in_progress_cancel (a);
  g_assert_cmpint (kaa_in_progress_get_state (a), ==, KAA_STATE_CANCELLED);
  g_assert_cmpuint (kaa_semaphore_get_n_waiting (sem), ==, 2);
  kaa_semaphore_release (sem);
  g_assert_cmpstr (log->str, ==, "b");
  kaa_semaphore_release (sem);
  g_assert_cmpstr (log->str, ==, "bc");
  kaa_semaphore_release (sem);
  g_assert_cmpuint (kaa_semaphore_get_available (sem), ==, 1);
  /* Cancelling a served waiter changes nothing: it holds the permit. */
  g_assert_true (kaa_semaphore_try_acquire (sem));
  kaa_semaphore_release (sem);
}

static void
test_pause_skips (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(KaaSemaphore) sem = kaa_semaphore_new (1);
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(KaaInProgress) a = NULL, b = NULL, c = NULL;

  g_test_summary ("DESIGN §9: a paused waiter is skipped but keeps its place: the "
                  "permit goes to the next, and the paused one is served before "
                  "later waiters once resumed");
  g_test_bug (ISSUE);

  g_assert_true (kaa_semaphore_try_acquire (sem));
  a = acquire_logged (sem, log, 'a');
  b = acquire_logged (sem, log, 'b');
  kaa_in_progress_pause (a);
  kaa_semaphore_release (sem);
  g_assert_cmpstr (log->str, ==, "b");
  g_assert_cmpint (kaa_in_progress_get_state (a), ==, KAA_STATE_PENDING);

  c = acquire_logged (sem, log, 'c');
  kaa_in_progress_resume (a);
  kaa_semaphore_release (sem);   /* b's */
  g_assert_cmpstr (log->str, ==, "ba");
  kaa_semaphore_release (sem);   /* a's */
  g_assert_cmpstr (log->str, ==, "bac");
  kaa_semaphore_release (sem);   /* c's */
  g_assert_cmpuint (kaa_semaphore_get_available (sem), ==, 1);
}

static void
test_resume_takes_free_permit (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(KaaSemaphore) sem = kaa_semaphore_new (1);
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(KaaInProgress) a = NULL;

  g_test_summary ("DESIGN §6, §9: a permit freed while the only waiter was paused "
                  "stays free, and goes to it on the next iteration after its resume, "
                  "never inside the resume call");
  g_test_bug (ISSUE);

  g_assert_true (kaa_semaphore_try_acquire (sem));
  a = acquire_logged (sem, log, 'a');
  kaa_in_progress_pause (a);
  kaa_semaphore_release (sem);
  g_assert_cmpuint (kaa_semaphore_get_available (sem), ==, 1);
  g_assert_cmpstr (log->str, ==, "");
  kaa_in_progress_resume (a);
  g_assert_cmpstr (log->str, ==, "");
  kaa_test_drain (f->context);
  g_assert_cmpstr (log->str, ==, "a");
  g_assert_cmpuint (kaa_semaphore_get_available (sem), ==, 0);
  kaa_semaphore_release (sem);
}

static void
test_free_permit_behind_paused (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(KaaSemaphore) sem = kaa_semaphore_new (1);
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(KaaInProgress) a = NULL, b = NULL;

  g_test_summary ("DESIGN §9: a permit left free behind a line of paused waiters "
                  "goes to the next waiter that comes, at once; try_acquire still "
                  "does not overtake the line");
  g_test_bug (ISSUE);

  g_assert_true (kaa_semaphore_try_acquire (sem));
  a = acquire_logged (sem, log, 'a');
  kaa_in_progress_pause (a);
  kaa_semaphore_release (sem);
  g_assert_cmpuint (kaa_semaphore_get_available (sem), ==, 1);
  g_assert_false (kaa_semaphore_try_acquire (sem));
  b = kaa_semaphore_acquire (sem);
  g_assert_cmpint (kaa_in_progress_get_state (b), ==, KAA_STATE_FINISHED);
  g_assert_cmpuint (kaa_semaphore_get_available (sem), ==, 0);
  kaa_in_progress_resume (a);
  kaa_semaphore_release (sem);
  g_assert_cmpstr (log->str, ==, "a");
  kaa_semaphore_release (sem);
  g_assert_cmpuint (kaa_semaphore_get_available (sem), ==, 1);
  g_assert_true (kaa_semaphore_try_acquire (sem));
  kaa_semaphore_release (sem);
}

/* ---------------------------------------------------- coroutines, guards */

typedef struct
{
  KaaSemaphore *sem;
  gint          holding;     /* coroutines past their await */
  gint          cleaned;     /* their guards' cleanups */
  gboolean      refused;
} Holder;

static void
holder_body (KaaCoroutine *co,
             gpointer      data)
{
  Holder *h = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(KaaPermit) permit = kaa_semaphore_await (h->sem, &error);
  g_auto(KaaTestFinally) finally = { &h->cleaned };

  if (permit == NULL)
    {
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      h->refused = TRUE;
      return;
    }
  h->holding++;
  kaa_await (kaa_sleep (60 * 1000), NULL);
}

static void
test_cancelled_holder_releases (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(KaaSemaphore) sem = kaa_semaphore_new (1);
  Holder first = { sem }, second = { sem };
  g_autoptr(KaaInProgress) one = NULL, two = NULL;

  g_test_summary ("DESIGN §9: a holder coroutine that is cancelled gives its permit "
                  "back through its g_autoptr guard, and the next waiter gets it");
  g_test_bug (ISSUE);

  one = kaa_coroutine_spawn (holder_body, &first, NULL);
  two = kaa_coroutine_spawn (holder_body, &second, NULL);
  g_assert_cmpint (first.holding, ==, 1);
  g_assert_cmpint (second.holding, ==, 0);
  kaa_in_progress_cancel (one);
  g_assert_cmpint (first.cleaned, ==, 1);
  kaa_test_drain (f->context);
  g_assert_cmpint (second.holding, ==, 1);
  kaa_in_progress_cancel (two);
  g_assert_cmpuint (kaa_semaphore_get_available (sem), ==, 1);
}

static void
test_cancelled_waiter_coroutine (Fixture       *f,
                                 gconstpointer  data)
{
  g_autoptr(KaaSemaphore) sem = kaa_semaphore_new (1);
  Holder h = { sem };
  g_autoptr(KaaInProgress) co = NULL;

  g_test_summary ("DESIGN §9: a coroutine cancelled in line holds nothing; one "
                  "cancelled after it was served but before it resumed gives the "
                  "permit back");
  g_test_bug (ISSUE);

  g_assert_true (kaa_semaphore_try_acquire (sem));
  co = kaa_coroutine_spawn (holder_body, &h, NULL);
  kaa_in_progress_cancel (co);
  g_assert_true (h.refused);
  g_assert_cmpuint (kaa_semaphore_get_n_waiting (sem), ==, 0);
  g_clear_pointer (&co, kaa_in_progress_unref);

  /* Served by the release, which wakes it later in the dispatch; the
   * cancel comes first. */
  h.refused = FALSE;
  co = kaa_coroutine_spawn (holder_body, &h, NULL);
  kaa_semaphore_release (sem);
  g_assert_cmpuint (kaa_semaphore_get_available (sem), ==, 0);
  kaa_in_progress_cancel (co);
  g_assert_true (h.refused);
  g_assert_cmpint (h.holding, ==, 0);
  g_assert_cmpuint (kaa_semaphore_get_available (sem), ==, 1);
}

static void
test_paused_waiter_coroutine (Fixture       *f,
                              gconstpointer  data)
{
  g_autoptr(KaaSemaphore) sem = kaa_semaphore_new (1);
  Holder a = { sem }, b = { sem };
  g_autoptr(KaaInProgress) co_a = NULL, co_b = NULL;

  g_test_summary ("DESIGN §6, §9: pausing a coroutine that waits in line pauses its "
                  "acquire, which is skipped; the next coroutine is served");
  g_test_bug (ISSUE);

  g_assert_true (kaa_semaphore_try_acquire (sem));
  co_a = kaa_coroutine_spawn (holder_body, &a, NULL);
  co_b = kaa_coroutine_spawn (holder_body, &b, NULL);
  kaa_in_progress_pause (co_a);
  kaa_semaphore_release (sem);
  kaa_test_drain (f->context);
  g_assert_cmpint (a.holding, ==, 0);
  g_assert_cmpint (b.holding, ==, 1);
  kaa_in_progress_resume (co_a);
  kaa_in_progress_cancel (co_b);
  kaa_test_drain (f->context);
  g_assert_cmpint (a.holding, ==, 1);
  kaa_in_progress_cancel (co_a);
  g_assert_cmpuint (kaa_semaphore_get_available (sem), ==, 1);
}

static void
test_over_release (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(KaaSemaphore) sem = kaa_semaphore_new (2);
  g_autofree char *name = NULL;

  g_test_summary ("DESIGN §2, §9: releasing more than was acquired is a critical "
                  "naming the semaphore, and the count stays within its permits");
  g_test_bug (ISSUE);

  kaa_semaphore_set_name (sem, "downloads");
  name = kaa_semaphore_dup_name (sem);
  g_assert_cmpstr (name, ==, "downloads");
  g_assert_true (kaa_semaphore_try_acquire (sem));
  kaa_semaphore_release (sem);
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL,
                         "*KaaSemaphore 'downloads'*released more often than it was acquired*");
  kaa_semaphore_release (sem);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (kaa_semaphore_get_available (sem), ==, 2);
  g_assert_true (kaa_semaphore_try_acquire (sem));
  g_assert_true (kaa_semaphore_try_acquire (sem));
  g_assert_false (kaa_semaphore_try_acquire (sem));
  kaa_semaphore_release (sem);
  kaa_semaphore_release (sem);
}

static void
test_lost_release (Fixture       *f,
                   gconstpointer  data)
{
  KaaSemaphore *sem = kaa_semaphore_new (2);
  KaaMutex *mutex = kaa_mutex_new ();

  g_test_summary ("DESIGN §9: a semaphore or mutex freed while a permit is held "
                  "lost a release: a warning names it");
  g_test_bug (ISSUE);

  kaa_semaphore_set_name (sem, "leaky");
  g_assert_true (kaa_semaphore_try_acquire (sem));
  g_test_expect_message ("Kaa", G_LOG_LEVEL_WARNING,
                         "*KaaSemaphore 'leaky'*1 of its 2 permits still held*");
  kaa_semaphore_unref (sem);
  g_test_assert_expected_messages ();

  g_assert_true (kaa_mutex_try_lock (mutex));
  g_test_expect_message ("Kaa", G_LOG_LEVEL_WARNING, "*KaaMutex*1 of its 1 permits*");
  kaa_mutex_unref (mutex);
  g_test_assert_expected_messages ();
}

static void
test_bad_arguments (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(KaaInProgress) ip = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(KaaSemaphore) sem = kaa_semaphore_new (1);

  g_test_summary ("STYLE §5: NULL arguments are criticals, and acquire then returns "
                  "an InProgress that already failed; awaiting outside a coroutine "
                  "holds nothing");
  g_test_bug (ISSUE);

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*permits > 0*");
  g_assert_null (kaa_semaphore_new (0));
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*self != NULL*");
  ip = kaa_semaphore_acquire (NULL);
  g_test_assert_expected_messages ();
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_FAILED);
  g_assert_error (kaa_in_progress_get_error (ip), KAA_ERROR, KAA_ERROR_INVALID_ARGUMENT);

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*not called from a coroutine*");
  g_assert_null (kaa_semaphore_await (sem, &error));
  g_test_assert_expected_messages ();
  g_assert_nonnull (error);
  g_assert_cmpuint (kaa_semaphore_get_available (sem), ==, 1);
  g_assert_cmpuint (kaa_semaphore_get_n_waiting (sem), ==, 0);
}

static void
blocks_in_coroutine (KaaCoroutine *co,
                     gpointer      data)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (kaa_semaphore_acquire_wait (data, NULL, &error));
  g_assert_error (error, KAA_ERROR, KAA_ERROR_IN_COROUTINE);
}

static void
test_blocking_in_coroutine (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(KaaSemaphore) sem = kaa_semaphore_new (1);
  g_autoptr(KaaInProgress) co = NULL;

  g_test_summary ("DESIGN §4, §9: a coroutine never blocks its thread for a permit: "
                  "acquire_wait inside one is a critical and KAA_ERROR_IN_COROUTINE, "
                  "even when a permit is free, and takes nothing");
  g_test_bug (ISSUE);

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*called inside a coroutine*");
  co = kaa_coroutine_spawn (blocks_in_coroutine, sem, NULL);
  g_test_assert_expected_messages ();
  g_assert_cmpint (kaa_in_progress_get_state (co), ==, KAA_STATE_FINISHED);
  g_assert_cmpuint (kaa_semaphore_get_available (sem), ==, 1);
}

static void
locks_in_coroutine (KaaCoroutine *co,
                    gpointer      data)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (kaa_mutex_lock_wait (data, NULL, &error));
  g_assert_error (error, KAA_ERROR, KAA_ERROR_IN_COROUTINE);
  g_assert_nonnull (g_strstr_len (error->message, -1, "mutex"));
}

static void
test_mutex_blocking_in_coroutine (Fixture       *f,
                                  gconstpointer  data)
{
  g_autoptr(KaaMutex) mutex = kaa_mutex_new ();
  g_autoptr(KaaInProgress) co = NULL;

  g_test_summary ("DESIGN §4, §9: lock_wait inside a coroutine is a critical naming the "
                  "mutex and KAA_ERROR_IN_COROUTINE about a mutex, not a permit");
  g_test_bug (ISSUE);

  kaa_mutex_set_name (mutex, "the-mutex");
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL,
                         "*called inside a coroutine for KaaMutex 'the-mutex'*");
  co = kaa_coroutine_spawn (locks_in_coroutine, mutex, NULL);
  g_test_assert_expected_messages ();
  g_assert_cmpint (kaa_in_progress_get_state (co), ==, KAA_STATE_FINISHED);
  g_assert_false (kaa_mutex_is_locked (mutex));
}

static void
mutex_holder_body (KaaCoroutine *co,
                   gpointer      data)
{
  g_autoptr(KaaMutexLocker) locker = kaa_mutex_await (data, NULL);

  if (locker != NULL)
    kaa_await (kaa_sleep (60 * 1000), NULL);
}

static void
test_context_death (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(KaaSemaphore) sem = kaa_semaphore_new (1);
  g_autoptr(KaaMutex) mutex = kaa_mutex_new ();
  Holder a = { sem }, b = { sem };
  KaaInProgress *co_a, *co_b, *plain, *locking, *lock;

  g_test_summary ("DESIGN §3, §9: when the context dies, its waiters settle "
                  "cancelled, its holders unwind and give their permits back, and "
                  "the semaphore, which outlives it, leaks nothing");
  g_test_bug (ISSUE);

  co_a = kaa_coroutine_spawn (holder_body, &a, NULL);
  co_b = kaa_coroutine_spawn (holder_body, &b, NULL);
  plain = kaa_semaphore_acquire (sem);
  locking = kaa_coroutine_spawn (mutex_holder_body, mutex, NULL);
  lock = kaa_mutex_lock (mutex);
  g_assert_true (kaa_mutex_is_locked (mutex));
  g_assert_cmpint (a.holding, ==, 1);
  g_assert_cmpuint (kaa_semaphore_get_n_waiting (sem), ==, 2);

  kaa_test_fixture_kill_context (f);
  g_assert_cmpint (kaa_in_progress_get_state (co_a), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (kaa_in_progress_get_state (co_b), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (kaa_in_progress_get_state (plain), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (a.cleaned, ==, 1);
  g_assert_true (b.refused);
  g_assert_cmpuint (kaa_semaphore_get_available (sem), ==, 1);
  g_assert_cmpuint (kaa_semaphore_get_n_waiting (sem), ==, 0);
  /* The holder's guard unlocked it, as its owner, while it unwound. */
  g_assert_cmpint (kaa_in_progress_get_state (lock), ==, KAA_STATE_CANCELLED);
  g_assert_false (kaa_mutex_is_locked (mutex));
  kaa_in_progress_unref (co_a);
  kaa_in_progress_unref (co_b);
  kaa_in_progress_unref (plain);
  kaa_in_progress_unref (locking);
  kaa_in_progress_unref (lock);
}

typedef struct
{
  KaaSemaphore *sem;
} Releaser;

static void
releaser_run (Releaser *releaser)
{
  kaa_semaphore_release (releaser->sem);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Releaser, releaser_run)

/* Holds the permit its spawner took, and gives it back as it unwinds. */
static void
releasing_holder_body (KaaCoroutine *co,
                       gpointer      data)
{
  g_auto(Releaser) releaser = { data };

  kaa_await (kaa_sleep (60 * 1000), NULL);
}

static void
test_death_serves_nobody (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(KaaSemaphore) sem = kaa_semaphore_new (1);
  g_autoptr(GString) log = g_string_new (NULL);
  KaaInProgress *waiter, *holder;

  g_test_summary ("DESIGN §3, §9: a holder unwinding in the sweep of a dying context "
                  "serves none of that context's older waiters: they settle cancelled, "
                  "and the permit comes back");
  g_test_bug (ISSUE);

  /*  test: try_acquire ... waiter queued (older) ... holder spawned (newer)
   *  kill: the sweep unwinds the holder first -> release -> the waiter is
   *        in a dead context: cancelled, not served */
  g_assert_true (kaa_semaphore_try_acquire (sem));
  waiter = acquire_logged (sem, log, 'w');
  holder = kaa_coroutine_spawn (releasing_holder_body, sem, NULL);
  kaa_test_fixture_kill_context (f);
  g_assert_cmpint (kaa_in_progress_get_state (holder), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (kaa_in_progress_get_state (waiter), ==, KAA_STATE_CANCELLED);
  g_assert_cmpstr (log->str, ==, "");
  g_assert_cmpuint (kaa_semaphore_get_available (sem), ==, 1);
  kaa_in_progress_unref (waiter);
  kaa_in_progress_unref (holder);
}

static void
test_scope_deadline (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(KaaSemaphore) sem = kaa_semaphore_new (2);
  g_autoptr(KaaScope) scope = kaa_scope_new (KAA_SCOPE_FAIL_FAST);
  g_autoptr(KaaInProgress) joined = NULL;
  Holder h = { sem };

  g_test_summary ("Issue #18 §3, §4: a scope's deadline reaches coroutines holding and "
                  "waiting for permits; the holders give theirs back, the waiters "
                  "leave the line, and the scope leaves nothing behind");
  g_test_bug (ISSUE);

  /* Two holders sleep for a minute; two more wait behind them. */
  for (guint i = 0; i < 4; i++)
    kaa_scope_spawn (scope, holder_body, &h, NULL);
  g_assert_cmpint (h.holding, ==, 2);
  g_assert_cmpuint (kaa_semaphore_get_n_waiting (sem), ==, 2);
  kaa_scope_set_timeout (scope, 20);
  joined = kaa_scope_join (scope);
  kaa_test_pump_until_done (f->context, joined);
  g_assert_error (kaa_in_progress_get_error (joined), G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpint (h.cleaned, ==, 4);
  g_assert_cmpuint (kaa_semaphore_get_n_waiting (sem), ==, 0);
  g_assert_cmpuint (kaa_semaphore_get_available (sem), ==, 2);
}

/* -------------------------------------------------------------- mutex */

typedef struct
{
  KaaMutex *mutex;
  GString  *log;
  char      letter;
} Locker;

static void
locker_body (KaaCoroutine *co,
             gpointer      data)
{
  Locker *l = data;
  g_autoptr(KaaMutexLocker) locker = kaa_mutex_await (l->mutex, NULL);

  if (locker == NULL)
    return;
  /* Held across two suspensions: nobody else gets in meanwhile. */
  g_string_append_c (l->log, l->letter);
  if (!kaa_yield () || !kaa_await (kaa_sleep (1), NULL))
    return;
  g_string_append_c (l->log, g_ascii_toupper (l->letter));
}

static void
test_mutex_across_awaits (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(KaaMutex) mutex = kaa_mutex_new ();
  g_autoptr(GString) log = g_string_new (NULL);
  Locker lockers[4];
  KaaInProgress *cos[4];

  g_test_summary ("DESIGN §9: a KaaMutex is held across awaits and serves its "
                  "lockers in FIFO order; a cancelled holder unlocks through its guard");
  g_test_bug (ISSUE);

  for (guint i = 0; i < G_N_ELEMENTS (lockers); i++)
    {
      lockers[i] = (Locker) { mutex, log, 'a' + (char) i };
      cos[i] = kaa_coroutine_spawn (locker_body, &lockers[i], NULL);
    }
  g_assert_true (kaa_mutex_is_locked (mutex));
  kaa_in_progress_cancel (cos[1]);   /* a waiter */
  while (!kaa_in_progress_is_done (cos[3]))
    g_main_context_iteration (f->context, TRUE);
  g_assert_cmpstr (log->str, ==, "aAcCdD");

  /* A holder cancelled mid-work unlocks. */
  g_string_truncate (log, 0);
  for (guint i = 0; i < 2; i++)
    {
      kaa_in_progress_unref (cos[i]);
      cos[i] = kaa_coroutine_spawn (locker_body, &lockers[i], NULL);
    }
  kaa_in_progress_cancel (cos[0]);
  kaa_test_pump_for (5);
  while (!kaa_in_progress_is_done (cos[1]))
    g_main_context_iteration (f->context, TRUE);
  g_assert_cmpstr (log->str, ==, "abB");
  g_assert_false (kaa_mutex_is_locked (mutex));
  for (guint i = 0; i < G_N_ELEMENTS (cos); i++)
    kaa_in_progress_unref (cos[i]);
}

static void
steal_unlock (KaaCoroutine *co,
              gpointer      data)
{
  kaa_mutex_unlock (data);
}

static void
test_mutex_misuse (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(KaaMutex) mutex = kaa_mutex_new ();
  g_autoptr(KaaInProgress) thief = NULL;
  g_autoptr(KaaInProgress) lock = NULL;

  g_test_summary ("DESIGN §9: only the holder unlocks a KaaMutex: an unlock of an "
                  "unlocked mutex, or by another coroutine, is a critical naming it "
                  "and leaves it as it was");
  g_test_bug (ISSUE);

  kaa_mutex_set_name (mutex, "config");
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL,
                         "*KaaMutex 'config'*released more often than it was acquired*");
  kaa_mutex_unlock (mutex);
  g_test_assert_expected_messages ();
  g_assert_false (kaa_mutex_is_locked (mutex));

  lock = kaa_mutex_lock (mutex);
  g_assert_true (kaa_in_progress_get_boolean (lock));
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*KaaMutex 'config'*held by another*");
  thief = kaa_coroutine_spawn (steal_unlock, mutex, NULL);
  g_test_assert_expected_messages ();
  g_assert_true (kaa_mutex_is_locked (mutex));
  g_assert_false (kaa_mutex_try_lock (mutex));
  kaa_mutex_unlock (mutex);
  g_assert_false (kaa_mutex_is_locked (mutex));
  g_assert_true (kaa_mutex_try_lock (mutex));
  kaa_mutex_unlock (mutex);
}

/* ------------------------------------------------ 10 000 downloads */

/* Under TSan every coroutine is a fiber TSan must create and switch to,
 * which makes each thousand cost seconds: fewer there. */
#define N_DOWNLOADS   (KAA_TEST_TSAN ? 1000 : 10000)
#define MAX_IN_FLIGHT 16
#define WINDOW        256

typedef struct
{
  KaaSemaphore *sem;
  gint          in_flight;
  gint          max_in_flight;
  guint         completed;
  guint         refused;
  guint         started;
  GPtrArray    *alive;
  GPtrArray    *paused;
} Downloads;

/* A run that stops moving fails with what it was doing and a dump of
 * every coroutine, not with a bare timeout. */
static gboolean
downloads_stuck (gpointer data)
{
  Downloads *d = data;

  kaa_test_print_dump ();
  g_error ("watchdog: the downloads did not end within %d s: %u started, %u alive, "
           "%u paused by the test, %u completed, %u refused, %d in flight, "
           "%u permits available, %u waiting", KAA_TEST_WATCHDOG_SEC, d->started,
           d->alive->len, d->paused->len, d->completed, d->refused, d->in_flight,
           kaa_semaphore_get_available (d->sem), kaa_semaphore_get_n_waiting (d->sem));
  return G_SOURCE_REMOVE;
}

typedef Downloads *DownloadsInFlight;

static void
in_flight_leave (DownloadsInFlight d)
{
  d->in_flight--;
}

G_DEFINE_AUTO_CLEANUP_FREE_FUNC (DownloadsInFlight, in_flight_leave, NULL)

static void
download (KaaCoroutine *co,
          gpointer      data)
{
  Downloads *d = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(KaaPermit) permit = kaa_semaphore_await (d->sem, &error);
  g_auto(DownloadsInFlight) in_flight = NULL;

  if (permit == NULL)
    {
      d->refused++;
      return;
    }
  /* Declared after the permit, so it leaves before the permit goes. */
  in_flight = d;
  d->in_flight++;
  d->max_in_flight = MAX (d->max_in_flight, d->in_flight);
  g_assert_cmpint (d->in_flight, <=, MAX_IN_FLIGHT);
  g_assert_cmpuint (MAX_IN_FLIGHT - kaa_semaphore_get_available (d->sem), >=, d->in_flight);
  if (g_test_rand_bit ())
    {
      if (!kaa_yield () || !kaa_yield ())
        return;
    }
  else if (!kaa_await (kaa_sleep (g_test_rand_int_range (0, 3)), &error))
    return;
  d->completed++;
}

/* One random disturbance: cancel, pause or resume one download. */
static void
disturb (GPtrArray *alive,
         GPtrArray *paused)
{
  gint32 dice = g_test_rand_int_range (0, 100);
  KaaInProgress *ip;

  if (dice < 4 && alive->len > 0)
    kaa_in_progress_cancel (g_ptr_array_index (alive, g_test_rand_int_range (0, alive->len)));
  else if (dice < 8 && alive->len > 0)
    {
      ip = g_ptr_array_index (alive, g_test_rand_int_range (0, alive->len));
      if (!kaa_in_progress_is_done (ip))
        {
          kaa_in_progress_pause (ip);
          g_ptr_array_add (paused, kaa_in_progress_ref (ip));
        }
    }
  else if (dice < 14 && paused->len > 0)
    {
      ip = g_ptr_array_steal_index_fast (paused, g_test_rand_int_range (0, paused->len));
      if (!kaa_in_progress_is_done (ip))
        kaa_in_progress_resume (ip);
      kaa_in_progress_unref (ip);
    }
}

static void
reap (GPtrArray *alive)
{
  for (guint i = 0; i < alive->len;)
    if (kaa_in_progress_is_done (g_ptr_array_index (alive, i)))
      g_ptr_array_remove_index_fast (alive, i);
    else
      i++;
}

static void
test_downloads (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(KaaSemaphore) sem = kaa_semaphore_new (MAX_IN_FLIGHT);
  g_autoptr(GPtrArray) alive =
    g_ptr_array_new_with_free_func ((GDestroyNotify) kaa_in_progress_unref);
  g_autoptr(GPtrArray) paused = g_ptr_array_new ();
  Downloads d = { .sem = sem, .alive = alive, .paused = paused };
  GSource *watchdog = g_timeout_source_new_seconds (KAA_TEST_WATCHDOG_SEC);

  g_test_summary ("Issue #18 §3: 10 000 downloads with at most 16 in flight, under "
                  "random cancels and pauses of waiters and holders, never exceed 16 "
                  "and never leak a permit");
  g_test_bug (ISSUE);
  g_source_set_callback (watchdog, downloads_stuck, &d, NULL);
  g_source_attach (watchdog, f->context);

  while (d.started < N_DOWNLOADS || alive->len > 0)
    {
      while (alive->len < WINDOW && d.started < N_DOWNLOADS)
        {
          g_ptr_array_add (alive, kaa_coroutine_spawn (download, &d, NULL));
          d.started++;
        }
      disturb (alive, paused);
      /* A cancel on the owner thread settles at once: the download it
       * ended must leave `alive` before the loop may block, or the last
       * one, its timer gone with it, would wait for a wake-up that never
       * comes. */
      reap (alive);
      if (!g_main_context_iteration (f->context, FALSE))
        {
          /* Everything may be paused, timers frozen: resume one. */
          if (paused->len > 0)
            {
              KaaInProgress *ip = g_ptr_array_steal_index_fast (paused, 0);

              if (!kaa_in_progress_is_done (ip))
                kaa_in_progress_resume (ip);
              kaa_in_progress_unref (ip);
            }
          else
            {
              /* The disturbance may have cancelled the last ones, and a
               * cancel returns with them unwound: nothing would wake a
               * blocking iteration. */
              reap (alive);
              if (alive->len > 0)
                g_main_context_iteration (f->context, TRUE);
            }
        }
      reap (alive);
    }
  kaa_test_watchdog_free (watchdog);
  /* A download cancelled while paused ended without a resume. */
  for (guint i = 0; i < paused->len; i++)
    {
      g_assert_true (kaa_in_progress_is_done (g_ptr_array_index (paused, i)));
      kaa_in_progress_unref (g_ptr_array_index (paused, i));
    }
  g_test_message ("%u completed, %u refused, the rest cancelled holding; at most %d in flight",
                  d.completed, d.refused, d.max_in_flight);
  g_assert_cmpint (d.in_flight, ==, 0);
  g_assert_cmpint (d.max_in_flight, ==, MAX_IN_FLIGHT);
  g_assert_cmpuint (d.completed, >, N_DOWNLOADS / 2);
  g_assert_cmpuint (d.refused, >, 0);
  g_assert_cmpuint (kaa_semaphore_get_available (sem), ==, MAX_IN_FLIGHT);
  g_assert_cmpuint (kaa_semaphore_get_n_waiting (sem), ==, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_bug_base ("issue #");

  KAA_TEST_ADD ("counting", test_counting);
  KAA_TEST_ADD ("fifo", test_fifo);
  KAA_TEST_ADD ("unobserved-waiter", test_unobserved_waiter);
  KAA_TEST_ADD ("cancel-waiter", test_cancel_waiter);
  KAA_TEST_ADD ("pause-skips", test_pause_skips);
  KAA_TEST_ADD ("free-permit-behind-paused", test_free_permit_behind_paused);
  KAA_TEST_ADD ("resume-takes-free-permit", test_resume_takes_free_permit);
  KAA_TEST_ADD ("cancelled-holder-releases", test_cancelled_holder_releases);
  KAA_TEST_ADD ("cancelled-waiter-coroutine", test_cancelled_waiter_coroutine);
  KAA_TEST_ADD ("paused-waiter-coroutine", test_paused_waiter_coroutine);
  KAA_TEST_ADD ("over-release", test_over_release);
  KAA_TEST_ADD ("lost-release", test_lost_release);
  KAA_TEST_ADD ("bad-arguments", test_bad_arguments);
  KAA_TEST_ADD ("blocking-in-coroutine", test_blocking_in_coroutine);
  KAA_TEST_ADD ("mutex-blocking-in-coroutine", test_mutex_blocking_in_coroutine);
  KAA_TEST_ADD ("context-death", test_context_death);
  KAA_TEST_ADD ("death-serves-nobody", test_death_serves_nobody);
  KAA_TEST_ADD ("scope-deadline", test_scope_deadline);
  KAA_TEST_ADD ("mutex-across-awaits", test_mutex_across_awaits);
  KAA_TEST_ADD ("mutex-misuse", test_mutex_misuse);
  KAA_TEST_ADD ("downloads", test_downloads);
  return g_test_run ();
}
