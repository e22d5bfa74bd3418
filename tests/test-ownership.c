/* test-ownership.c: the one ownership rule (DESIGN §2, issue #16)
 *
 * Every function that waits on an InProgress takes the reference it is
 * given, also when it rejects the call; borrowing is spelled
 * kaa_await_borrowed(). Each test writes an idiom the guide and the
 * README show, in a loop, and checks with the live counters (and, in the
 * Valgrind stage, with memcheck) that nothing is left behind and nothing
 * is released twice.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "kaa-test-util.h"
#include "kaa-live-private.h"

typedef KaaTestFixture Fixture;

#define KAA_TEST_AREA "ownership"

#define ROUNDS 20

/* Losers of a race and timers still armed go on their own for a few
 * milliseconds: pump until the counters are back where the test began,
 * bounded, then let the fixture's teardown compare them exactly. */
static void
settle_everything (Fixture *f)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while ((kaa_live_get (KAA_LIVE_IN_PROGRESS) != f->live[KAA_LIVE_IN_PROGRESS] ||
          kaa_live_get (KAA_LIVE_TIMER) != f->live[KAA_LIVE_TIMER] ||
          kaa_live_get (KAA_LIVE_COROUTINE) != f->live[KAA_LIVE_COROUTINE]) &&
         g_get_monotonic_time () < deadline)
    kaa_test_pump_for (2);
  g_assert_cmpint (kaa_live_get (KAA_LIVE_IN_PROGRESS), ==, f->live[KAA_LIVE_IN_PROGRESS]);
  g_assert_cmpint (kaa_live_get (KAA_LIVE_TIMER), ==, f->live[KAA_LIVE_TIMER]);
}

/* Runs @body as a coroutine and waits for it; it must finish. */
static void
run_coroutine (Fixture          *f,
               KaaCoroutineFunc  body)
{
  g_autoptr(GError) error = NULL;
  KaaInProgress *ip = kaa_coroutine_spawn (body, NULL, NULL);

  g_assert_true (kaa_in_progress_wait (ip, &error));
  g_assert_no_error (error);
  kaa_in_progress_unref (ip);
  settle_everything (f);
}

/* --------------------------------------------------------------- await */

static void
sum_three (KaaCoroutine *self,
           gpointer      user_data)
{
  kaa_coroutine_return_int64 (self, 1 + 2);
}

static void
body_await_fresh (KaaCoroutine *self,
                  gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < ROUNDS; i++)
    {
      g_assert_true (kaa_await (kaa_sleep (1), &error));
      g_assert_cmpint (kaa_await_int64 (kaa_coroutine_spawn (sum_three, NULL, NULL), &error),
                       ==, 3);
      g_assert_no_error (error);
    }
}

static void
test_await_fresh (Fixture       *f,
                  gconstpointer  data)
{
  g_test_summary ("DESIGN §2: kaa_await (kaa_sleep (1), &error) and a typed await of a "
                  "fresh coroutine, in a loop, leave nothing behind");
  run_coroutine (f, body_await_fresh);
}

static void
body_await_borrowed (KaaCoroutine *self,
                     gpointer      user_data)
{
  for (guint i = 0; i < ROUNDS; i++)
    {
      g_autoptr(KaaInProgress) nap = kaa_sleep (1);
      g_autoptr(KaaInProgress) answer = kaa_coroutine_spawn (sum_three, NULL, NULL);
      g_autoptr(GError) error = NULL;

      g_assert_true (kaa_await_borrowed (nap, NULL));
      /* Still ours: read it, and g_autoptr releases it. */
      g_assert_cmpint (kaa_in_progress_get_state (nap), ==, KAA_STATE_FINISHED);
      g_assert_true (kaa_await_borrowed (answer, &error));
      g_assert_cmpint (kaa_in_progress_get_int64 (answer), ==, 3);
    }
}

static void
test_await_borrowed (Fixture       *f,
                     gconstpointer  data)
{
  g_test_summary ("DESIGN §2: g_autoptr(KaaInProgress) nap = kaa_sleep (1); "
                  "kaa_await_borrowed (nap, NULL); is correct: the caller's reference "
                  "stays, nothing is released twice and nothing leaks");
  run_coroutine (f, body_await_borrowed);
}

/* ------------------------------------------------------------- timeout */

