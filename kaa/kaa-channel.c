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
#include "kaa-i18n-private.h"
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

/* ------------------------------------------------------------ the ring */

static void
ring_grow (KaaChannel *self)
{
  guint size = self->ring_size == 0 ? 8 : self->ring_size * 2;
  gpointer *ring = g_new (gpointer, size);

  for (guint i = 0; i < self->length; i++)
    ring[i] = self->ring[(self->head + i) & (self->ring_size - 1)];
  g_free (self->ring);
  self->ring = ring;
  self->ring_size = size;
  self->head = 0;
}

static void
ring_push (KaaChannel *self,
           gpointer    item)
{
  if (self->length == self->ring_size)
    ring_grow (self);
  self->ring[(self->head + self->length) & (self->ring_size - 1)] = item;
  self->length++;
}

static void
ring_push_front (KaaChannel *self,
                 gpointer    item)
{
  if (self->length == self->ring_size)
    ring_grow (self);
  self->head = (self->head - 1) & (self->ring_size - 1);
  self->ring[self->head] = item;
  self->length++;
}

static gpointer
ring_pop (KaaChannel *self)
{
  gpointer item = self->ring[self->head];

  self->head = (self->head + 1) & (self->ring_size - 1);
  self->length--;
  return item;
}

/* ------------------------------------------------------------ waiters */

static KaaChannelWaiters *
waiters_of (KaaChannel       *self,
            KaaChannelWaiter *waiter)
{
  return waiter->is_sender ? &self->senders : &self->receivers;
}

void
kaa_channel_link_unlocked (KaaChannel       *self,
                           KaaChannelWaiter *waiter)
{
  KaaChannelWaiters *list = waiters_of (self, waiter);

  waiter->next = NULL;
  waiter->prev = list->tail;
  if (list->tail != NULL)
    list->tail->next = waiter;
  else
    list->head = waiter;
  list->tail = waiter;
  waiter->linked = TRUE;
}

void
kaa_channel_unlink_unlocked (KaaChannel       *self,
                             KaaChannelWaiter *waiter)
{
  KaaChannelWaiters *list = waiters_of (self, waiter);

  if (!waiter->linked)
    return;
  if (waiter->prev != NULL)
    waiter->prev->next = waiter->next;
  else
    list->head = waiter->next;
  if (waiter->next != NULL)
    waiter->next->prev = waiter->prev;
  else
    list->tail = waiter->prev;
  waiter->prev = waiter->next = NULL;
  waiter->linked = FALSE;
}

static KaaChannelWaiter *
waiters_first_active (KaaChannelWaiters *list)
{
  KaaChannelWaiter *waiter = list->head;

  while (waiter != NULL && waiter->paused)
    waiter = waiter->next;
  return waiter;
}

/* Unlinks @waiter and claims it. A blocked thread's always gives itself
 * up; an InProgress's may be cancelled or finalized meanwhile, and is then
 * left to its release hook (the done list only drops the reference taken
 * here, after the lock). */
static gboolean
waiter_claim_unlocked (KaaChannel       *self,
                       KaaChannelWaiter *waiter,
                       KaaChannelDone   *done)
{
  KaaInProgress *in_progress;

  kaa_channel_unlink_unlocked (self, waiter);
  if (waiter->in_progress == NULL)
    return TRUE;
  in_progress = kaa_in_progress_try_ref (waiter->in_progress);
  if (in_progress == NULL)
    return FALSE;
  waiter->outcome = OUTCOME_NONE;
  waiter->done_next = NULL;
  *done->tail = waiter;
  done->tail = &waiter->done_next;
  return kaa_in_progress_try_claim (in_progress);
}

/* A claimed waiter's outcome; a blocked thread learns it at once. */
static void
waiter_settle_unlocked (KaaChannelWaiter *waiter,
                        WaiterOutcome     outcome)
{
  waiter->outcome = outcome;
  if (waiter->in_progress == NULL)
    {
      waiter->done = TRUE;
      g_cond_signal (waiter->cond);
    }
}

/* ------------------------------------------------------------ the pump */

