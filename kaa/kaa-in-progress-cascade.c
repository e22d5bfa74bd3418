/* kaa-in-progress-cascade.c: cancel, pause, resume and delivery, flat
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * DESIGN §6 asks for constant C stack whatever the depth of what travels
 * down a chain of awaiters or along a chain of followers. Everything here
 * is per thread and runs on the owner thread of the InProgress at hand.
 *
 * Cancel runs in two passes over an explicit stack of InProgresses (the
 * cascade stack, linked through `cascade_next`). The way down: popping a
 * node that was not walked yet runs its producer's cancel hook, and every
 * cancel that hook makes only claims the child, pushes it and makes the
 * node wait for it (`cascade_blocked`). Siblings are pushed back in the
 * order the hook cancelled them, so that they unwind in that order, each
 * with its whole subtree, as a recursion would have done. The way up: a
 * node with nothing left to wait for unwinds (its producer's unwind hook:
 * a coroutine runs its cleanups) and settles CANCELLED; the last child to
 * do so pushes its parent back. So cleanups run innermost first.
 *
 * A node whose producer cannot unwind now, because it runs on the calling
 * chain of stacks (a coroutine cancelled by its own descendant, or by a
 * callback or cleanup it is running), is held: it and everything that
 * waits for it stay CANCELLING until the producer has been left and calls
 * kaa_in_progress_unwound(). No ancestor's frame is freed under it.
 *
 * A cancel that is not made by a cancel hook (a cleanup or a callback
 * run on the way up) is a cascade of its own, nested on the same stack
 * above a base mark: it returns, as DESIGN §6 says, with everything it
 * reached unwound, unless that waits for a held one. A cancel hook that
 * cancels something another cascade is still unwinding waits for it too.
 *
 * Pause and resume hooks, and delivery after a settle, nest at most
 * NESTED_MAX deep on one stack; deeper ones are queued and run by the
 * outermost call before it returns, or by a wait that iterates the
 * context inside it (kaa_in_progress_delivery_save()). Below that depth,
 * nothing changes: callbacks run inside the settle call, in connect
 * order.
 */
#include "config.h"

#include "kaa-fiber-private.h"
#include "kaa-i18n-private.h"
#include "kaa-in-progress-impl-private.h"
#include "kaa-trace-private.h"

/* Deep enough for every ordinary nesting, shallow enough that NESTED_MAX
 * frames of deliver, callback and settle fit a few KiB. */
#define NESTED_MAX 16

/* The top of this thread's cascade stack, and the node whose cancel hook
 * runs now, if any. */
static KAA_THREAD_LOCAL KaaInProgress *cascade_top;
/* How many InProgresses the cascades of this thread walked, ever: the
 * depth of one cascade, for its Sysprof mark, is the difference. */
static KAA_THREAD_LOCAL guint          cascade_walks;
static KAA_THREAD_LOCAL KaaInProgress *cascade_walking;

static void
cascade_push (KaaInProgress *self)
{
  self->cascade_next = cascade_top;
  cascade_top = self;
}

/* @parent unwinds only after @child has. */
static void
cascade_wait_for (KaaInProgress *parent,
                  KaaInProgress *child)
{
  if (child == parent || child->cascade_parent == parent ||
      g_slist_find (child->cascade_waiters, parent) != NULL)
    return;
  if (child->cascade_parent == NULL)
    child->cascade_parent = parent;
  else
    child->cascade_waiters = g_slist_prepend (child->cascade_waiters, parent);
  parent->cascade_blocked++;
}

/* @parent's child has unwound; the last one sends it up. One that is
 * still being walked finds out when its walk ends. */
static void
cascade_child_done (KaaInProgress *parent)
{
  if (--parent->cascade_blocked == 0 && parent->cascade_walked)
    cascade_push (parent);
}

/* The end of the way up for @self: it settles CANCELLED (its callbacks
 * run now), then whatever waited for it may unwind. Drops the cascade's
 * reference. */
