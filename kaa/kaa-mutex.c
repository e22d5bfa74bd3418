/* kaa-mutex.c: a mutual-exclusion lock that is held across awaits
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * DESIGN §9. A KaaMutex is a KaaSemaphore of one permit that records
 * its holder: the InProgress of the coroutine that locked it, or NULL
 * for code outside coroutines (main-loop callbacks, threads). The
 * holder is an identity only, compared and never dereferenced, so that
 * an unlock by someone else is caught and named instead of letting a
 * second holder in. Everything else (the FIFO line, cancel and pause of
 * waiters, the lock) is the semaphore's, in kaa-semaphore.c.
 */
#include "config.h"

#include "kaa-in-progress-private.h"
#include "kaa-mutex.h"
#include "kaa-semaphore-private.h"

#define MUTEX_SEMAPHORE(self) ((KaaSemaphore *) (self))

/**
 * kaa_mutex_new:
 *
 * Creates an unlocked mutex.
 *
 * Returns: (transfer full): a new mutex
 * Since: 0.2
 */
KaaMutex *
kaa_mutex_new (void)
{
  return (KaaMutex *) kaa_semaphore_new_internal (1, TRUE);
}

/**
 * kaa_mutex_ref:
 * @self: a [struct@Kaa.Mutex]
 *
 * Takes a reference. Any thread.
 *
 * Returns: (transfer full): @self
 * Since: 0.2
 */
KaaMutex *
kaa_mutex_ref (KaaMutex *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return (KaaMutex *) kaa_semaphore_ref (MUTEX_SEMAPHORE (self));
}

/**
 * kaa_mutex_unref:
 * @self: (transfer full): a [struct@Kaa.Mutex]
 *
 * Drops a reference. Any thread.
 *
 * Since: 0.2
 */
void
kaa_mutex_unref (KaaMutex *self)
{
  g_return_if_fail (self != NULL);

  kaa_semaphore_unref (MUTEX_SEMAPHORE (self));
}

G_DEFINE_BOXED_TYPE (KaaMutex, kaa_mutex, kaa_mutex_ref, kaa_mutex_unref)

/**
 * kaa_mutex_set_name:
 * @self: a [struct@Kaa.Mutex]
 * @name: (nullable): a name for messages, or %NULL
 *
 * Names @self in the criticals that report its misuse. Any thread.
 *
 * Since: 0.2
 */
void
kaa_mutex_set_name (KaaMutex   *self,
                    const char *name)
{
  g_return_if_fail (self != NULL);

  kaa_semaphore_set_name (MUTEX_SEMAPHORE (self), name);
}

/**
 * kaa_mutex_is_locked:
 * @self: a [struct@Kaa.Mutex]
 *
 * Tells whether someone holds @self right now: a snapshot, for tests
 * and monitoring.
 *
 * Returns: %TRUE if @self is locked
 * Since: 0.2
 */
gboolean
kaa_mutex_is_locked (KaaMutex *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return kaa_semaphore_is_held (MUTEX_SEMAPHORE (self));
}

/**
 * kaa_mutex_try_lock:
 * @self: a [struct@Kaa.Mutex]
 *
 * Locks @self if nobody holds it and nobody waits for it. Never blocks
 * or suspends. The caller (the running coroutine, or code outside
 * coroutines) becomes the holder.
 *
 * Returns: %TRUE if the caller now holds @self
 * Since: 0.2
 */
gboolean
kaa_mutex_try_lock (KaaMutex *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return kaa_semaphore_take (MUTEX_SEMAPHORE (self), kaa_semaphore_current_owner ());
}

/**
 * kaa_mutex_lock:
 * @self: a [struct@Kaa.Mutex]
 *
 * Asks for the lock. The returned InProgress finishes (with %TRUE) once
 * the caller holds @self; the caller is the coroutine running this call,
 * or code outside coroutines if none runs, and only the holder may
 * [method@Kaa.Mutex.unlock] it. Lockers are served in FIFO order; a
 * cancelled or paused waiter never holds the lock, as
 * [method@Kaa.Semaphore.acquire] explains.
 *
 * In a coroutine, kaa_mutex_await() is simpler and cannot leave
 * the mutex locked.
 *
 * Returns: (transfer full): a new InProgress
 * Since: 0.2
 */
