/* policies.c: the guide's definition, interval and policy examples, as
 * one program
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * docs/guide.md shows this file in pieces; tools/check-guide.py keeps the
 * two in step, and the test suite runs it.
 */
#include <kaa/kaa.h>

static void
tick (KaaCoroutine *self,
      gpointer      user_data)
{
  gint64 start = g_get_monotonic_time ();

  for (int i = 0; i < 5; i++)
    if (!kaa_yield ())          /* resumes at the next 20 ms slot */
      return;
  kaa_coroutine_return_int64 (self, (g_get_monotonic_time () - start) / 1000);
}

static const KaaCoroutineDef tick_def = {
  .name = "tick",
  .func = tick,
  .interval = 20,
};

static void
save (KaaCoroutine *self,
      gpointer      user_data)
{
  GString *log = user_data;

  g_string_append (log, "<");
  if (kaa_await (kaa_sleep (5), NULL))
    g_string_append (log, ">");
}

static const KaaCoroutineDef save_def = {
  .name = "save",
  .func = save,
  .policy = KAA_POLICY_SYNCHRONIZED,
};

static void
refresh (KaaCoroutine *self,
         gpointer      user_data)
{
  kaa_await (kaa_sleep (5), NULL);
}

static const KaaCoroutineDef refresh_def = {
  .name = "refresh",
  .func = refresh,
  .policy = KAA_POLICY_SINGLETON,
};

static void
search (KaaCoroutine *self,
        gpointer      user_data)
{
  KaaInProgress *last = kaa_coroutine_get_last (self);

  /* Only the newest search matters: drop the one still running. */
  if (last != NULL)
    kaa_in_progress_cancel (last);
  if (kaa_await (kaa_sleep (5), NULL))
    kaa_coroutine_return_string (self, user_data);
}

static const KaaCoroutineDef search_def = {
  .name = "search",
  .func = search,
  .policy = KAA_POLICY_PASS_LAST,
};

int
main (void)
{
  g_autoptr(KaaInProgress) ticks = kaa_coroutine_spawn_def (&tick_def, NULL, NULL, NULL);
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(KaaInProgress) save1 = kaa_coroutine_spawn_def (&save_def, NULL, log, NULL);
  g_autoptr(KaaInProgress) save2 = kaa_coroutine_spawn_def (&save_def, NULL, log, NULL);
  g_autoptr(KaaInProgress) refresh1 = kaa_coroutine_spawn_def (&refresh_def, NULL, NULL, NULL);
  g_autoptr(KaaInProgress) refresh2 = kaa_coroutine_spawn_def (&refresh_def, NULL, NULL, NULL);
  g_autoptr(KaaInProgress) search1 = kaa_coroutine_spawn_def (&search_def, NULL, (gpointer) "ka", NULL);
  g_autoptr(KaaInProgress) search2 = kaa_coroutine_spawn_def (&search_def, NULL, (gpointer) "kaa", NULL);

  g_assert_true (kaa_in_progress_wait (ticks, NULL));
  /* Five slots of 20 ms: about 100 ms, more on a busy machine. */
  g_assert_cmpint (kaa_in_progress_get_int64 (ticks), >=, 80);

  g_assert_true (kaa_in_progress_wait (save2, NULL));
  g_assert_cmpstr (log->str, ==, "<><>");      /* one after the other */

  g_assert_true (refresh1 == refresh2);        /* the same call */

  g_assert_true (kaa_in_progress_wait (search2, NULL));
  g_assert_cmpint (kaa_in_progress_get_state (search1), ==, KAA_STATE_CANCELLED);
  g_print ("searched for %s\n", kaa_in_progress_get_string (search2));
  return 0;
}