static void
cascade_settle (KaaInProgress *self)
{
  KaaInProgress *parent = g_steal_pointer (&self->cascade_parent);
  GSList *waiters = g_steal_pointer (&self->cascade_waiters);

  kaa_outcome_take_error (&self->outcome,
                          g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                               kaa_gettext_cancelled ()));
  kaa_in_progress_complete (self, KAA_STATE_CANCELLED);
  if (parent != NULL)
    cascade_child_done (parent);
  for (GSList *l = waiters; l != NULL; l = l->next)
    cascade_child_done (l->data);
  g_slist_free (waiters);
  kaa_in_progress_unref (self);
}

/* The way down for @self: its cancellable, then its producer's cancel
 * hook, whose own cancels land on the stack above. */
static void
cascade_walk (KaaInProgress *self)
{
  GCancellable *cancellable = g_atomic_pointer_get (&self->cancellable);
  KaaProducer *producer = in_progress_get_producer (self);
  KaaInProgress *outer = cascade_walking;

  cascade_walks++;
  if (cancellable != NULL)
    g_cancellable_cancel (cancellable);
  if (producer != NULL && producer->ops->cancel != NULL)
    {
      cascade_walking = self;
      producer->ops->cancel (producer, self);
      cascade_walking = outer;
    }
  /* Only now: a child that unwinds meanwhile must not push @self, which
   * the loop unwinds itself when nothing is left to wait for. */
  self->cascade_walked = TRUE;
}

/* Reverses the nodes pushed above @below, so that they pop in the order
 * they were pushed. */
static void
cascade_reverse_above (KaaInProgress *below)
{
  KaaInProgress *reversed = below;
  KaaInProgress *node = cascade_top;

  while (node != below)
    {
      KaaInProgress *next = node->cascade_next;

      node->cascade_next = reversed;
      reversed = node;
      node = next;
    }
  cascade_top = reversed;
}

/* The loop itself, in constant stack: runs until the stack is back at
 * @base, the mark it had when this cascade began. */
static void
cascade_run (KaaInProgress *base)
{
  while (cascade_top != base)
    {
      KaaInProgress *self = cascade_top;
      KaaInProgress *below = self->cascade_next;
      KaaProducer *producer;

      cascade_top = below;
      self->cascade_next = NULL;
      if (!self->cascade_walked)
        {
          cascade_walk (self);
          cascade_reverse_above (below);
          if (self->cascade_blocked > 0)
            continue;
        }
      producer = in_progress_get_producer (self);
      if (producer != NULL && producer->ops->unwind != NULL &&
          !producer->ops->unwind (producer, self))
        continue;   /* held: kaa_in_progress_unwound() follows */
      cascade_settle (self);
    }
}

/* Issue 19: an outermost cascade, marked with how many it cancelled. */
static G_NO_INLINE void
cascade_run_traced (KaaInProgress *self,
                    KaaInProgress *base)
{
  g_autofree char *name = g_strdup (in_progress_name (self));   /* @self may go */
  gint64 begin = kaa_trace_now ();
  guint walks = cascade_walks;

  cascade_run (base);
  kaa_trace_mark (begin, "cancel", "%s: %u InProgresses cancelled", name, cascade_walks - walks);
}

/* Owner thread, @self already claimed as CANCELLING: cancels it and what
 * it waits on. From a cancel hook this only queues it on the running
 * cascade; otherwise it returns with all of it unwound (or held). */
void
kaa_in_progress_cascade_cancel (KaaInProgress *self)
{
  KaaInProgress *base = cascade_top;

  /* Relaxed would do (the owner alone reads it); atomic because other
   * threads OR in FLAG_CANCEL_PENDING beside it. */
  g_atomic_int_or (&self->flags, FLAG_CANCELLING_NOW);
  kaa_in_progress_ref (self);   /* the cascade's, until it settles */
  cascade_push (self);
  if (cascade_walking != NULL)
    {
      cascade_wait_for (cascade_walking, self);
      return;
    }
  if (kaa_trace_is_on () && base == NULL)
    cascade_run_traced (self, base);
  else
    cascade_run (base);
}

/* Owner thread: @self is in a cascade that has not unwound it yet. A
 * cancel hook that cancels it waits for it like for its own child. */
void
kaa_in_progress_cascade_adopt (KaaInProgress *self)
{
  if (cascade_walking != NULL)
    cascade_wait_for (cascade_walking, self);
}

