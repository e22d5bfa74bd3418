/* test-combinators-cancel.c: combinators that cancel what lost (issue #18 §4)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * KAA_COMBINE_CANCEL_OTHERS: kaa_any and kaa_any_success cancel their
 * losers once one wins, kaa_all_success cancels the rest on its first
 * failure, each by the cascade's rule (DESIGN §6): an input that
 * something else also awaits is detached from, not cancelled. Without
 * the flag the inputs go on, as before.
 */
#include "config.h"

#include "kaa-test-util.h"

typedef KaaTestFixture Fixture;

#define KAA_TEST_AREA "combinators-cancel"
#define ISSUE "18"

static void
pending_new (KaaInProgress **ips,
             guint           n)
{
  for (guint i = 0; i < n; i++)
    ips[i] = kaa_in_progress_new ();
}

static void
unref_all (KaaInProgress **ips,
           guint           n)
{
  for (guint i = 0; i < n; i++)
    kaa_in_progress_unref (ips[i]);
}

static void
test_any_cancels_losers (Fixture       *f,
                         gconstpointer  data)
{
  KaaInProgress *in[3], *plain[3];
  g_autoptr(KaaInProgress) any = NULL, old = NULL;

  g_test_summary ("Issue #18 §4: kaa_any with CANCEL_OTHERS cancels the inputs "
                  "still pending once one settles; kaa_any leaves them running");
  g_test_bug (ISSUE);

  pending_new (in, 3);
  pending_new (plain, 3);
  any = kaa_any_with_flags (kaa_test_ref_all (in, 3), 3, KAA_COMBINE_CANCEL_OTHERS);
  old = kaa_any (kaa_test_ref_all (plain, 3), 3);

  kaa_in_progress_finish_int64 (in[1], 7);
  kaa_in_progress_finish_int64 (plain[1], 7);
  g_assert_cmpint (kaa_in_progress_get_int64 (any), ==, 1);
  g_assert_cmpint (kaa_in_progress_get_int64 (old), ==, 1);
  g_assert_cmpint (kaa_in_progress_get_state (in[0]), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (kaa_in_progress_get_state (in[2]), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (kaa_in_progress_get_state (plain[0]), ==, KAA_STATE_PENDING);
  g_assert_cmpint (kaa_in_progress_get_state (plain[2]), ==, KAA_STATE_PENDING);
  kaa_in_progress_cancel (plain[0]);
  kaa_in_progress_cancel (plain[2]);
  unref_all (in, 3);
  unref_all (plain, 3);
}

static void
test_shared_loser_detached (Fixture       *f,
                            gconstpointer  data)
{
  KaaInProgress *in[2];
  g_autoptr(KaaInProgress) any = NULL, other = NULL;

  g_test_summary ("DESIGN §6: a loser that something else also awaits is only "
                  "detached from, and keeps running for the other awaiter");
  g_test_bug (ISSUE);

  pending_new (in, 2);
  other = kaa_all (kaa_test_ref_all (&in[1], 1), 1);
  any = kaa_any_with_flags (kaa_test_ref_all (in, 2), 2, KAA_COMBINE_CANCEL_OTHERS);
  kaa_in_progress_finish_int64 (in[0], 1);
  g_assert_cmpint (kaa_in_progress_get_int64 (any), ==, 0);
  g_assert_cmpint (kaa_in_progress_get_state (in[1]), ==, KAA_STATE_PENDING);
  kaa_in_progress_finish_int64 (in[1], 2);
  g_assert_cmpint (kaa_in_progress_get_state (other), ==, KAA_STATE_FINISHED);
  unref_all (in, 2);
}

static void
test_any_success_cancels_after_success (Fixture       *f,
                                        gconstpointer  data)
{
  KaaInProgress *in[3];
  g_autoptr(KaaInProgress) any = NULL;

  g_test_summary ("Issue #18 §4: kaa_any_success with CANCEL_OTHERS cancels nothing "
                  "on a failure, and the rest once one succeeds");
  g_test_bug (ISSUE);

  pending_new (in, 3);
  any = kaa_any_success_with_flags (kaa_test_ref_all (in, 3), 3, KAA_COMBINE_CANCEL_OTHERS);
  kaa_in_progress_fail_literal (in[0], G_IO_ERROR, G_IO_ERROR_FAILED, "refused");
  g_assert_cmpint (kaa_in_progress_get_state (in[1]), ==, KAA_STATE_PENDING);
  g_assert_cmpint (kaa_in_progress_get_state (in[2]), ==, KAA_STATE_PENDING);
  kaa_in_progress_finish_int64 (in[2], 3);
  g_assert_cmpint (kaa_in_progress_get_int64 (any), ==, 2);
  g_assert_cmpint (kaa_in_progress_get_state (in[1]), ==, KAA_STATE_CANCELLED);
  unref_all (in, 3);
}

static void
test_all_success_cancels_rest (Fixture       *f,
                               gconstpointer  data)
{
  KaaInProgress *in[3], *plain[2];
  g_autoptr(KaaInProgress) all = NULL, old = NULL;

  g_test_summary ("Issue #18 §4: kaa_all_success's fail-fast with CANCEL_OTHERS "
                  "cancels the inputs still pending and fails with the first error; "
                  "kaa_all_success leaves them running");
  g_test_bug (ISSUE);

  pending_new (in, 3);
  pending_new (plain, 2);
  all = kaa_all_success_with_flags (kaa_test_ref_all (in, 3), 3, KAA_COMBINE_CANCEL_OTHERS);
  old = kaa_all_success (kaa_test_ref_all (plain, 2), 2);
  kaa_in_progress_finish_int64 (in[0], 1);
  kaa_in_progress_fail_literal (in[1], G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "gone");
  kaa_in_progress_fail_literal (plain[0], G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "gone");
  g_assert_error (kaa_in_progress_get_error (all), G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_cmpint (kaa_in_progress_get_state (in[0]), ==, KAA_STATE_FINISHED);
  g_assert_cmpint (kaa_in_progress_get_state (in[2]), ==, KAA_STATE_CANCELLED);
  g_assert_error (kaa_in_progress_get_error (old), G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_cmpint (kaa_in_progress_get_state (plain[1]), ==, KAA_STATE_PENDING);
  kaa_in_progress_cancel (plain[1]);
  unref_all (in, 3);
  unref_all (plain, 2);
}

typedef struct
{
  gint cleaned;
  gint finished;
} Sleeper;

static void
sleeper_body (KaaCoroutine *co,
              gpointer      data)
{
  Sleeper *s = data;
  g_auto(KaaTestFinally) finally = { &s->cleaned };

  if (kaa_await (kaa_sleep (60 * 1000), NULL))
    s->finished++;
}

static void
test_coroutine_losers_unwind (Fixture       *f,
                              gconstpointer  data)
{
  Sleeper s = { 0 };
  KaaInProgress *in[3];
  g_autoptr(KaaInProgress) any = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary ("DESIGN §6: coroutines that lose a kaa_any with CANCEL_OTHERS "
                  "unwind with their cleanups run, and leave no timer armed");
  g_test_bug (ISSUE);

  in[0] = kaa_coroutine_spawn (sleeper_body, &s, NULL);
  in[1] = kaa_sleep (1);
  in[2] = kaa_coroutine_spawn (sleeper_body, &s, NULL);
  any = kaa_any_with_flags (in, 3, KAA_COMBINE_CANCEL_OTHERS);
  g_assert_true (kaa_in_progress_wait (any, &error));
  g_assert_no_error (error);
  g_assert_cmpint (kaa_in_progress_get_int64 (any), ==, 1);
  g_assert_cmpint (s.cleaned, ==, 2);
  g_assert_cmpint (s.finished, ==, 0);
}

static void
make_pending (gpointer data)
{
  *(KaaInProgress **) data = kaa_in_progress_new ();
}

static void
test_loser_on_other_context (Fixture       *f,
                             gconstpointer  data)
{
  KaaTestWorker worker = { 0 };
  KaaInProgress *in[2];
  g_autoptr(KaaInProgress) any = NULL;

  g_test_summary ("DESIGN §6: a loser owned by another thread's context is "
                  "cancelled there, promptly, when the winner settles here");
  g_test_bug (ISSUE);

  kaa_test_worker_start (&worker);
  kaa_test_worker_call (&worker, make_pending, &in[0]);
  in[1] = kaa_in_progress_new ();
  any = kaa_any_with_flags (kaa_test_ref_all (in, 2), 2, KAA_COMBINE_CANCEL_OTHERS);
  kaa_in_progress_finish_int64 (in[1], 1);
  g_assert_cmpint (kaa_in_progress_get_int64 (any), ==, 1);
  kaa_test_poll_until_done (f->context, in[0]);
  g_assert_cmpint (kaa_in_progress_get_state (in[0]), ==, KAA_STATE_CANCELLED);
  kaa_test_worker_kill (&worker);
  unref_all (in, 2);
}

static void
test_rejected_inputs_released (Fixture       *f,
                               gconstpointer  data)
{
  KaaInProgress *in[3];
  g_autoptr(KaaInProgress) any = NULL;

  g_test_summary ("DESIGN §2: the flagged combinators take their inputs' references "
                  "also when they reject the call");
  g_test_bug (ISSUE);

  in[0] = kaa_in_progress_new ();
  in[1] = NULL;
  in[2] = kaa_in_progress_new ();
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*inputs_are_valid*");
  any = kaa_all_success_with_flags (in, 3, KAA_COMBINE_CANCEL_OTHERS);
  g_test_assert_expected_messages ();
  g_assert_error (kaa_in_progress_get_error (any), KAA_ERROR, KAA_ERROR_INVALID_ARGUMENT);
  /* The fixture's teardown finds no InProgress left alive. */
}

static void
test_empty (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(KaaInProgress) any = kaa_any_with_flags (NULL, 0, KAA_COMBINE_CANCEL_OTHERS);
  g_autoptr(KaaInProgress) all = kaa_all_success_with_flags (NULL, 0, KAA_COMBINE_CANCEL_OTHERS);

  g_test_summary ("DESIGN §2: empty inputs finish at once, as without flags");
  g_test_bug (ISSUE);

  g_assert_cmpint (kaa_in_progress_get_int64 (any), ==, -1);
  g_assert_cmpint (kaa_in_progress_get_int64 (all), ==, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_bug_base ("issue #");

  KAA_TEST_ADD ("any-cancels-losers", test_any_cancels_losers);
  KAA_TEST_ADD ("shared-loser-detached", test_shared_loser_detached);
  KAA_TEST_ADD ("any-success-cancels-after-success", test_any_success_cancels_after_success);
  KAA_TEST_ADD ("all-success-cancels-rest", test_all_success_cancels_rest);
  KAA_TEST_ADD ("coroutine-losers-unwind", test_coroutine_losers_unwind);
  KAA_TEST_ADD ("loser-on-other-context", test_loser_on_other_context);
  KAA_TEST_ADD ("rejected-inputs-released", test_rejected_inputs_released);
  KAA_TEST_ADD_QUIET ("empty", test_empty);
  return g_test_run ();
}
