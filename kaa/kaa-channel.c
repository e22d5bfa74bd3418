/* kaa-channel.c: a queue of items between coroutines, the loop and threads
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * DESIGN §9: a bounded multi-producer, multi-consumer queue whose send and
 * receive return InProgresses. The state (the ring of items, the waiting
 * senders and receivers, the closed flag) sits under one mutex, since any
 * thread may send or receive; nothing that calls out runs under it.
 *
 * An item goes to exactly one receiver, or stays. That rests on one rule:
 * a waiter is handed anything only once the channel has claimed its
 * InProgress (kaa_in_progress_try_claim(), under the lock). A cancel, from
 * any thread, claims it first or finds it claimed; so a cancelled receive
 * never got an item, and a cancelled send never gave one. A waiter whose
 * claim fails, or whose last reference is gone (kaa_in_progress_try_ref()
 * refuses), is only unlinked: its release hook gives a sender's item back
 * to its destroy notify. The settles are made after the lock is dropped
 * (KaaChannelDone), since they run callbacks.
 *
 * A paused waiter stays in its place but is skipped; its resume hook
 * serves it if it can. Receivers wait only while no item is there and
 * senders only while there is no room, not counting paused ones; the pump
 * restores that after anything that changes it. One rare case bends the
 * bound: a waiting sender and a waiting receiver meet only when one of
 * them is resumed, and then the sender, claimed first, puts its item in
 * the ring even beyond capacity, for the receiver to take, or the next one
 * if that receiver is being cancelled.
 */
#include "config.h"

#include "kaa-channel-private.h"
#include "kaa-error.h"

/**
 * KaaChannel:
 *
 * A queue of items between coroutines, plain main-loop code and thread
 * jobs, with many senders and many receivers on any threads.
 *
 * [method@Kaa.Channel.send] returns an InProgress that finishes once the
 * channel accepted the item: at once while there is room, else when a
 * receiver makes some (backpressure). [method@Kaa.Channel.receive] returns
 * one that finishes with the next item. Both cancel and pause like any
 * InProgress, and lose nothing: a cancelled send leaves its item out of
 * the channel and gives it to the destroy notify; a cancelled receive
 * takes none; a paused receive is skipped, keeps its place and is served
 * once resumed. Items go out in the order they came in.
 *
 * The capacity is the number of items the channel holds without a
 * receiver: 0 makes a rendezvous, where a send finishes only when a
 * receiver takes its item; %KAA_CHANNEL_UNBOUNDED never makes a sender
 * wait.
 *
 * After [method@Kaa.Channel.close], the items already in are still
 * received; then every receive fails with `KAA_ERROR_CLOSED`, as does
 * every send at once. Thread jobs use the blocking forms,
 * [method@Kaa.Channel.send_blocking] and
 * [method@Kaa.Channel.receive_blocking]; a coroutine loops over a channel
 * with [method@Kaa.Channel.await_next].
 *
 * Since: 0.2
 */

G_DEFINE_BOXED_TYPE (KaaChannel, kaa_channel, kaa_channel_ref, kaa_channel_unref)

/* ------------------------------------------------------------ the API */

/**
 * kaa_channel_new_full: (skip)
 * @capacity: how many items it holds without a receiver: 0 for a
 *   rendezvous, %KAA_CHANNEL_UNBOUNDED for no bound
 * @item_destroy: (nullable): frees an item the channel drops: one left in
 *   it when it is finalized, or one whose send fails or is cancelled
 *
 * Creates a channel whose items are owned pointers. A receive's InProgress
 * owns the item it finishes with and frees it with @item_destroy when it
 * is finalized: read it with [method@Kaa.InProgress.get_pointer] and keep
 * your own reference, or take it with [method@Kaa.Channel.await_next],
 * [method@Kaa.Channel.try_receive] or
 * [method@Kaa.Channel.receive_blocking], which hand it over. %NULL items
 * are allowed and never passed to @item_destroy.
 *
 * Returns: (transfer full): a new channel
 * Since: 0.2
 */
