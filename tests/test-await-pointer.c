/* test-await-pointer.c: kaa_await_pointer(), the typed await that hands
 * over a pointer result (issue #22)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The one-line form `p = kaa_await_pointer (start (), &error)` must leak
 * nothing and free nothing twice: the result moves out of the InProgress
 * (as g_task_propagate_pointer() moves a task's), which then no longer
 * frees it. Each body runs in a coroutine on the fixture's context.
 */
#include "config.h"

#include "kaa-test-util.h"

#define KAA_TEST_AREA "await-pointer"

/* A result whose destroy notify counts its calls. */
typedef struct
{
  gint freed;
} Counted;

static void
counted_free (gpointer data)
{
  ((Counted *) data)->freed++;
}

typedef struct
{
  KaaInProgress *source;    /* what the body awaits */
  gboolean       given;     /* the body takes the test's reference */
  Counted        counted;
  gpointer       got;
  GError        *error;
} Await;

static void
body_await_pointer (KaaCoroutine *self,
                    gpointer      user_data)
{
  Await *a = user_data;

  a->got = kaa_await_pointer (a->given ? a->source : kaa_in_progress_ref (a->source),
                              &a->error);
}

/* The source is finished after the body suspended on it, so that the
 * await really waits. */
static void
run_await (KaaTestFixture *f,
           Await          *a,
           KaaInProgress  *awaited,
           void          (*finish) (KaaInProgress *source, Await *a))
{
  KaaInProgress *co;

  a->source = awaited;
  co = kaa_coroutine_spawn (body_await_pointer, a, NULL);
  kaa_test_drain (f->context);
  g_assert_false (kaa_in_progress_is_done (co));
  finish (awaited, a);
  kaa_test_pump_until_done (f->context, co);
  g_assert_true (kaa_in_progress_propagate (co, NULL));
  kaa_in_progress_unref (co);
}

static void
finish_counted (KaaInProgress *source,
                Await         *a)
{
  kaa_in_progress_finish_pointer (source, &a->counted, counted_free);
}

static void
test_moves_the_result (KaaTestFixture *f,
                       gconstpointer   data)
{
  Await a = { 0 };
  KaaInProgress *ip = kaa_in_progress_new ();

  g_test_summary ("DESIGN §2: kaa_await_pointer() hands the caller the pointer result "
                  "with its ownership; the InProgress then neither frees it nor reads it");
  g_test_bug ("22");

  run_await (f, &a, ip, finish_counted);
  g_assert_no_error (a.error);
  g_assert_true (a.got == &a.counted);
  g_assert_cmpint (a.counted.freed, ==, 0);
  /* The InProgress keeps NULL: its readers see the move. */
  g_assert_null (kaa_in_progress_get_pointer (ip));
  kaa_in_progress_unref (ip);
  g_assert_cmpint (a.counted.freed, ==, 0);
  counted_free (a.got);
}

static void
test_one_line_form (KaaTestFixture *f,
                    gconstpointer   data)
{
  Await a = { .given = TRUE };

  g_test_summary ("DESIGN §2: in the one-line form the await holds the last reference: "
                  "the InProgress goes at the await, and the result, which it no longer "
                  "frees, is the caller's");
  g_test_bug ("22");

  /* The test's reference goes to the body; the test finishes the
   * InProgress while the suspended await still holds it, then never
   * touches it again. */
  run_await (f, &a, kaa_in_progress_new (), finish_counted);
  g_assert_no_error (a.error);
  g_assert_true (a.got == &a.counted);
  g_assert_cmpint (a.counted.freed, ==, 0);
}

static void
finish_source_of_follower (KaaInProgress *follower,
                           Await         *a)
{
  KaaInProgress *source = kaa_in_progress_new ();

  kaa_in_progress_finish_from (follower, kaa_in_progress_ref (source));
  kaa_in_progress_finish_pointer (source, &a->counted, counted_free);
  kaa_in_progress_unref (source);
}

static void
test_follows_finish_from (KaaTestFixture *f,
                          gconstpointer   data)
{
  Await a = { 0 };
  KaaInProgress *follower = kaa_in_progress_new ();

  g_test_summary ("DESIGN §2: awaiting a follower (finish_from) moves the result of "
                  "the InProgress it follows, which then does not free it");
  g_test_bug ("22");

  run_await (f, &a, follower, finish_source_of_follower);
  kaa_test_drain (f->context);
  g_assert_no_error (a.error);
  g_assert_true (a.got == &a.counted);
  kaa_in_progress_unref (follower);
  g_assert_cmpint (a.counted.freed, ==, 0);
}

static void
finish_null (KaaInProgress *source,
             Await         *a)
{
  kaa_in_progress_finish_pointer (source, NULL, NULL);
}

static void
finish_int (KaaInProgress *source,
            Await         *a)
{
  kaa_in_progress_finish_int64 (source, 7);
}

static void
finish_failed (KaaInProgress *source,
               Await         *a)
{
  kaa_in_progress_fail (source, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "gone"));
}

static void
test_empty_wrong_and_failed (KaaTestFixture *f,
                             gconstpointer   data)
{
  Await empty = { 0 }, wrong = { 0 }, failed = { 0 };
  KaaInProgress *ips[3] = { kaa_in_progress_new (), kaa_in_progress_new (),
                            kaa_in_progress_new () };

  g_test_summary ("DESIGN §2: kaa_await_pointer() gives NULL without an error for an "
                  "empty result, the InProgress's own error for a failure, and a critical "
                  "with KAA_ERROR_WRONG_RESULT_TYPE for a result that is no pointer");
  g_test_bug ("22");

  run_await (f, &empty, ips[0], finish_null);
  g_assert_null (empty.got);
  g_assert_no_error (empty.error);

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*kaa_await_pointer*int64*not a pointer*");
  run_await (f, &wrong, ips[1], finish_int);
  g_test_assert_expected_messages ();
  g_assert_null (wrong.got);
  g_assert_error (wrong.error, KAA_ERROR, KAA_ERROR_WRONG_RESULT_TYPE);
  /* The wrong result stays where it was. */
  g_assert_cmpint (kaa_in_progress_get_int64 (ips[1]), ==, 7);

  run_await (f, &failed, ips[2], finish_failed);
  g_assert_null (failed.got);
  g_assert_error (failed.error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);

  g_clear_error (&wrong.error);
  g_clear_error (&failed.error);
  for (guint i = 0; i < G_N_ELEMENTS (ips); i++)
    kaa_in_progress_unref (ips[i]);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  KAA_TEST_ADD ("moves-the-result", test_moves_the_result);
  KAA_TEST_ADD ("one-line-form", test_one_line_form);
  KAA_TEST_ADD ("follows-finish-from", test_follows_finish_from);
  KAA_TEST_ADD ("empty-wrong-and-failed", test_empty_wrong_and_failed);
  return g_test_run ();
}
