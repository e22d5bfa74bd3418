/* limits.c: the guide's semaphore, mutex and cancelling race, as one program
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * docs/guide.md shows this file in pieces; tools/check-guide.py keeps the
 * two in step, and the test suite runs it: 40 downloads with at most 4 in
 * flight, some cancelled while they hold a permit; a settings file
 * rewritten under a KaaMutex across awaits; two mirrors raced with the
 * loser cancelled.
 */
#include <kaa/kaa.h>

#define MAX_DOWNLOADS 4

static guint in_flight, most_in_flight;

/* A stand-in for the real transfer: a few milliseconds on the loop. */
static KaaInProgress *
transfer (guint i)
{
  return kaa_sleep (1 + i % 5);
}

static void
download (KaaCoroutine *co,
          gpointer      user_data)
{
  KaaSemaphore *downloads = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(KaaPermit) permit = kaa_semaphore_await (downloads, &error);

  if (permit == NULL)
    return;                      /* cancelled while in line: nothing held */

  in_flight++;
  most_in_flight = MAX (most_in_flight, in_flight);
  kaa_await (transfer (in_flight), &error);
  in_flight--;
}                                /* the permit goes back here, cancelled or not */

static void
download_all (void)
{
  g_autoptr(KaaSemaphore) downloads = kaa_semaphore_new (MAX_DOWNLOADS);
  KaaInProgress *jobs[40];

  for (guint i = 0; i < G_N_ELEMENTS (jobs); i++)
    jobs[i] = kaa_coroutine_spawn (download, downloads, NULL);
  /* The first ones hold permits: cancelling them hands the permits on. */
  kaa_in_progress_cancel (jobs[0]);
  kaa_in_progress_cancel (jobs[1]);

  for (guint i = 0; i < G_N_ELEMENTS (jobs); i++)
    {
      kaa_in_progress_wait (jobs[i], NULL);
      kaa_in_progress_unref (jobs[i]);
    }
  g_assert_cmpuint (most_in_flight, ==, MAX_DOWNLOADS);
  g_assert_cmpuint (kaa_semaphore_get_available (downloads), ==, MAX_DOWNLOADS);
}

/* ------------------------------------------------------------- mutex */

typedef struct
{
  KaaMutex *lock;
  GString  *file;     /* a stand-in for a settings file */
} Settings;

/* Reads, waits, writes back: without the lock, two of these would
 * interleave across the await and one update would be lost. */
static void
add_setting (KaaCoroutine *co,
             gpointer      user_data)
{
  Settings *settings = user_data;
  g_autoptr(KaaMutexLocker) locker = kaa_mutex_await (settings->lock, NULL);
  g_autofree char *copy = NULL;

  if (locker == NULL)
    return;
  copy = g_strdup (settings->file->str);
  if (!kaa_await (kaa_sleep (2), NULL))     /* held across the await */
    return;
  g_string_printf (settings->file, "%s%s;", copy, kaa_coroutine_get_name (co));
}

static void
update_settings (void)
{
  Settings settings = { kaa_mutex_new (), g_string_new (NULL) };
  static const KaaCoroutineDef def = { .name = "x", .func = add_setting };
  KaaInProgress *a = kaa_coroutine_spawn_def (&def, NULL, &settings, NULL);
  KaaInProgress *b = kaa_coroutine_spawn_def (&def, NULL, &settings, NULL);

  kaa_in_progress_wait (a, NULL);
  kaa_in_progress_wait (b, NULL);
  g_assert_cmpstr (settings.file->str, ==, "x;x;");
  kaa_in_progress_unref (a);
  kaa_in_progress_unref (b);
  kaa_mutex_unref (settings.lock);
  g_string_free (settings.file, TRUE);
}

/* -------------------------------------------------- a cancelling race */

static void
race_mirrors (void)
{
  KaaInProgress *mirrors[] = { kaa_sleep (5000), kaa_sleep (5) };
  KaaInProgress *slow = kaa_in_progress_ref (mirrors[0]);
  g_autoptr(KaaInProgress) first =
    kaa_any_with_flags (mirrors, G_N_ELEMENTS (mirrors), KAA_COMBINE_CANCEL_OTHERS);

  g_assert_true (kaa_in_progress_wait (first, NULL));
  g_assert_cmpint (kaa_in_progress_get_int64 (first), ==, 1);
  /* The loser was cancelled: its timer is gone, nothing keeps running. */
  g_assert_cmpint (kaa_in_progress_get_state (slow), ==, KAA_STATE_CANCELLED);
  kaa_in_progress_unref (slow);
}

int
main (void)
{
  download_all ();
  update_settings ();
  race_mirrors ();
  g_print ("limits: at most %d downloads at once, settings kept, loser cancelled\n",
           MAX_DOWNLOADS);
  return 0;
}
