/* test-await-link.c: finish_from and shield await through the one await
 * link (DESIGN §6, issue 15 §1)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "kaa-test-util.h"

typedef KaaTestFixture Fixture;

#define KAA_TEST_AREA "await-link"

static void
test_finish_from_cancels_as_last_awaiter (Fixture       *f,
                                          gconstpointer  data)
{
  g_autoptr(KaaInProgress) source = kaa_sleep (10000);
  g_autoptr(KaaInProgress) first = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) second = kaa_in_progress_new ();

  g_test_summary ("DESIGN §6: a follower cancels its source only as its last awaiter; "
                  "while another follower awaits it, it only detaches");

  kaa_in_progress_finish_from (first, kaa_in_progress_ref (source));
  kaa_in_progress_finish_from (second, kaa_in_progress_ref (source));
  kaa_in_progress_cancel (first);
  g_assert_cmpint (kaa_in_progress_get_state (first), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (kaa_in_progress_get_state (source), ==, KAA_STATE_PENDING);
  kaa_in_progress_cancel (second);
  g_assert_cmpint (kaa_in_progress_get_state (source), ==, KAA_STATE_CANCELLED);
}

static void
test_shield_is_an_awaiter (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(KaaInProgress) source = kaa_sleep (10000);
  g_autoptr(KaaInProgress) shield = kaa_in_progress_shield (kaa_in_progress_ref (source));
  KaaInProgress *inputs[] = { kaa_in_progress_ref (source) };
  g_autoptr(KaaInProgress) all = kaa_all (inputs, 1);

  g_test_summary ("DESIGN §6: a shield shares what it follows like any awaiter: "
                  "kaa_all over it neither pauses nor cancels it");

  kaa_in_progress_pause (all);
  g_assert_false (kaa_in_progress_is_paused (source));
  kaa_in_progress_resume (all);
  kaa_in_progress_cancel (all);
  g_assert_cmpint (kaa_in_progress_get_state (source), ==, KAA_STATE_PENDING);
  /* Cancelled, the shield only stops following: now kaa_all was not the
   * last awaiter, and nobody awaits the source any more. */
  kaa_in_progress_cancel (shield);
  g_assert_cmpint (kaa_in_progress_get_state (source), ==, KAA_STATE_PENDING);
  kaa_in_progress_cancel (source);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  KAA_TEST_ADD ("finish-from-cancels-as-last-awaiter", test_finish_from_cancels_as_last_awaiter);
  KAA_TEST_ADD ("shield-is-an-awaiter", test_shield_is_an_awaiter);

  return g_test_run ();
}