static void
body_timeout (KaaCoroutine *self,
              gpointer      user_data)
{
  for (guint i = 0; i < ROUNDS; i++)
    {
      g_autoptr(GError) error = NULL;

      /* The input first, then the deadline first. */
      g_assert_true (kaa_await (kaa_timeout (kaa_sleep (1), 1000, TRUE), &error));
      g_assert_no_error (error);
      g_assert_false (kaa_await (kaa_timeout (kaa_sleep (10000), 1, TRUE), &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
      g_clear_error (&error);
      g_assert_false (kaa_await (kaa_timeout (kaa_in_progress_new (), 1, FALSE), &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
    }
}

static void
test_timeout (Fixture       *f,
              gconstpointer  data)
{
  g_test_summary ("DESIGN §2: kaa_await (kaa_timeout (kaa_sleep (1), 1000, TRUE), &e), "
                  "and a timeout that expires, in a loop, leave nothing behind");
  run_coroutine (f, body_timeout);
}

/* -------------------------------------------------------- any and all */

typedef KaaInProgress *(*GroupFunc) (KaaInProgress **inputs, guint n_inputs);

static void
body_groups (KaaCoroutine *self,
             gpointer      user_data)
{
  static const GroupFunc groups[] = { kaa_all, kaa_any, kaa_all_success, kaa_any_success };

  for (guint i = 0; i < ROUNDS; i++)
    for (guint g = 0; g < G_N_ELEMENTS (groups); g++)
      {
        KaaInProgress *naps[] = { kaa_sleep (1), kaa_sleep (3), kaa_sleep (2) };
        g_autoptr(GError) error = NULL;

        g_assert_true (kaa_await (groups[g] (naps, G_N_ELEMENTS (naps)), &error));
        g_assert_no_error (error);
      }
}

static void
test_groups (Fixture       *f,
             gconstpointer  data)
{
  g_test_summary ("DESIGN §2: kaa_await of kaa_all, kaa_any and their _success forms "
                  "over arrays of fresh sleeps, in a loop, leaves nothing behind, the "
                  "losers of a race included");
  run_coroutine (f, body_groups);
}

static void
body_keep_own (KaaCoroutine *self,
               gpointer      user_data)
{
  for (guint i = 0; i < ROUNDS; i++)
    {
      g_autoptr(KaaInProgress) fast = kaa_sleep (1);
      g_autoptr(KaaInProgress) never = kaa_in_progress_new ();
      KaaInProgress *inputs[] = { kaa_in_progress_ref (never), kaa_in_progress_ref (fast) };
      g_autoptr(GError) error = NULL;
      gint64 winner;

      winner = kaa_await_int64 (kaa_any (inputs, G_N_ELEMENTS (inputs)), &error);
      g_assert_no_error (error);
      g_assert_cmpint (winner, ==, 1);
      /* Our own references: the winner's outcome, the loser still pending. */
      g_assert_true (kaa_in_progress_propagate (fast, NULL));
      g_assert_false (kaa_in_progress_is_done (never));
    }
}

static void
test_keep_own_reference (Fixture       *f,
                         gconstpointer  data)
{
  g_test_summary ("DESIGN §2: to read an input's outcome after kaa_any, keep a "
                  "reference of your own with kaa_in_progress_ref");
  run_coroutine (f, body_keep_own);
}

static void
test_cancel_group (Fixture       *f,
                   gconstpointer  data)
{
  g_test_summary ("DESIGN §2, §6: a combinator that took fresh inputs and is then "
                  "cancelled cancels them, since nobody else awaits them, and frees them");

  for (guint i = 0; i < ROUNDS; i++)
    {
      KaaInProgress *naps[] = { kaa_sleep (10000), kaa_sleep (20000) };
      KaaInProgress *all = kaa_all (naps, G_N_ELEMENTS (naps));
      KaaInProgress *deadline = kaa_timeout (kaa_sleep (10000), 10000, FALSE);

      kaa_in_progress_cancel (all);
      kaa_in_progress_cancel (deadline);
      kaa_in_progress_unref (all);
      kaa_in_progress_unref (deadline);
    }
  settle_everything (f);
}

/* ---------------------------------------------- shield and finish_from */

static void
body_chain (KaaCoroutine *self,
            gpointer      user_data)
{
  for (guint i = 0; i < ROUNDS; i++)
    {
      g_autoptr(KaaInProgress) source = kaa_in_progress_new ();
      KaaInProgress *follower = kaa_in_progress_new ();
      g_autoptr(GError) error = NULL;

      /* Fresh inputs, taken. */
      g_assert_true (kaa_await (kaa_in_progress_shield (kaa_sleep (1)), &error));
      kaa_in_progress_finish_from (follower, kaa_sleep (1));
      g_assert_true (kaa_await (follower, &error));

      /* An input we keep: a reference of our own for each taker. */
      follower = kaa_in_progress_new ();
      kaa_in_progress_finish_from (follower, kaa_in_progress_ref (source));
      kaa_in_progress_finish_int64 (source, i);
      g_assert_cmpint (kaa_await_int64 (kaa_in_progress_shield (kaa_in_progress_ref (source)),
                                        &error), ==, i);
      g_assert_cmpint (kaa_await_int64 (follower, &error), ==, i);
      g_assert_no_error (error);
    }
}

static void
test_shield_and_finish_from (Fixture       *f,
                             gconstpointer  data)
{
  g_test_summary ("DESIGN §2: kaa_in_progress_shield and kaa_in_progress_finish_from "
                  "take the InProgress they follow");
  run_coroutine (f, body_chain);
}

/* ------------------------------------------------- rejected calls */

#define EXPECT_CRITICAL(pattern, statement)                                \
  G_STMT_START {                                                           \
    g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, pattern);          \
    statement;                                                             \
    g_test_assert_expected_messages ();                                    \
  } G_STMT_END

static void
check_invalid (KaaInProgress *ip)
{
  g_assert_error (kaa_in_progress_get_error (ip), KAA_ERROR, KAA_ERROR_INVALID_ARGUMENT);
  kaa_in_progress_unref (ip);
}

static void
body_rejected (KaaCoroutine *self,
               gpointer      user_data)
{
  GError *earlier = g_error_new_literal (KAA_ERROR, KAA_ERROR_FAILED, "earlier");

  EXPECT_CRITICAL ("*error == NULL*", g_assert_false (kaa_await (kaa_sleep (1), &earlier)));
  EXPECT_CRITICAL ("*error == NULL*", kaa_await_int64 (kaa_sleep (1), &earlier));
  EXPECT_CRITICAL ("*awaits its own InProgress*",
                   kaa_await (kaa_in_progress_ref (kaa_coroutine_get_in_progress (self)), NULL));
  g_error_free (earlier);
}

static void
test_rejected_calls_release (Fixture       *f,
                             gconstpointer  data)
{
  KaaInProgress *done = kaa_in_progress_new ();
  KaaInProgress *with_hole[] = { NULL, NULL, NULL };
  g_autoptr(GError) error = NULL;

  g_test_summary ("DESIGN §2: a consuming function that rejects its call still releases "
                  "what it was given: a NULL element, a follower already done, an await "
                  "with *error set, awaiting one's own InProgress, an await outside a "
                  "coroutine");

  with_hole[0] = kaa_sleep (1);
  with_hole[2] = kaa_in_progress_new ();
  EXPECT_CRITICAL ("*inputs_are_valid*", check_invalid (kaa_any (with_hole, 3)));
  with_hole[0] = kaa_sleep (1);
  with_hole[2] = kaa_in_progress_new ();
  EXPECT_CRITICAL ("*inputs_are_valid*", check_invalid (kaa_all_success (with_hole, 3)));

  kaa_in_progress_finish_boolean (done, TRUE);
  EXPECT_CRITICAL ("*self != NULL*", kaa_in_progress_finish_from (NULL, kaa_sleep (1)));
  EXPECT_CRITICAL ("*is already done: it can settle only once*",
                   kaa_in_progress_finish_from (done, kaa_sleep (1)));
  EXPECT_CRITICAL ("*self != source*",
                   kaa_in_progress_finish_from (done, kaa_in_progress_ref (done)));
  kaa_in_progress_unref (done);

  EXPECT_CRITICAL ("*not called from a coroutine*",
                   g_assert_false (kaa_await (kaa_sleep (1), &error)));
  g_assert_error (error, KAA_ERROR, KAA_ERROR_NOT_IN_COROUTINE);
  g_clear_error (&error);
  EXPECT_CRITICAL ("*in_progress != NULL*", g_assert_false (kaa_await (NULL, NULL)));

  run_coroutine (f, body_rejected);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  KAA_TEST_ADD ("await-fresh", test_await_fresh);
  KAA_TEST_ADD ("await-borrowed", test_await_borrowed);
  KAA_TEST_ADD ("timeout", test_timeout);
  KAA_TEST_ADD ("groups", test_groups);
  KAA_TEST_ADD ("keep-own-reference", test_keep_own_reference);
  KAA_TEST_ADD ("cancel-group", test_cancel_group);
  KAA_TEST_ADD ("shield-and-finish-from", test_shield_and_finish_from);
  KAA_TEST_ADD ("rejected-calls-release", test_rejected_calls_release);


  return g_test_run ();
}
