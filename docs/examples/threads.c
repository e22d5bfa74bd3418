/* threads.c: the guide's thread examples, as one program
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * docs/guide.md shows this file in pieces; tools/check-guide.py keeps the
 * two in step, and the test suite runs it.
 */
#include <kaa/kaa.h>

static gpointer
count_words (KaaThreadJob *job,
             gpointer      user_data,
             GError      **error)
{
  g_auto(GStrv) words = g_strsplit (user_data, " ", -1);
  guint n = g_strv_length (words);

  for (guint i = 0; i < n; i++)
    {
      if (!kaa_thread_job_check (job))    /* blocks while paused */
        return NULL;                      /* cancelled: the result is dropped */
      kaa_thread_job_set_progress (job, i + 1, n);
    }
  kaa_thread_job_return_int64 (job, n);
  return NULL;
}

static void
ask_the_main_thread (KaaInProgress *call,
                     gpointer       user_data)
{
  /* Runs on the main context: the place to touch widgets. */
  kaa_in_progress_finish_string (call, "yes");
}

static gpointer
confirm (KaaThreadJob *job,
         gpointer      user_data,
         GError      **error)
{
  g_autoptr(KaaInProgress) call = kaa_main_thread_run (ask_the_main_thread, NULL, NULL);

  /* On a worker, wait blocks until the main loop has run the call. */
  if (!kaa_in_progress_wait (call, error))
    return NULL;
  kaa_thread_job_return_string (job, kaa_in_progress_get_string (call));
  return NULL;
}

static gpointer
spin_until_cancelled (KaaThreadJob *job,
                      gpointer      user_data,
                      GError      **error)
{
  while (kaa_thread_job_check (job))
    g_usleep (1000);
  return NULL;
}

int
main (void)
{
  g_autoptr(KaaInProgress) words = kaa_thread_run (count_words, (gpointer) "a b c d", NULL);
  g_autoptr(KaaInProgress) answer = NULL;
  g_autoptr(KaaInProgress) spinning = NULL;
  g_autoptr(KaaInProgress) nap = kaa_sleep (20);
  KaaThreadPool *io = kaa_thread_pool_get ("io");

  g_assert_true (kaa_in_progress_wait (words, NULL));
  g_assert_cmpint (kaa_in_progress_get_int64 (words), ==, 4);

  answer = kaa_thread_pool_run (io, 0, confirm, NULL, NULL);
  g_assert_true (kaa_in_progress_wait (answer, NULL));
  g_assert_cmpstr (kaa_in_progress_get_string (answer), ==, "yes");

  spinning = kaa_thread_pool_run (io, 0, spin_until_cancelled, NULL, NULL);
  kaa_in_progress_wait (nap, NULL);
  kaa_in_progress_cancel (spinning);   /* cancelled now; the job stops soon */
  g_assert_cmpint (kaa_in_progress_get_state (spinning), ==, KAA_STATE_CANCELLED);
  g_print ("%" G_GINT64_FORMAT " words; confirmed: %s\n",
           kaa_in_progress_get_int64 (words), kaa_in_progress_get_string (answer));
  return 0;
}
