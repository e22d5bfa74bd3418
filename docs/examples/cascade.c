/* cascade.c: the guide's cancel and pause examples, as one program
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * docs/guide.md shows this file in pieces; tools/check-guide.py keeps the
 * two in step, and the test suite runs it.
 */
#include <kaa/kaa.h>

typedef struct
{
  gint started;
  gint stopped;
} Crunch;

static gpointer
crunch (KaaThreadJob *job,
        gpointer      user_data,
        GError      **error)
{
  Crunch *state = user_data;

  g_atomic_int_set (&state->started, TRUE);
  while (kaa_thread_job_check (job))
    g_usleep (1000);
  g_atomic_int_set (&state->stopped, TRUE);
  return NULL;
}

static void
work (KaaCoroutine *self,
      gpointer      user_data)
{
  /* kaa_all() takes both, and kaa_await() takes kaa_all()'s InProgress. */
  KaaInProgress *both[] = {
    kaa_thread_run (crunch, user_data, NULL),
    kaa_sleep (G_MAXUINT),
  };

  /* Cancelling this coroutine reaches kaa_all(), then the job and the sleep. */
  kaa_await (kaa_all (both, G_N_ELEMENTS (both)), NULL);
}

static void
cancel_down (void)
{
  Crunch crunch = { FALSE, FALSE };
  g_autoptr(KaaInProgress) ip = kaa_coroutine_spawn (work, &crunch, NULL);

  while (!g_atomic_int_get (&crunch.started))  /* a queued job would never run */
    g_usleep (1000);
  kaa_in_progress_cancel (ip);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
  while (!g_atomic_int_get (&crunch.stopped))  /* its check fails at once */
    g_usleep (1000);
}

static void
nap_once (KaaCoroutine *self,
          gpointer      user_data)
{
  if (kaa_await (kaa_sleep (30), NULL))
    kaa_coroutine_return_boolean (self, TRUE);
}

static void
pause_and_resume (void)
{
  g_autoptr(KaaInProgress) ip = kaa_coroutine_spawn (nap_once, NULL, NULL);
  g_autoptr(KaaInProgress) meanwhile = kaa_sleep (100);

  kaa_in_progress_pause (ip);           /* the sleep beneath keeps its 30 ms */
  kaa_in_progress_wait (meanwhile, NULL);
  g_assert_false (kaa_in_progress_is_done (ip));
  kaa_in_progress_resume (ip);
  g_assert_true (kaa_in_progress_wait (ip, NULL));
}

static void
await_shared (KaaCoroutine *self,
              gpointer      user_data)
{
  /* Borrowed: the caller keeps its reference to the shared sleep. */
  kaa_await_borrowed (user_data, NULL);
}

static void
shared (void)
{
  g_autoptr(KaaInProgress) common = kaa_sleep (20);
  g_autoptr(KaaInProgress) a = kaa_coroutine_spawn (await_shared, common, NULL);
  g_autoptr(KaaInProgress) b = kaa_coroutine_spawn (await_shared, common, NULL);

  /* b still awaits the sleep, so cancelling a only detaches a from it. */
  kaa_in_progress_cancel (a);
  g_assert_false (kaa_in_progress_is_done (common));
  g_assert_true (kaa_in_progress_wait (b, NULL));
}

int
main (void)
{
  cancel_down ();
  pause_and_resume ();
  shared ();
  g_print ("cascade: cancel, pause and sharing behaved\n");
  return 0;
}