static gboolean
pump_senders_unlocked (KaaChannel     *self,
                       KaaChannelDone *done)
{
  KaaChannelWaiter *sender;
  gboolean moved = FALSE;

  while (self->length < self->capacity &&
         (sender = waiters_first_active (&self->senders)) != NULL)
    {
      if (!waiter_claim_unlocked (self, sender, done))
        continue;
      ring_push (self, sender->item);
      sender->has_item = FALSE;
      waiter_settle_unlocked (sender, OUTCOME_SENT);
      moved = TRUE;
    }
  return moved;
}

static gboolean
pump_receivers_unlocked (KaaChannel     *self,
                         KaaChannelDone *done)
{
  KaaChannelWaiter *receiver;
  gboolean moved = FALSE;

  while (self->length > 0 &&
         (receiver = waiters_first_active (&self->receivers)) != NULL)
    {
      if (!waiter_claim_unlocked (self, receiver, done))
        continue;
      receiver->item = ring_pop (self);
      waiter_settle_unlocked (receiver, OUTCOME_ITEM);
      moved = TRUE;
    }
  return moved;
}

/* A sender and a receiver both waiting, once one of them was resumed:
 * the sender's item goes into the ring, beyond capacity if need be, and
 * the receivers' pass takes it from there. */
static gboolean
pump_meet_unlocked (KaaChannel     *self,
                    KaaChannelDone *done)
{
  KaaChannelWaiter *sender;

  if (self->length > 0 || waiters_first_active (&self->receivers) == NULL)
    return FALSE;
  while ((sender = waiters_first_active (&self->senders)) != NULL)
    {
      if (!waiter_claim_unlocked (self, sender, done))
        continue;
      ring_push (self, sender->item);
      sender->has_item = FALSE;
      waiter_settle_unlocked (sender, OUTCOME_SENT);
      return TRUE;
    }
  return FALSE;
}

/* Closed: no sender waits any more, paused or not, and once the ring is
 * empty no receiver either. */
static void
pump_closed_unlocked (KaaChannel     *self,
                      KaaChannelDone *done)
{
  while (self->senders.head != NULL)
    {
      KaaChannelWaiter *sender = self->senders.head;

      if (waiter_claim_unlocked (self, sender, done))
        {
          sender->has_item = FALSE;
          waiter_settle_unlocked (sender, OUTCOME_CLOSED);
        }
    }
  while (self->length == 0 && self->receivers.head != NULL)
    {
      KaaChannelWaiter *receiver = self->receivers.head;

      if (waiter_claim_unlocked (self, receiver, done))
        waiter_settle_unlocked (receiver, OUTCOME_CLOSED);
    }
}

static void
channel_pump_unlocked (KaaChannel     *self,
                       KaaChannelDone *done)
{
  gboolean moved;

  do
    {
      moved = pump_senders_unlocked (self, done);
      moved |= pump_receivers_unlocked (self, done);
      if (!moved)
        moved = pump_meet_unlocked (self, done);
    }
  while (moved);
  if (self->closed)
    pump_closed_unlocked (self, done);
}

/* @item to the first receiver that can be claimed, or into the room. */
gboolean
kaa_channel_offer_unlocked (KaaChannel     *self,
                            gpointer        item,
                            KaaChannelDone *done)
{
  KaaChannelWaiter *receiver;

  while ((receiver = waiters_first_active (&self->receivers)) != NULL)
    {
      if (!waiter_claim_unlocked (self, receiver, done))
        continue;
      receiver->item = item;
      waiter_settle_unlocked (receiver, OUTCOME_ITEM);
      return TRUE;
    }
  if (self->length >= self->capacity)
    return FALSE;
  ring_push (self, item);
  return TRUE;
}

/* An item that was taken but reached no one goes back first in line,
 * beyond capacity if need be. */
void
kaa_channel_push_front_unlocked (KaaChannel     *self,
                                 gpointer        item,
                                 KaaChannelDone *done)
{
  ring_push_front (self, item);
  channel_pump_unlocked (self, done);
}

