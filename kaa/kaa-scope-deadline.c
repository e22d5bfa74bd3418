/* kaa-scope-deadline.c: what ends a task scope from outside
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A deadline (a timer in the owner's heap, frozen while the scope is
 * paused) and the dispose of a bound object (a weak reference) both
 * close the scope as a cancel does; the deadline makes it fail with
 * G_IO_ERROR_TIMED_OUT. The timer and the binding each hold an internal
 * reference, which the owner thread takes back when the scope settles.
 */
#include "config.h"

#include "kaa-scope-private.h"

void
kaa_scope_timer_fire (KaaTimer *timer,
                      gboolean  discard)
{
  KaaScope *scope = G_STRUCT_MEMBER_P (timer, -G_STRUCT_OFFSET (KaaScope, timer));

  if (!discard && kaa_in_progress_is_pending (scope->self))
    {
      if (kaa_scope_close (scope, TRUE))
        kaa_scope_settle_if_done (scope);
    }
  kaa_scope_unref_internal (scope);   /* the timer's */
}

/* Weak notify: runs when the object is disposed. */
static void
scope_object_disposed (gpointer  data,
                       GObject  *where_the_object_was)
{
  KaaScope *scope = data;
  gboolean ours;

  g_mutex_lock (&scope->lock);
  ours = scope->bound == where_the_object_was;
  if (ours)
    scope->bound = NULL;
  g_mutex_unlock (&scope->lock);
  if (ours)
    {
      kaa_in_progress_cancel (scope->self);
      kaa_scope_unref_internal (scope);   /* the binding's */
    }
}

void
kaa_scope_unbind (KaaScope *scope)
{
  GObject *object;

  g_mutex_lock (&scope->lock);
  object = g_steal_pointer (&scope->bound);
  g_mutex_unlock (&scope->lock);
  if (object == NULL)
    return;
  g_object_weak_unref (object, scope_object_disposed, scope);
  kaa_scope_unref_internal (scope);   /* the binding's */
}

/* Owner thread (or the sweep of its dead context): what the release
 * could not do on the thread that settled the scope. */
void
kaa_scope_unbind_run (KaaRunnable *runnable,
                      gboolean     discard)
{
  KaaScope *scope = G_STRUCT_MEMBER_P (runnable, -G_STRUCT_OFFSET (KaaScope, unbind));

  kaa_scope_unbind (scope);
  if (!discard && kaa_scheduler_remove_timer (scope->scheduler, &scope->timer))
    kaa_scope_unref_internal (scope);   /* the timer's */
  kaa_scope_unref_internal (scope);   /* the runnable's */
}

/**
 * kaa_scope_set_timeout:
 * @self: a [struct@Kaa.Scope]
 * @msec: milliseconds from now
 *
 * Gives @self a deadline, replacing any earlier one: when it passes, the
 * scope is cancelled, so every await inside it (in every member, at any
 * depth) returns `G_IO_ERROR_CANCELLED` at once, and the scope fails with
 * `G_IO_ERROR_TIMED_OUT` once they have unwound. No [func@Kaa.timeout]
 * around each call is needed. Time spent paused does not count. Owner
 * thread only.
 *
 * Since: 0.2
 */
void
kaa_scope_set_timeout (KaaScope *self,
                       guint     msec)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (kaa_scheduler_is_owner (self->scheduler));

  if (!kaa_in_progress_is_pending (self->self))
    return;
  if (!kaa_scheduler_remove_timer (self->scheduler, &self->timer))
    kaa_scope_ref_internal (self);   /* the timer's */
  self->timeout = msec;
  kaa_scheduler_add_timer (self->scheduler, &self->timer,
                           kaa_scheduler_get_time (self->scheduler) + (gint64) msec * 1000);
  if (kaa_in_progress_is_paused (self->self))
    kaa_scheduler_freeze_timer (self->scheduler, &self->timer);
}

/**
 * kaa_scope_bind:
 * @self: a [struct@Kaa.Scope]
 * @object: (type GObject.Object): the object whose dispose cancels @self,
 *   such as the window or widget the work is for
 *
 * Cancels @self when @object is disposed: closing a window stops what
 * was started for it. @self does not keep @object alive. A scope binds
 * one object; @object must be disposed on the scope's owner thread, as
 * GTK widgets are.
 *
 * Since: 0.2
 */
void
kaa_scope_bind (KaaScope *self,
                gpointer  object)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (G_IS_OBJECT (object));

  g_mutex_lock (&self->lock);
  if (self->bound != NULL || self->settled)
    {
      g_mutex_unlock (&self->lock);
      g_critical ("kaa_scope_bind: scope %p is %s", self,
                  self->settled ? "done" : "already bound to an object");
      return;
    }
  self->bound = object;
  kaa_scope_ref_internal (self);   /* the binding's */
  g_mutex_unlock (&self->lock);
  g_object_weak_ref (object, scope_object_disposed, self);
}

