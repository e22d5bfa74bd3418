/* simple.c: txcoroutine's simple example, in C
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A coroutine loops on get_message(), a future that a timer finishes a
 * second later. Cancelling the coroutine after three seconds reaches the
 * message it is waiting for, whose canceller stops the timer; then the
 * coroutine's cleanup runs:
 *
 *   getting a message...
 *   processing message: dummy-message
 *   ...
 *   cancelled getting a message
 *   coroutine stopped, cleaning up
 */
#include "seed.h"

static void
message_arrived (KaaInProgress *heavylifting,
                 gpointer       data)
{
  if (kaa_in_progress_get_state (heavylifting) == KAA_STATE_FINISHED)
    kaa_in_progress_finish_string (data, "dummy-message");
}

/* The canceller: runs inside the cancel, before the awaiting coroutine
 * resumes with the error. */
static void
message_settled (KaaInProgress *message,
                 gpointer       data)
{
  if (kaa_in_progress_get_state (message) != KAA_STATE_CANCELLED)
    return;
  seed_say ("cancelled getting a message");
  kaa_in_progress_cancel (data);
}

static KaaInProgress *
get_message (void)
{
  KaaInProgress *message = kaa_in_progress_new ();
  KaaInProgress *heavylifting = kaa_sleep (seed_msec (1.0));

  seed_say ("getting a message...");
  kaa_in_progress_connect (heavylifting, message_arrived, kaa_in_progress_ref (message),
                           (GDestroyNotify) kaa_in_progress_unref);
  kaa_in_progress_connect (message, message_settled, heavylifting,
                           (GDestroyNotify) kaa_in_progress_unref);
  return message;
}

static void
some_process (KaaCoroutine *co,
              gpointer      data)
{
  g_auto(SeedFinally) finally = { "coroutine stopped, cleaning up" };

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *msg = kaa_await_string (get_message (), &error);

      if (error != NULL)
        return;
      seed_say ("processing message: %s", msg);
    }
}

int
main (void)
{
  g_autoptr(KaaInProgress) proc = NULL;

  seed_init ();
  seed_progress (3.0);
  /* Armed before the coroutine starts, so that at three seconds the stop
   * comes before the third message, as in the seed. */
  seed_at (3.0, seed_cancel_and_quit, &proc);
  proc = kaa_coroutine_spawn (some_process, NULL, NULL);
  kaa_main_run ();
  return 0;
}