/* The next item: from the ring (whose room a waiting sender then fills),
 * or straight from a waiting sender. */
gboolean
kaa_channel_take_unlocked (KaaChannel     *self,
                           gpointer       *item,
                           KaaChannelDone *done)
{
  KaaChannelWaiter *sender;

  if (self->length > 0)
    {
      *item = ring_pop (self);
      pump_senders_unlocked (self, done);
      return TRUE;
    }
  while ((sender = waiters_first_active (&self->senders)) != NULL)
    {
      if (!waiter_claim_unlocked (self, sender, done))
        continue;
      *item = sender->item;
      sender->has_item = FALSE;
      waiter_settle_unlocked (sender, OUTCOME_SENT);
      return TRUE;
    }
  return FALSE;
}

/* After the lock: settles what was claimed under it, in claim order. */
void
kaa_channel_complete (KaaChannel     *self,
                      KaaChannelDone *done)
{
  KaaChannelWaiter *waiter = done->head;

  while (waiter != NULL)
    {
      KaaChannelWaiter *next = waiter->done_next;
      KaaInProgress *in_progress = waiter->in_progress;

      /* Only then: a failed claim's release may run on another thread. */
      if (waiter->outcome != OUTCOME_NONE)
        waiter->completed = TRUE;
      switch (waiter->outcome)
        {
        case OUTCOME_ITEM:
          if (waiter->as_value)
            kaa_in_progress_finish_claimed_value (in_progress, waiter->item);
          else
            kaa_in_progress_finish_claimed_pointer (in_progress, waiter->item,
                                                    self->item_destroy);
          break;
        case OUTCOME_SENT:
          kaa_in_progress_finish_claimed_boolean (in_progress, TRUE);
          break;
        case OUTCOME_CLOSED:
          if (waiter->is_sender)
            kaa_channel_destroy_item (self, waiter->item);
          kaa_in_progress_fail_claimed (in_progress, kaa_channel_dup_close_error (self));
          break;
        default:
          break;
        }
      /* Last: it may be the waiter's last reference. */
      kaa_in_progress_unref (in_progress);
      waiter = next;
    }
}

/* -------------------------------------------------- the waiter's hooks */

static void
waiter_pause (KaaProducer   *producer,
              KaaInProgress *in_progress)
{
  KaaChannelWaiter *waiter = (KaaChannelWaiter *) producer;

  g_mutex_lock (&waiter->channel->lock);
  waiter->paused = TRUE;
  g_mutex_unlock (&waiter->channel->lock);
}

static void
waiter_resume (KaaProducer   *producer,
               KaaInProgress *in_progress)
{
  KaaChannelWaiter *waiter = (KaaChannelWaiter *) producer;
  KaaChannel *self = waiter->channel;
  KaaChannelDone done = KAA_CHANNEL_DONE_INIT (done);

  g_mutex_lock (&self->lock);
  waiter->paused = FALSE;
  channel_pump_unlocked (self, &done);
  g_mutex_unlock (&self->lock);
  kaa_channel_complete (self, &done);
}

/* Any thread, once: after the channel settled the waiter (no lock then:
 * it was unlinked and emptied under the lock before), or after a cancel,
 * or when its InProgress is dropped while it waits. */
static void
waiter_release (KaaProducer *producer)
{
  KaaChannelWaiter *waiter = (KaaChannelWaiter *) producer;
  KaaChannel *self = g_steal_pointer (&waiter->channel);
  gboolean has_item = FALSE;

  kaa_death_watch_release (g_steal_pointer (&waiter->death));
  if (!waiter->completed)
    {
      g_mutex_lock (&self->lock);
      kaa_channel_unlink_unlocked (self, waiter);
      has_item = waiter->has_item;
      waiter->has_item = FALSE;
      g_mutex_unlock (&self->lock);
    }
  if (has_item)
    kaa_channel_destroy_item (self, waiter->item);
  kaa_channel_unref (self);
}

static const KaaProducerOps send_ops = {
  .pause = waiter_pause,
  .resume = waiter_resume,
  .release = waiter_release,
  .kind = "channel send",
};