void
kaa_in_progress_unwound (KaaInProgress *self)
{
  KaaInProgress *base = cascade_top;

  g_return_if_fail (kaa_scheduler_is_owner (self->scheduler));

  cascade_settle (self);
  cascade_run (base);
}

/* ---- pause and resume hooks ---- */

typedef struct
{
  KaaInProgress *self;
  gboolean       resume;
} HookCall;

static KAA_THREAD_LOCAL guint   hook_depth;
static KAA_THREAD_LOCAL guint   hook_runs;   /* ever, as cascade_walks */
static KAA_THREAD_LOCAL GArray *hook_queue;

/* Owner thread: the producer of @self, NULL once released, kept from
 * being released until kaa_in_progress_return_producer(), so that one of
 * its hooks may run while another thread settles @self. That settle
 * finds the producer borrowed and leaves its release to the return: the
 * settle's exchange and the return's compare-and-exchange meet on the
 * one word, so exactly one of them releases, and a settle costs no more
 * than it did. @nested: an outer call on this thread borrowed it already
 * (a hook that pauses or resumes its own InProgress), and returns it. */
KaaProducer *
kaa_in_progress_borrow_producer (KaaInProgress *self,
                                 gboolean      *nested)
{
  gsize old;

  *nested = FALSE;
  if (g_atomic_pointer_get (&self->producer) == NULL)
    return NULL;
  old = g_atomic_pointer_or (&self->producer, PRODUCER_BORROWED);
  if (old & PRODUCER_BORROWED)
    *nested = TRUE;
  else if (old == 0)
    {
      /* Released meanwhile; no other thread writes anything but NULL. */
      g_atomic_pointer_and (&self->producer, ~PRODUCER_BORROWED);
    }
  return (KaaProducer *) (old & ~PRODUCER_BORROWED);
}

/* Owner thread, after the hook: the producer goes back, or, when a settle
 * took it meanwhile, is released here. That may drop the last reference
 * to @self. */
void
kaa_in_progress_return_producer (KaaInProgress *self,
                                 KaaProducer   *producer,
                                 gboolean       nested)
{
  KaaProducer *borrowed = (KaaProducer *) ((gsize) producer | PRODUCER_BORROWED);

  if (producer == NULL || nested)
    return;
  if (!g_atomic_pointer_compare_and_exchange (&self->producer, borrowed, producer) &&
      producer->ops->release != NULL)
    producer->ops->release (producer);
}

/* A queued hook looks at the state again: @self may have settled since. */
static void
hook_run (KaaInProgress *self,
          gboolean       resume)
{
  gboolean nested;
  KaaProducer *producer = kaa_in_progress_borrow_producer (self, &nested);

  hook_runs++;
  if (producer == NULL)
    return;
  if (!resume && producer->ops->pause != NULL && !in_progress_is_final (self))
    producer->ops->pause (producer, self);
  else if (resume && producer->ops->resume != NULL && kaa_in_progress_is_pending (self))
    producer->ops->resume (producer, self);
  kaa_in_progress_return_producer (self, producer, nested);
}

static void
hook_drain (void)
{
  hook_depth = 1;
  for (guint i = 0; i < hook_queue->len; i++)
    {
      HookCall call = g_array_index (hook_queue, HookCall, i);

      hook_run (call.self, call.resume);
      kaa_in_progress_unref (call.self);
    }
  hook_depth = 0;
  g_clear_pointer (&hook_queue, g_array_unref);
}

/* Owner thread: runs @self's producer pause (or resume) hook, which may
 * pause what it awaits in turn. Pause hooks do not switch stacks, so one
 * depth count per thread will do. */
static void
call_hook (KaaInProgress *self,
           gboolean       resume)
{
  if (hook_depth >= NESTED_MAX)
    {
      HookCall call = { kaa_in_progress_ref (self), resume };

      if (hook_queue == NULL)
        hook_queue = g_array_new (FALSE, FALSE, sizeof (HookCall));
      g_array_append_val (hook_queue, call);
      return;
    }
  hook_depth++;
  hook_run (self, resume);
  hook_depth--;
  if (hook_depth == 0 && hook_queue != NULL)
    hook_drain ();
}

/* Issue 19: an outermost pause or resume, marked with how many hooks
 * it ran. */