KaaChannel *
kaa_channel_new_full (guint          capacity,
                      GDestroyNotify item_destroy)
{
  KaaChannel *self = g_new0 (KaaChannel, 1);

  kaa_ref_count_init (&self->ref_count);
  kaa_ref_count_init (&self->memory_count);   /* the users' references */
  self->capacity = capacity;
  self->item_destroy = item_destroy;
  g_mutex_init (&self->lock);
  return self;
}

/**
 * kaa_channel_new: (skip)
 * @capacity: how many items it holds without a receiver: 0 for a
 *   rendezvous, %KAA_CHANNEL_UNBOUNDED for no bound
 *
 * Creates a channel of pointers it does not own, as
 * [ctor@Kaa.Channel.new_full] with no destroy notify does.
 *
 * Returns: (transfer full): a new channel
 * Since: 0.2
 */
KaaChannel *
kaa_channel_new (guint capacity)
{
  return kaa_channel_new_full (capacity, NULL);
}

/**
 * kaa_channel_new_for_values:
 * @capacity: how many items it holds without a receiver: 0 for a
 *   rendezvous, %KAA_CHANNEL_UNBOUNDED for no bound
 *
 * Creates a channel of #GValues, for [method@Kaa.Channel.send_value] and
 * [method@Kaa.Channel.receive_value]: the form language bindings use.
 * From C, its items are `GValue *` that the channel frees.
 *
 * Returns: (transfer full): a new channel
 * Since: 0.2
 */
KaaChannel *
kaa_channel_new_for_values (guint capacity)
{
  KaaChannel *self = kaa_channel_new_full (capacity, kaa_channel_value_free);

  self->for_values = TRUE;
  return self;
}

/**
 * kaa_channel_ref:
 * @self: a [struct@Kaa.Channel]
 *
 * Takes a reference. Any thread.
 *
 * Returns: (transfer full): @self
 * Since: 0.2
 */