KaaInProgress *
kaa_mutex_lock (KaaMutex *self)
{
  kaa_return_failed_if_fail (self != NULL);

  return kaa_semaphore_acquire_for (MUTEX_SEMAPHORE (self), kaa_semaphore_current_owner (),
                                    "kaa_mutex_lock");
}

/**
 * kaa_mutex_lock_wait:
 * @self: a [struct@Kaa.Mutex]
 * @cancellable: (nullable): gives up the wait when cancelled
 * @error: return location for `G_IO_ERROR_CANCELLED`
 *
 * Blocks the calling thread until it holds @self, in line with every
 * other locker: for thread-pool jobs and other threads, as
 * [method@Kaa.Semaphore.acquire_wait] explains. The holder is code
 * outside coroutines. Called inside a coroutine, this logs a critical and
 * fails with `KAA_ERROR_IN_COROUTINE`: a coroutine awaits instead.
 *
 * Returns: %TRUE if the caller now holds @self, %FALSE with @error set
 *   if @cancellable was cancelled first, or inside a coroutine
 * Since: 0.2
 */
gboolean
kaa_mutex_lock_wait (KaaMutex      *self,
                     GCancellable  *cancellable,
                     GError       **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return kaa_semaphore_wait_for (MUTEX_SEMAPHORE (self), cancellable, G_STRFUNC, error);
}

/**
 * kaa_mutex_unlock:
 * @self: a [struct@Kaa.Mutex]
 *
 * Unlocks @self and hands it to the oldest waiter that is not paused.
 * Only the holder may unlock: unlocking a mutex that is not locked, or
 * that another coroutine holds, is a programming error reported with a
 * critical naming @self, and changes nothing.
 *
 * Since: 0.2
 */
void
kaa_mutex_unlock (KaaMutex *self)
{
  g_return_if_fail (self != NULL);

  kaa_semaphore_release_for (MUTEX_SEMAPHORE (self), kaa_semaphore_current_owner (), G_STRFUNC);
}

/**
 * kaa_mutex_await: (skip)
 * @self: a [struct@Kaa.Mutex]
 * @error: return location for the error, such as `G_IO_ERROR_CANCELLED`
 *
 * Suspends the calling coroutine until it holds @self, and returns a
 * guard that unlocks it when freed:
 *
 * |[<!-- language="C" -->
 * g_autoptr(KaaMutexLocker) locker = kaa_mutex_await (mutex, &error);
 * if (locker == NULL)
 *   return;   // cancelled while waiting: the mutex is not held
 * ... awaits: nobody else holds the mutex meanwhile ...
 * ]|
 *
 * A `g_autoptr` frees the guard on every way out of the scope, a cancel
 * of the coroutine included (DESIGN §4), so a cancelled holder never
 * leaves the mutex locked.
 *
 * Returns: (transfer full) (nullable): the guard, or %NULL with @error
 *   set if the coroutine was cancelled first (or this was called outside
 *   a coroutine)
 * Since: 0.2
 */
KaaMutexLocker *
kaa_mutex_await (KaaMutex  *self,
                 GError   **error)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!kaa_semaphore_await_for (MUTEX_SEMAPHORE (self), kaa_semaphore_current_owner (),
                                "kaa_mutex_await", error))
    return NULL;
  return (KaaMutexLocker *) kaa_mutex_ref (self);
}

/**
 * kaa_mutex_locker_free: (skip)
 * @locker: (transfer full): a guard from kaa_mutex_await()
 *
 * Unlocks the mutex and frees the guard. Called by the coroutine that
 * locked it (a `g_autoptr` does).
 *
 * Since: 0.2
 */
void
kaa_mutex_locker_free (KaaMutexLocker *locker)
{
  KaaMutex *self = (KaaMutex *) locker;

  g_return_if_fail (locker != NULL);

  kaa_semaphore_release_for (MUTEX_SEMAPHORE (self), kaa_semaphore_current_owner (), G_STRFUNC);
  kaa_mutex_unref (self);
}
