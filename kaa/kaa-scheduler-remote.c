/* kaa-scheduler-remote.c: work handed to a context from other threads
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A thread that does not run a context hands it runnables through its
 * inbox, a lock-free stack the owner takes whole in its next dispatch
 * (DESIGN §4), and wakes the owner if it may be asleep in poll(): the
 * first push onto an empty inbox does, unless the owner polls for it
 * (kaa_scheduler_expect_remote()). Sources of a context are destroyed
 * from other threads here too, under the same guard against the
 * context's death as the wake-up.
 */
#include "config.h"

#include "kaa-scheduler-impl-private.h"

/* Wakes the context through the source's ready time rather than
 * g_main_context_wakeup(): that one rejects a context whose last
 * reference is being dropped, while a source being detached just ignores
 * it. Dispatch clears the ready time again. */
void
kaa_scheduler_wakeup (KaaScheduler *self)
{
  if (g_atomic_int_get (&self->woken) || g_atomic_int_get (&self->dead))
    return;
  g_mutex_lock (&self->wake_lock);
  if (!g_atomic_int_get (&self->dead) && !g_atomic_int_get (&self->woken))
    {
      g_atomic_int_set (&self->woken, TRUE);
      g_source_set_ready_time (self->source, 0);
    }
  g_mutex_unlock (&self->wake_lock);
}

/* Any thread: destroys @source, attached to this scheduler's context,
 * and drops the caller's reference. g_source_destroy() from another
 * thread may race with the context's finalization, which it cannot see:
 * it would signal the context's wakeup fd as the dying context closes it.
 * Under wake_lock, a context not yet dead stays whole until this is
 * done (its finalization marks it dead under the same lock, before it
 * frees anything); a dead one has destroyed its sources itself. */
void
kaa_scheduler_destroy_source (KaaScheduler *self,
                              GSource      *source)
{
  if (kaa_scheduler_is_owner (self))
    g_source_destroy (source);
  else
    {
      g_mutex_lock (&self->wake_lock);
      if (!g_atomic_int_get (&self->dead))
        g_source_destroy (source);
      g_mutex_unlock (&self->wake_lock);
    }
  g_source_unref (source);
}

/* The caller holds a reference on @self, which the owner may drop as soon
 * as the CAS publishes @runnable. */
static void
scheduler_push_remote_held (KaaScheduler *self,
                            KaaRunnable  *runnable)
{
  KaaRunnable *head;

  /* Treiber push; the consumer takes the whole stack at once, so there is
   * no ABA hazard. The fence inside the CAS publishes the runnable's
   * contents before the owner can see it. */
  do
    {
      head = g_atomic_pointer_get (&self->inbox);
      runnable->next = head;
    }
  while (!g_atomic_pointer_compare_and_exchange (&self->inbox, head, runnable));

  /* A push racing with the context's destruction: the sweep takes the
   * inbox until it is over, and once more after setting `swept`; after
   * that, whoever pushes discards, so nothing is stranded. */
  if (G_UNLIKELY (g_atomic_int_get (&self->swept)))
    {
      kaa_scheduler_discard_list (g_atomic_pointer_exchange (&self->inbox, NULL));
      return;
    }
  if (head == NULL && !g_atomic_int_get (&self->polling))
    kaa_scheduler_wakeup (self);
}

void
kaa_scheduler_push_remote (KaaScheduler *self,
                           KaaRunnable  *runnable)
{
  /* Once the CAS publishes @runnable, the owner may run it and drop what
   * kept this scheduler alive; the rest of the push needs it still. */
  kaa_scheduler_ref (self);
  scheduler_push_remote_held (self, runnable);
  kaa_scheduler_unref (self);
}

/* As kaa_scheduler_push_remote(), for a thread that pushes many runnables,
 * mostly to one scheduler: *@held keeps a reference on the last scheduler
 * pushed to, so that consecutive pushes take none on the reference count
 * the owner thread is using. Release it with g_clear_pointer (@held,
 * kaa_scheduler_unref) before the thread waits or leaves. */
void
kaa_scheduler_push_remote_cached (KaaScheduler  *self,
                                  KaaRunnable   *runnable,
                                  KaaScheduler **held)
{
  if (*held != self)
    {
      if (*held != NULL)
        kaa_scheduler_unref (*held);
      *held = kaa_scheduler_ref (self);
    }
  scheduler_push_remote_held (self, runnable);
}
