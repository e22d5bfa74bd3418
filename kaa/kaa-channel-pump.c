/* kaa-channel-pump.c: the channel's machinery: its ring of items, its
 * waiting senders and receivers, and the pump that matches them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Everything named *_unlocked here runs under the channel's lock and
 * calls nothing that could call out; what it claims is settled by
 * kaa_channel_complete() once the lock is dropped. kaa-channel.c says
 * why a claim comes first.
 */
#include "config.h"

#include "kaa-channel-private.h"
#include "kaa-i18n-private.h"
#include "kaa-error.h"

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

gpointer
kaa_channel_pop_unlocked (KaaChannel *self)
{
  return ring_pop (self);
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
    {
      done->woke_thread = TRUE;
      return TRUE;
    }
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
      g_atomic_int_set (&waiter->done, TRUE);
      /* GLib's g_cond_signal() always makes a futex call: skip it while
       * the thread still spins (kaa-channel-wait.c). */
      if (waiter->sleeping)
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

void
kaa_channel_pump_unlocked (KaaChannel     *self,
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
  kaa_channel_pump_unlocked (self, done);
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

/* After the lock: settles what was claimed under it, in claim order.
 * A thread that was woken tends to answer at once (a job's request and
 * reply): the context of this thread, if it runs one, then polls for
 * that answer a little instead of sleeping through a wake-up. */
void
kaa_channel_complete (KaaChannel     *self,
                      KaaChannelDone *done)
{
  KaaChannelWaiter *waiter = done->head;

  if (done->woke_thread)
    kaa_scheduler_expect_remote (kaa_scheduler_get_thread_default (),
                                 g_get_monotonic_time () + KAA_CHANNEL_SPIN_USEC);

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
  kaa_channel_pump_unlocked (self, &done);
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
  kaa_channel_release (self);
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
KaaInProgress *
kaa_channel_waiter_new_unlocked (KaaChannel        *self,
                     gboolean           is_sender,
                     guint              flags,
                     KaaChannelWaiter **out)
{
  KaaChannelWaiter *waiter;
  KaaInProgress *in_progress;

  in_progress = kaa_in_progress_new_with_producer (sizeof *waiter, (gpointer *) &waiter);
  waiter->producer.ops = is_sender ? &send_ops : &receive_ops;
  waiter->channel = kaa_channel_hold (self);
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

KaaInProgress *
kaa_channel_new_closed (KaaChannel *self)
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