KaaChannel *
kaa_channel_ref (KaaChannel *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  kaa_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * kaa_channel_unref:
 * @self: (transfer full): a [struct@Kaa.Channel]
 *
 * Drops a reference. Dropping the last one closes the channel, since
 * nobody can send to it or receive from it any more: the sends and
 * receives still waiting fail with `KAA_ERROR_CLOSED` (a paused receive
 * still gets the items left), and a stream's source stops. The items go
 * to the destroy notify once nothing waits. Any thread.
 *
 * Since: 0.2
 */
void
kaa_channel_unref (KaaChannel *self)
{
  g_return_if_fail (self != NULL);

  if (!kaa_ref_count_dec (&self->ref_count))
    return;
  kaa_channel_close (self);
  kaa_channel_release (self);
}

/* The channel's memory, apart from the references users hold: each
 * waiting send or receive and each stream source holds it, and so do
 * the users' references together, so that it outlives the close that
 * the last of those makes. Any thread. */
KaaChannel *
kaa_channel_hold (KaaChannel *self)
{
  kaa_ref_count_inc (&self->memory_count);
  return self;
}

void
kaa_channel_release (KaaChannel *self)
{
  if (!kaa_ref_count_dec (&self->memory_count))
    return;
  g_assert (self->receivers.head == NULL && self->senders.head == NULL);
  while (self->length > 0)
    kaa_channel_destroy_item (self, kaa_channel_pop_unlocked (self));
  g_assert (self->close_notify == NULL);
  g_free (self->ring);
  g_clear_error (&self->close_error);
  g_mutex_clear (&self->lock);
  g_free (self);
}

/**
 * kaa_channel_get_capacity:
 * @self: a [struct@Kaa.Channel]
 *
 * Tells how many items @self holds at most. Any thread.
 *
 * Returns: the capacity @self was made with
 * Since: 0.2
 */
guint
kaa_channel_get_capacity (KaaChannel *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->capacity;
}

/**
 * kaa_channel_get_length:
 * @self: a [struct@Kaa.Channel]
 *
 * How many items wait in @self for a receiver, not counting those of
 * senders still waiting for room. Another thread may change it at once.
 *
 * Returns: the number of items in @self
 * Since: 0.2
 */
guint
kaa_channel_get_length (KaaChannel *self)
{
  guint length;

  g_return_val_if_fail (self != NULL, 0);

  g_mutex_lock (&self->lock);
  length = self->length;
  g_mutex_unlock (&self->lock);
  return length;
}

/**
 * kaa_channel_is_closed:
 * @self: a [struct@Kaa.Channel]
 *
 * Tells whether @self was closed. Any thread.
 *
 * Returns: whether [method@Kaa.Channel.close] was called
 * Since: 0.2
 */
gboolean
kaa_channel_is_closed (KaaChannel *self)
{
  gboolean closed;

  g_return_val_if_fail (self != NULL, FALSE);

  g_mutex_lock (&self->lock);
  closed = self->closed;
  g_mutex_unlock (&self->lock);
  return closed;
}

/**
 * kaa_channel_close:
 * @self: a [struct@Kaa.Channel]
 *
 * Closes @self. The items in it are still received, and after the last
 * one every receive fails with `KAA_ERROR_CLOSED`; every send fails with
 * it at once, and so do the sends waiting for room, whose items go to the
 * destroy notify. Closing twice does nothing. Any thread.
 *
 * Since: 0.2
 */
void
kaa_channel_close (KaaChannel *self)
{
  g_return_if_fail (self != NULL);

  kaa_channel_close_with_error (self, NULL);
}

/**
 * kaa_channel_close_with_error:
 * @self: a [struct@Kaa.Channel]
 * @error: (nullable): why it ends, copied; %NULL for a plain close
 *
 * Closes @self as [method@Kaa.Channel.close] does, except that the
 * receives after the last item, and the sends, fail with @error instead
 * of `KAA_ERROR_CLOSED`, so that a loop with
 * [method@Kaa.Channel.await_next] ends with @error set: a producer tells
 * its consumers why the items stop. Only the first close counts. Any
 * thread.
 *
 * Since: 0.2
 */
void
kaa_channel_close_with_error (KaaChannel   *self,
                              const GError *error)
{
  KaaChannelDone done = KAA_CHANNEL_DONE_INIT (done);
  KaaChannelNotify notify = { NULL, NULL };

  g_return_if_fail (self != NULL);

  g_mutex_lock (&self->lock);
  kaa_channel_close_unlocked (self, error != NULL ? g_error_copy (error) : NULL, &done, &notify);
  g_mutex_unlock (&self->lock);
  kaa_channel_complete (self, &done);
  if (notify.func != NULL)
    notify.func (notify.data);
}

/* The first close counts; the source's notify, if any, is the caller's
 * to run once it dropped the lock. Takes @error. */
void
kaa_channel_close_unlocked (KaaChannel       *self,
                            GError           *error,
                            KaaChannelDone   *done,
                            KaaChannelNotify *notify)
{
  if (!self->closed)
    {
      self->close_error = error;
      self->closed = TRUE;
      notify->func = g_steal_pointer (&self->close_notify);
      notify->data = g_steal_pointer (&self->close_data);
    }
  else if (error != NULL)
    g_error_free (error);
  kaa_channel_pump_unlocked (self, done);
}

/* For the source of a stream: @func runs once, with @data, on the thread
 * that closes the channel, after the close; or when it is finalized
 * unclosed. Set before anyone else sees the channel. */
void
kaa_channel_set_close_notify (KaaChannel     *self,
                              GDestroyNotify  func,
                              gpointer        data)
{
  self->close_notify = func;
  self->close_data = data;
}

/**
 * kaa_channel_send: (skip)
 * @self: a [struct@Kaa.Channel]
 * @item: (nullable) (transfer full): the item
 *
 * Sends @item. The InProgress finishes (with %TRUE) once @self accepted
 * it: at once when a receiver waits or there is room, which is the fast
 * path (the InProgress is returned finished), else when a receiver makes
 * room. On a rendezvous channel, that is when a receiver takes @item.
 *
 * If @self is closed, or closed while the send waits, the InProgress
 * fails with `KAA_ERROR_CLOSED`. If it is cancelled, or dropped, while it
 * waits, @item stays out of the channel. In each of those cases @item
 * goes to the channel's destroy notify. A paused send is not accepted
 * until resumed. Any thread; the InProgress belongs to the calling
 * thread's context, as [ctor@Kaa.InProgress.new]'s does.
 *
 * Returns: (transfer full): the send
 * Since: 0.2
 */
KaaInProgress *
kaa_channel_send (KaaChannel *self,
                  gpointer    item)
{
  KaaInProgress *in_progress;

  kaa_return_failed_if_fail (self != NULL);

  if (kaa_channel_send_internal (self, item, 0, &in_progress))
    {
      in_progress = kaa_in_progress_new ();
      kaa_in_progress_finish_boolean (in_progress, TRUE);
    }
  return in_progress;
}

/* The common part of every send made in a context: TRUE if @self took
 * @item at once, else its InProgress, waiting or failed, in @waiting. */
gboolean
kaa_channel_send_internal (KaaChannel     *self,
                           gpointer        item,
                           guint           flags,
                           KaaInProgress **waiting)
{
  KaaChannelDone done = KAA_CHANNEL_DONE_INIT (done);
  KaaChannelWaiter *waiter;

  g_mutex_lock (&self->lock);
  if (G_UNLIKELY (self->closed))
    {
      g_mutex_unlock (&self->lock);
      kaa_channel_destroy_item (self, item);
      *waiting = kaa_channel_new_closed (self);
      return FALSE;
    }
  if (kaa_channel_offer_unlocked (self, item, &done))
    {
      g_mutex_unlock (&self->lock);
      kaa_channel_complete (self, &done);
      return TRUE;
    }
  *waiting = kaa_channel_waiter_new_unlocked (self, TRUE, flags, &waiter);
  waiter->item = item;
  waiter->has_item = TRUE;
  g_mutex_unlock (&self->lock);
  kaa_channel_complete (self, &done);
  return FALSE;
}

/* The common part of every receive made in a context: TRUE with @item
 * set if one was there, else its InProgress, waiting or failed, in
 * @waiting. */
gboolean
kaa_channel_receive_internal (KaaChannel     *self,
                              guint           flags,
                              gpointer       *item,
                              KaaInProgress **waiting)
{
  KaaChannelDone done = KAA_CHANNEL_DONE_INIT (done);
  KaaChannelWaiter *waiter;
  gboolean taken;

  g_mutex_lock (&self->lock);
  taken = kaa_channel_take_unlocked (self, item, &done);
  if (!taken && self->closed)
    *waiting = NULL;
  else if (!taken)
    {
      *waiting = kaa_channel_waiter_new_unlocked (self, FALSE, flags, &waiter);
      waiter->as_value = (flags & KAA_CHANNEL_AS_VALUE) != 0;
    }
  g_mutex_unlock (&self->lock);
  kaa_channel_complete (self, &done);
  if (!taken && *waiting == NULL)
    *waiting = kaa_channel_new_closed (self);
  return taken;
}

KaaInProgress *
kaa_channel_receive_as (KaaChannel *self,
                        gboolean    as_value)
{
  KaaInProgress *in_progress;
  gpointer item;

  if (!kaa_channel_receive_internal (self, as_value ? KAA_CHANNEL_AS_VALUE : 0, &item,
                                     &in_progress))
    return in_progress;
  in_progress = kaa_in_progress_new ();
  if (!kaa_in_progress_try_claim (in_progress))
    g_assert_not_reached ();
  if (as_value)
    kaa_in_progress_finish_claimed_value (in_progress, item);
  else
    kaa_in_progress_finish_claimed_pointer (in_progress, item, self->item_destroy);
  return in_progress;
}

/**
 * kaa_channel_receive: (skip)
 * @self: a [struct@Kaa.Channel]
 *
 * Receives the next item. The InProgress finishes with it as a pointer
 * result, owned by the InProgress and freed with the channel's destroy
 * notify when the InProgress goes (see [ctor@Kaa.Channel.new_full]): at
 * once, finished, when an item is there, else when one comes. Once @self
 * is closed and empty it fails with `KAA_ERROR_CLOSED`.
 *
 * A cancelled receive takes no item; a paused one is skipped, keeps its
 * place among the waiting receivers and is served once resumed. Any
 * thread; the InProgress belongs to the calling thread's context.
 *
 * Returns: (transfer full): the receive
 * Since: 0.2
 */
KaaInProgress *
kaa_channel_receive (KaaChannel *self)
{
  kaa_return_failed_if_fail (self != NULL);

  return kaa_channel_receive_as (self, FALSE);
}