static G_NO_INLINE void
call_hook_traced (KaaInProgress *self,
                  gboolean       resume)
{
  g_autofree char *name = g_strdup (in_progress_name (self));
  gint64 begin = kaa_trace_now ();
  guint runs = hook_runs;

  call_hook (self, resume);
  kaa_trace_mark (begin, resume ? "resume" : "pause", "%s: %u InProgresses %s", name,
                  hook_runs - runs, resume ? "resumed" : "paused");
}

void
kaa_in_progress_call_hook (KaaInProgress *self,
                           gboolean       resume)
{
  if (kaa_trace_is_on () && hook_depth == 0)
    call_hook_traced (self, resume);
  else
    call_hook (self, resume);
}

/* ---- delivery ---- */

/* The delivery running on this thread, and on which stack: a coroutine
 * resumed from inside a callback starts an outermost one of its own, and
 * so does a loop nested in a callback (kaa_in_progress_delivery_save()). */
static KAA_THREAD_LOCAL KaaDelivery delivery;

static void
deliver_one (KaaInProgress *self)
{
  kaa_in_progress_ref (self);
  kaa_in_progress_deliver_now (self);
  /* Last: releasing the producer may drop the last reference. */
  kaa_in_progress_release_producer (self);
  kaa_in_progress_unref (self);
}

/* The queue's place is kept in `delivery`, not here: a loop nested in
 * one of these deliveries takes over what is left of it. */
static void
deliver_drain (void)
{
  while (delivery.queue != NULL && delivery.next < delivery.queue->len)
    {
      KaaInProgress *self = g_ptr_array_index (delivery.queue, delivery.next++);

      delivery.depth = 1;
      deliver_one (self);
      kaa_in_progress_unref (self);
    }
  g_clear_pointer (&delivery.queue, g_ptr_array_unref);
  delivery.next = 0;
}

/* Owner thread, @self just settled: runs its callbacks and releases its
 * producer, now or, nested too deep, before the outermost delivery on
 * this stack returns. */
void
kaa_in_progress_deliver_flat (KaaInProgress *self)
{
  KaaFiber *fiber = kaa_fiber_get_current ();
  KaaDelivery outer = delivery;

  if (outer.depth > 0 && outer.fiber == fiber)
    {
      if (outer.depth >= NESTED_MAX)
        {
          if (delivery.queue == NULL)
            delivery.queue = g_ptr_array_new ();
          g_ptr_array_add (delivery.queue, kaa_in_progress_ref (self));
          return;
        }
      delivery.depth++;
      deliver_one (self);
      /* Tolerant of a callback that suspended its coroutine meanwhile. */
      if (delivery.fiber == fiber)
        delivery.depth = outer.depth;
      return;
    }

  delivery = (KaaDelivery) { fiber, 1, NULL, 0 };
  deliver_one (self);
  if (delivery.queue != NULL)
    deliver_drain ();
  delivery = outer;
}

/* A loop about to iterate the context inside a callback, on this stack
 * (kaa_in_progress_wait()). What settles in that loop must be delivered
 * in it: queued behind the delivery that runs the callback, it would wait
 * for that delivery to return, which waits for the loop. So the loop's
 * deliveries start outermost ones of their own, each flat as usual; and
 * what the interrupted delivery had queued already runs first, for the
 * loop may well wait for it. Constant stack still: each nested loop adds
 * at most NESTED_MAX deliveries, and the waits nest a bounded number of
 * times. */
void
kaa_in_progress_delivery_save (KaaDelivery *saved)
{
  KaaFiber *fiber = kaa_fiber_get_current ();

  *saved = delivery;
  delivery = (KaaDelivery) { NULL, 0, NULL, 0 };
  if (saved->depth == 0 || saved->fiber != fiber || saved->queue == NULL)
    return;
  delivery = (KaaDelivery) { fiber, 1, g_steal_pointer (&saved->queue), saved->next };
  saved->next = 0;
  deliver_drain ();
  delivery = (KaaDelivery) { NULL, 0, NULL, 0 };
}

/* After the loop: every delivery it started has returned, with its queue
 * drained. */
void
kaa_in_progress_delivery_restore (const KaaDelivery *saved)
{
  delivery = *saved;
}