static const KaaProducerOps receive_ops = {
  .pause = waiter_pause,
  .resume = waiter_resume,
  .release = waiter_release,
  .kind = "channel receive",
};

/* Under the lock: a pending InProgress waiting in the channel. */
static KaaInProgress *
waiter_new_unlocked (KaaChannel        *self,
                     gboolean           is_sender,
                     guint              flags,
                     KaaChannelWaiter **out)
{
  KaaChannelWaiter *waiter;
  KaaInProgress *in_progress;

  in_progress = kaa_in_progress_new_with_producer (sizeof *waiter, FALSE, (gpointer *) &waiter);
  waiter->producer.ops = is_sender ? &send_ops : &receive_ops;
  waiter->channel = kaa_channel_ref (self);
  waiter->in_progress = in_progress;
  waiter->is_sender = is_sender;
  kaa_in_progress_set_producer (in_progress, &waiter->producer);
  /* A coroutine's own wait needs no watch: the context's sweep cancels
   * the coroutine, and its cancel reaches what it alone awaits. */
  if (!(flags & KAA_CHANNEL_AWAITED))
    waiter->death = kaa_death_watch_new (in_progress);
  kaa_channel_link_unlocked (self, waiter);
  *out = waiter;
  return in_progress;
}

/* -------------------------------------------------------- helpers */

void
kaa_channel_destroy_item (KaaChannel *self,
                          gpointer    item)
{
  if (self->item_destroy != NULL && item != NULL)
    self->item_destroy (item);
}

/* Once closed, under the lock or after it: @close_error no longer
 * changes. */
GError *
kaa_channel_dup_close_error (KaaChannel *self)
{
  if (self->close_error != NULL)
    return g_error_copy (self->close_error);
  return g_error_new_literal (KAA_ERROR, KAA_ERROR_CLOSED, _("The channel is closed"));
}

static KaaInProgress *
new_closed (KaaChannel *self)
{
  KaaInProgress *in_progress = kaa_in_progress_new ();

  kaa_in_progress_fail (in_progress, kaa_channel_dup_close_error (self));
  return in_progress;
}

void
kaa_channel_value_free (gpointer value)
{
  g_value_unset (value);
  g_free (value);
}

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
 * Drops a reference. The last one frees the items still in the channel
 * with its destroy notify. Every waiting send and receive holds a
 * reference, so a channel goes only once nothing waits in it. Any thread.
 *
 * Since: 0.2
 */
void
kaa_channel_unref (KaaChannel *self)
{
  g_return_if_fail (self != NULL);

  if (!kaa_ref_count_dec (&self->ref_count))
    return;
  g_assert (self->receivers.head == NULL && self->senders.head == NULL);
  while (self->length > 0)
    kaa_channel_destroy_item (self, ring_pop (self));
  g_free (self->ring);
  g_clear_error (&self->close_error);
  g_mutex_clear (&self->lock);
  g_free (self);
}

/**
 * kaa_channel_get_capacity:
 * @self: a [struct@Kaa.Channel]
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

  g_return_if_fail (self != NULL);

  g_mutex_lock (&self->lock);
  if (!self->closed)
    {
      self->close_error = error != NULL ? g_error_copy (error) : NULL;
      self->closed = TRUE;
    }
  channel_pump_unlocked (self, &done);
  g_mutex_unlock (&self->lock);
  kaa_channel_complete (self, &done);
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
      *waiting = new_closed (self);
      return FALSE;
    }
  if (kaa_channel_offer_unlocked (self, item, &done))
    {
      g_mutex_unlock (&self->lock);
      kaa_channel_complete (self, &done);
      return TRUE;
    }
  *waiting = waiter_new_unlocked (self, TRUE, flags, &waiter);
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
      *waiting = waiter_new_unlocked (self, FALSE, flags, &waiter);
      waiter->as_value = (flags & KAA_CHANNEL_AS_VALUE) != 0;
    }
  g_mutex_unlock (&self->lock);
  kaa_channel_complete (self, &done);
  if (!taken && *waiting == NULL)
    *waiting = new_closed (self);
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
