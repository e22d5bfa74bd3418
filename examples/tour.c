/* tour.c: the README's tour, as one program
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The README shows this file in pieces; tools/check-readme.py keeps the
 * two in step, and the test suite runs it.
 */
#include <kaa/kaa.h>

typedef struct
{
  KaaInProgress *ip;
  gint64         done;
} Download;

static gboolean
download_step (gpointer user_data)
{
  Download *d = user_data;

  d->done += 10;
  kaa_in_progress_set_progress (d->ip, d->done, 100);
  if (d->done < 100)
    return G_SOURCE_CONTINUE;
  kaa_in_progress_finish_int64 (d->ip, d->done);
  return G_SOURCE_REMOVE;
}

static void
download_free (gpointer user_data)
{
  Download *d = user_data;

  kaa_in_progress_unref (d->ip);
  g_free (d);
}

static KaaInProgress *
start_download (void)
{
  Download *d = g_new0 (Download, 1);

  d->ip = kaa_in_progress_new ();
  kaa_in_progress_set_name (d->ip, "download");
  g_timeout_add_full (G_PRIORITY_DEFAULT, 20, download_step, d, download_free);
  return kaa_in_progress_ref (d->ip);
}

static void
on_progress (KaaInProgress *ip,
             gpointer       user_data)
{
  g_print ("%s: %3.0f%%\n", kaa_in_progress_get_name (ip),
           100 * kaa_in_progress_get_fraction (ip));
}

static void
on_done (KaaInProgress *ip,
         gpointer       user_data)
{
  g_autoptr(GError) error = NULL;

  if (kaa_in_progress_propagate (ip, &error))
    g_print ("downloaded %" G_GINT64_FORMAT " bytes\n",
             kaa_in_progress_get_int64 (ip));
  else
    g_print ("download failed: %s\n", error->message);
  kaa_main_quit ();
}

static void
sleep_and_time_out (void)
{
  /* kaa_all() takes the naps; we keep a reference of our own to the
   * sleep given to kaa_timeout(), to look at it afterwards. */
  KaaInProgress *naps[] = { kaa_sleep (50), kaa_sleep (80) };
  g_autoptr(KaaInProgress) both = kaa_all (naps, G_N_ELEMENTS (naps));
  g_autoptr(KaaInProgress) too_long = kaa_sleep (10000);
  g_autoptr(KaaInProgress) deadline = kaa_timeout (kaa_in_progress_ref (too_long), 100, TRUE);
  g_autoptr(GError) error = NULL;

  if (kaa_in_progress_wait (both, NULL))
    g_print ("%" G_GINT64_FORMAT " naps done\n", kaa_in_progress_get_int64 (both));

  if (!kaa_in_progress_wait (deadline, &error))
    g_print ("gave up: %s; the sleep was %s\n", error->message,
             kaa_in_progress_get_state (too_long) == KAA_STATE_CANCELLED
             ? "cancelled" : "left running");
}

static void
count_down (KaaCoroutine *self,
            gpointer      user_data)
{
  for (int i = 3; i > 0; i--)
    {
      g_print ("%d...\n", i);
      /* Suspends this function only; the main loop runs on meanwhile. */
      if (!kaa_await (kaa_sleep (100), NULL))
        return;                 /* cancelled */
    }
  kaa_coroutine_return_string (self, "lift-off");
}

static gpointer
checksum (KaaThreadJob *job,
          gpointer      user_data,
          GError      **error)
{
  /* Runs on a worker thread: blocking here never stalls the main loop. */
  g_autofree char *sum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, user_data, -1);

  kaa_thread_job_return_string (job, sum);
  return NULL;
}

int
main (void)
{
  g_autoptr(KaaInProgress) download = start_download ();
  g_autoptr(KaaInProgress) launch = NULL;
  g_autoptr(KaaInProgress) hash = NULL;

  kaa_in_progress_connect_progress (download, on_progress, NULL, NULL);
  kaa_in_progress_connect (download, on_done, NULL, NULL);
  kaa_main_run ();              /* until on_done() calls kaa_main_quit() */

  sleep_and_time_out ();

  launch = kaa_coroutine_spawn (count_down, NULL, NULL);
  if (kaa_in_progress_wait (launch, NULL))
    g_print ("%s\n", kaa_in_progress_get_string (launch));

  hash = kaa_thread_run (checksum, (gpointer) "kaa", NULL);
  if (kaa_in_progress_wait (hash, NULL))
    g_print ("sha256: %.16s...\n", kaa_in_progress_get_string (hash));
  return 0;
}
