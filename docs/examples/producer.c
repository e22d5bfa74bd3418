/* producer.c: the guide's producer that pauses real work, as one program
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * docs/guide.md shows this file in pieces; tools/check-guide.py keeps the
 * two in step, and the test suite runs it: a child process that appends a
 * line to a file every 20 ms is paused (the file stops growing), resumed
 * (it grows again) and cancelled (the child is killed).
 */
#include <signal.h>

#include <glib/gstdio.h>
#include <kaa/kaa.h>

static void
child_cancel (KaaInProgress *in_progress,
              gpointer       user_data)
{
  g_subprocess_force_exit (user_data);        /* SIGKILL: a stopped child dies too */
}

static void
child_pause (KaaInProgress *in_progress,
             gpointer       user_data)
{
  g_subprocess_send_signal (user_data, SIGSTOP);
}

static void
child_resume (KaaInProgress *in_progress,
              gpointer       user_data)
{
  g_subprocess_send_signal (user_data, SIGCONT);
}

static const KaaProducerFuncs child_funcs = {
  .cancel = child_cancel,
  .pause = child_pause,
  .resume = child_resume,
};

static void
child_exited (GObject      *source,
              GAsyncResult *result,
              gpointer       user_data)
{
  g_autoptr(KaaInProgress) in_progress = user_data;
  GSubprocess *child = G_SUBPROCESS (source);
  GError *error = NULL;

  /* After a cancel, the InProgress is already settled: this finish is
   * dropped quietly, as a late producer's is. */
  if (!g_subprocess_wait_finish (child, result, &error))
    kaa_in_progress_fail (in_progress, error);
  else if (g_subprocess_get_if_exited (child))
    kaa_in_progress_finish_int64 (in_progress, g_subprocess_get_exit_status (child));
  else
    kaa_in_progress_fail_literal (in_progress, G_IO_ERROR, G_IO_ERROR_FAILED,
                                  "the child was killed by a signal");
}

/* Runs @argv as a child process: its InProgress finishes with the exit
 * status, and cancel, pause and resume reach the process. */
static KaaInProgress *
run_child (const char * const *argv,
           GError            **error)
{
  GSubprocess *child = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_NONE, error);
  KaaInProgress *in_progress;

  if (child == NULL)
    return NULL;
  in_progress = kaa_in_progress_new_full (&child_funcs, child, g_object_unref);
  g_subprocess_wait_async (child, NULL, child_exited, kaa_in_progress_ref (in_progress));
  return in_progress;
}

/* The size of @path, which the child appends to. */
static goffset
grown (const char *path)
{
  GStatBuf buf;

  return g_stat (path, &buf) == 0 ? buf.st_size : 0;
}

/* Iterates the main context for @msec. */
static void
run_for (guint msec)
{
  gint64 end = g_get_monotonic_time () + msec * G_TIME_SPAN_MILLISECOND;

  while (g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (5000);
    }
}

/* Iterates until @path grows past @size; generous for a busy machine. */
static void
run_until_grown (const char *path,
                 goffset     size)
{
  for (guint i = 0; i < 2000 && grown (path) <= size; i++)
    run_for (5);
  g_assert_cmpint (grown (path), >, size);
}

int
main (void)
{
  g_autofree char *path = g_build_filename (g_get_tmp_dir (), "kaa-producer-XXXXXX", NULL);
  const char *argv[] = {
    "/bin/sh", "-c", "while :; do echo tick >> \"$0\"; sleep 0.02; done", NULL, NULL
  };
  g_autoptr(KaaInProgress) child = NULL;
  goffset before, paused;

  g_close (g_mkstemp (path), NULL);
  argv[3] = path;
  child = run_child (argv, NULL);
  g_assert_nonnull (child);
  run_until_grown (path, 0);

  kaa_in_progress_pause (child);                 /* SIGSTOP */
  run_for (200);                                 /* a tick on its way lands */
  paused = grown (path);
  run_for (300);
  g_assert_cmpint (grown (path), ==, paused);    /* stopped: no more ticks */

  kaa_in_progress_resume (child);                /* SIGCONT */
  run_until_grown (path, paused);

  before = grown (path);
  kaa_in_progress_cancel (child);                /* SIGKILL */
  g_assert_cmpint (kaa_in_progress_get_state (child), ==, KAA_STATE_CANCELLED);
  run_for (300);
  g_assert_cmpint (grown (path), <=, before + 5); /* at most one tick in flight */
  run_for (300);
  g_assert_cmpint (grown (path), <=, before + 5); /* and dead: nothing more */

  g_unlink (path);
  g_print ("paused at %" G_GOFFSET_FORMAT " bytes, cancelled at %" G_GOFFSET_FORMAT "\n",
           paused, before);
  return 0;
}
