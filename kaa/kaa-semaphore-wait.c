/* kaa-semaphore-wait.c: waiting for a permit by blocking a thread or suspending a coroutine
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The two ways to wait that are not an InProgress of one's own: a
 * thread blocks on the semaphore's condition variable, with a waiter on
 * its stack in the same FIFO line as everyone else (kaa-semaphore.c),
 * and a coroutine awaits an acquire and gets a guard whose free gives
 * the permit back, which a g_autoptr does on every way out, a cancel
 * included.
 */
#include "config.h"

#include "kaa-coroutine.h"
#include "kaa-error.h"
#include "kaa-i18n-private.h"
#include "kaa-semaphore-private.h"

/* ------------------------------------------------------- blocking wait */

static void
wait_cancelled (GCancellable *cancellable,
                gpointer      data)
{
  KaaSemaphore *self = data;

  /* Under the lock, so that the waiter either sees the cancel before it
   * sleeps or is asleep and woken. */
  g_mutex_lock (&self->lock);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

/* The blocked thread's waiter lives on its stack: out of line before
 * the function returns, whether served or not. */
static gboolean
semaphore_block_unlocked (KaaSemaphore *self,
                          GCancellable *cancellable)
{
  KaaSemaphoreWaiter waiter = { .semaphore = self };

  waiter.link.data = &waiter;
  if (kaa_semaphore_take_or_queue_unlocked (self, &waiter))
    return TRUE;
  if (KAA_SEMAPHORE_COUNT (g_atomic_int_get (&self->state)) > 0)
    {
      /* A permit behind paused waiters: ours, unless someone else's
       * hand-out is under way, which then serves us. */
      kaa_semaphore_hand_out_unlocked (self);
      g_mutex_lock (&self->lock);
    }
  while (!waiter.granted && !g_cancellable_is_cancelled (cancellable))
    g_cond_wait (&self->cond, &self->lock);
  kaa_semaphore_unqueue_unlocked (&waiter);
  return waiter.granted;
}

gboolean
kaa_semaphore_wait_for (KaaSemaphore  *self,
                        GCancellable  *cancellable,
                        const char    *function,
                        GError       **error)
{
  gboolean granted;
  gulong id = 0;

  if (kaa_coroutine_self () != NULL)
    {
      g_autofree char *what = kaa_semaphore_describe (self);

      g_critical ("%s: called inside a coroutine for %s: a coroutine suspends with "
                  "kaa_await(), it never blocks its thread", function, what);
      g_set_error_literal (error, KAA_ERROR, KAA_ERROR_IN_COROUTINE,
                           self->is_mutex ?
                           _("A coroutine cannot block its thread waiting to lock a mutex") :
                           _("A coroutine cannot block its thread waiting for a permit"));
      return FALSE;
    }
  if (kaa_semaphore_take (self, NULL))
    return TRUE;

  if (cancellable != NULL)
    id = g_cancellable_connect (cancellable, G_CALLBACK (wait_cancelled), self, NULL);
  g_mutex_lock (&self->lock);
  granted = semaphore_block_unlocked (self, cancellable);
  g_mutex_unlock (&self->lock);
  /* Outside the lock: a running callback, which takes it, is waited for. */
  g_cancellable_disconnect (cancellable, id);
  if (!granted)
    g_cancellable_set_error_if_cancelled (cancellable, error);
  return granted;
}

/**
 * kaa_semaphore_acquire_wait:
 * @self: a [struct@Kaa.Semaphore]
 * @cancellable: (nullable): gives up the wait when cancelled, such as
 *   the one of [method@Kaa.ThreadJob.get_cancellable]
 * @error: return location for `G_IO_ERROR_CANCELLED`
 *
 * Blocks the calling thread until it holds a permit, in line with every
 * other waiter. For thread-pool jobs and other threads: it does not
 * iterate any context, so a thread that must release the permit itself
 * would wait for ever. Called inside a coroutine, this logs a critical
 * and fails with `KAA_ERROR_IN_COROUTINE`: a coroutine awaits instead.
 *
 * Returns: %TRUE if the caller now holds a permit, %FALSE with @error
 *   set if @cancellable was cancelled first
 * Since: 0.2
 */
gboolean
kaa_semaphore_acquire_wait (KaaSemaphore  *self,
                            GCancellable  *cancellable,
                            GError       **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return kaa_semaphore_wait_for (self, cancellable, G_STRFUNC, error);
}

/* ----------------------------------------------------------------- await */

gboolean
kaa_semaphore_await_for (KaaSemaphore  *self,
                         gconstpointer  owner,
                         const char    *name,
                         GError       **error)
{
  KaaInProgress *in_progress = kaa_semaphore_acquire_for (self, owner, name);
  gboolean held = kaa_await_borrowed (in_progress, error);

  /* Served, but the coroutine was cancelled before it resumed: the
   * permit is in nobody's hands, so it goes back at once. */
  if (!held && kaa_in_progress_get_state (in_progress) == KAA_STATE_FINISHED)
    kaa_semaphore_release_for (self, owner, G_STRFUNC);
  kaa_in_progress_unref (in_progress);
  return held;
}

/**
 * kaa_semaphore_await: (skip)
 * @self: a [struct@Kaa.Semaphore]
 * @error: return location for the error, such as `G_IO_ERROR_CANCELLED`
 *
 * Suspends the calling coroutine until it holds a permit of @self, in
 * line with every other waiter, and returns the permit as a guard:
 *
 * |[<!-- language="C" -->
 * g_autoptr(KaaPermit) permit = kaa_semaphore_await (downloads, &error);
 * if (permit == NULL)
 *   return;   // cancelled while waiting: no permit is held
 * ... awaits: the permit is held across them ...
 * ]|
 *
 * The permit goes back when the guard is freed, which a `g_autoptr`
 * does on every way out of the scope, a cancel of the coroutine
 * included (DESIGN §4): a cancelled holder never keeps its permit.
 * A coroutine cancelled or paused while it waits holds nothing, as
 * [method@Kaa.Semaphore.acquire] says.
 *
 * Returns: (transfer full) (nullable): the permit, or %NULL with @error
 *   set if the coroutine was cancelled first (or this was called outside
 *   a coroutine)
 * Since: 0.2
 */
KaaPermit *
kaa_semaphore_await (KaaSemaphore  *self,
                     GError       **error)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!kaa_semaphore_await_for (self, NULL, "kaa_semaphore_await", error))
    return NULL;
  return (KaaPermit *) kaa_semaphore_ref (self);
}

/**
 * kaa_permit_release: (skip)
 * @permit: (transfer full): a permit from kaa_semaphore_await()
 *
 * Gives the permit back to its semaphore and frees the guard. Any
 * thread.
 *
 * Since: 0.2
 */
void
kaa_permit_release (KaaPermit *permit)
{
  KaaSemaphore *self = (KaaSemaphore *) permit;

  g_return_if_fail (permit != NULL);

  kaa_semaphore_release_for (self, NULL, G_STRFUNC);
  kaa_semaphore_unref (self);
}
