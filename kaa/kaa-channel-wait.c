/* kaa-channel-wait.c: the channel's other doors: without waiting, blocking
 * a thread, looping in a coroutine, and GValues for language bindings
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A thread blocked in a channel waits as a waiter on its own stack, with
 * no InProgress: the pump claims it by marking it done under the lock and
 * signals its condition (kaa-channel.c). Its GCancellable's handler takes
 * the same lock, so a cancel and a claim never both win.
 */
#include "config.h"

#include "kaa-channel-private.h"
#include "kaa-coroutine.h"
#include "kaa-error.h"
#include "kaa-i18n-private.h"
#include "kaa-signal-args.h"

/**
 * kaa_channel_try_send: (skip)
 * @self: a [struct@Kaa.Channel]
 * @item: (nullable): the item, taken only on success
 *
 * Sends @item if a receiver waits or there is room, without waiting.
 * Any thread.
 *
 * Returns: %TRUE if @self took @item; %FALSE if it is full or closed, and
 *   @item is still the caller's
 * Since: 0.2
 */
gboolean
kaa_channel_try_send (KaaChannel *self,
                      gpointer    item)
{
  KaaChannelDone done = KAA_CHANNEL_DONE_INIT (done);
  gboolean sent;

  g_return_val_if_fail (self != NULL, FALSE);

  g_mutex_lock (&self->lock);
  sent = !self->closed && kaa_channel_offer_unlocked (self, item, &done);
  g_mutex_unlock (&self->lock);
  kaa_channel_complete (self, &done);
  return sent;
}

/**
 * kaa_channel_push: (skip)
 * @self: a [struct@Kaa.Channel]
 * @item: (nullable) (transfer full): the item
 * @overflow: what to do when @self is full
 *
 * Sends @item without ever waiting, as the source of a stream does: to a
 * waiting receiver or into the room, else as @overflow says. On a
 * rendezvous channel, with no receiver waiting, that is always the
 * overflow. Any thread.
 *
 * Returns: %TRUE if @item is in @self; %FALSE if it was dropped (and
 *   given to the destroy notify) or @self is closed
 * Since: 0.2
 */
gboolean
kaa_channel_push (KaaChannel *self,
                  gpointer    item,
                  KaaOverflow overflow)
{
  KaaChannelDone done = KAA_CHANNEL_DONE_INIT (done);
  KaaChannelNotify notify = { NULL, NULL };
  gpointer dropped = item;
  gboolean pushed = FALSE;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (overflow <= KAA_OVERFLOW_FAIL, FALSE);

  g_mutex_lock (&self->lock);
  if (self->closed)
    ;
  else if (kaa_channel_offer_unlocked (self, item, &done))
    pushed = TRUE;
  else if (overflow == KAA_OVERFLOW_DROP_OLDEST && self->length > 0)
    {
      dropped = kaa_channel_pop_unlocked (self);
      pushed = kaa_channel_offer_unlocked (self, item, &done);
      g_assert (pushed);
    }
  else if (overflow == KAA_OVERFLOW_FAIL)
    kaa_channel_close_unlocked (self,
                                g_error_new (KAA_ERROR, KAA_ERROR_OVERFLOW,
                                             kaa_ngettext ("More than %u item arrived "
                                                           "before it was received",
                                                           "More than %u items arrived "
                                                           "before they were received",
                                                           self->capacity),
                                             self->capacity),
                                &done, &notify);
  g_mutex_unlock (&self->lock);
  kaa_channel_complete (self, &done);
  if (notify.func != NULL)
    notify.func (notify.data);
  if (pushed && dropped == item)
    return TRUE;
  kaa_channel_destroy_item (self, dropped);
  return pushed;
}

/**
 * kaa_channel_try_receive: (skip)
 * @self: a [struct@Kaa.Channel]
 * @item: (out) (optional) (transfer full): the item
 *
 * Receives an item if one is there (or a sender waits with one), without
 * waiting. Any thread.
 *
 * Returns: %TRUE with @item set if there was one
 * Since: 0.2
 */
gboolean
kaa_channel_try_receive (KaaChannel *self,
                         gpointer   *item)
{
  KaaChannelDone done = KAA_CHANNEL_DONE_INIT (done);
  gpointer taken = NULL;
  gboolean got;

  g_return_val_if_fail (self != NULL, FALSE);

  g_mutex_lock (&self->lock);
  got = kaa_channel_take_unlocked (self, &taken, &done);
  g_mutex_unlock (&self->lock);
  kaa_channel_complete (self, &done);
  if (item != NULL)
    *item = taken;
  else if (got)
    kaa_channel_destroy_item (self, taken);
  return got;
}

/* ---------------------------------------------------------- blocking */

typedef struct
{
  KaaChannel *channel;
  GCond      *cond;
  gint        cancelled;   /* atomic, set under the channel's lock */
} Blocked;

static void
blocked_cancelled (GCancellable *cancellable,
                   gpointer      data)
{
  Blocked *blocked = data;

  g_mutex_lock (&blocked->channel->lock);
  g_atomic_int_set (&blocked->cancelled, TRUE);
  g_cond_signal (blocked->cond);
  g_mutex_unlock (&blocked->channel->lock);
}

/* Before sleeping: the other side often answers within a round trip
 * through its main loop, and a wake-up costs more than that. Yielding
 * keeps the spin from starving it on a machine with few cores. */
static void
blocked_spin (KaaChannelWaiter *waiter,
              Blocked          *blocked)
{
  gint64 end = g_get_monotonic_time () + KAA_CHANNEL_SPIN_USEC;

  while (!g_atomic_int_get (&waiter->done) && !g_atomic_int_get (&blocked->cancelled) &&
         g_get_monotonic_time () < end)
    g_thread_yield ();
}

/* Called with the lock held and @waiter linked; returns with the lock
 * dropped and @waiter unlinked: TRUE once claimed, FALSE if cancelled
 * first. @claimed holds the waiters that the failed offer or take claimed
 * in vain (cancelled on another thread, still in line): their references
 * go as soon as the lock is dropped, not after a wait that may never end.
 * The handler is connected outside the lock, since it runs inside
 * g_cancellable_connect() when @cancellable is already cancelled; the
 * spin, too, runs outside it, so that the other side can get in. */
static gboolean
waiter_block (KaaChannel       *self,
              KaaChannelWaiter *waiter,
              KaaChannelDone   *claimed,
              GCancellable     *cancellable)
{
  Blocked blocked = { self, waiter->cond, FALSE };
  gulong id = 0;
  gboolean done;

  g_mutex_unlock (&self->lock);
  kaa_channel_complete (self, claimed);
  if (cancellable != NULL)
    id = g_cancellable_connect (cancellable, G_CALLBACK (blocked_cancelled), &blocked, NULL);
  blocked_spin (waiter, &blocked);
  g_mutex_lock (&self->lock);
  waiter->sleeping = TRUE;
  while (!g_atomic_int_get (&waiter->done) && !g_atomic_int_get (&blocked.cancelled))
    g_cond_wait (waiter->cond, &self->lock);
  waiter->sleeping = FALSE;
  done = g_atomic_int_get (&waiter->done);
  if (!done)
    kaa_channel_unlink_unlocked (self, waiter);
  g_mutex_unlock (&self->lock);
  /* Waits for a handler still running on another thread: @blocked is ours. */
  if (id != 0)
    g_cancellable_disconnect (cancellable, id);
  return done;
}

static gboolean
blocked_outcome (KaaChannel       *self,
                 KaaChannelWaiter *waiter,
                 gboolean          done,
                 GError          **error)
{
  if (!done)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                           kaa_gettext_cancelled ());
      return FALSE;
    }
  if (waiter->outcome == OUTCOME_CLOSED)
    {
      g_propagate_error (error, kaa_channel_dup_close_error (self));
      return FALSE;
    }
  return TRUE;
}

/* A coroutine runs on the thread of its context, the context its peers
 * need to reach it: blocking there could wait for ever, with the whole
 * loop frozen. Refused at once, whether or not the call would block, so
 * that the mistake shows the first time the code runs. */
static gboolean
blocking_refused (KaaChannel  *self,
                  gboolean     sending,
                  const char  *function,
                  GError     **error)
{
  if (G_LIKELY (kaa_coroutine_self () == NULL))
    return FALSE;
  g_critical ("%s: called inside a coroutine for KaaChannel %p: a coroutine suspends with "
              "kaa_await(), it never blocks its thread", function, self);
  g_set_error_literal (error, KAA_ERROR, KAA_ERROR_IN_COROUTINE,
                       sending ?
                       _("A coroutine cannot block its thread to send on a channel") :
                       _("A coroutine cannot block its thread to receive from a channel"));
  return TRUE;
}

/* The public doors hold the channel's memory while they block: the last
 * reference may go on another thread, which closes the channel and
 * wakes them, and they still touch its lock afterwards. */
static gboolean
channel_send_blocking (KaaChannel   *self,
                       gpointer      item,
                       GCancellable *cancellable,
                       GError      **error)
{
  KaaChannelDone done = KAA_CHANNEL_DONE_INIT (done);
  KaaChannelWaiter waiter = { 0 };
  GCond cond;
  gboolean settled;

  g_mutex_lock (&self->lock);
  if (!self->closed && kaa_channel_offer_unlocked (self, item, &done))
    {
      g_mutex_unlock (&self->lock);
      kaa_channel_complete (self, &done);
      return TRUE;
    }
  if (self->closed)
    {
      g_mutex_unlock (&self->lock);
      kaa_channel_complete (self, &done);
      kaa_channel_destroy_item (self, item);
      g_propagate_error (error, kaa_channel_dup_close_error (self));
      return FALSE;
    }
  g_cond_init (&cond);
  waiter.cond = &cond;
  waiter.is_sender = TRUE;
  waiter.item = item;
  waiter.has_item = TRUE;
  kaa_channel_link_unlocked (self, &waiter);
  settled = waiter_block (self, &waiter, &done, cancellable);
  g_cond_clear (&cond);
  if (!settled || waiter.outcome == OUTCOME_CLOSED)
    kaa_channel_destroy_item (self, item);
  return blocked_outcome (self, &waiter, settled, error);
}

static gboolean
channel_receive_blocking (KaaChannel   *self,
                          gpointer     *item,
                          GCancellable *cancellable,
                          GError      **error)
{
  KaaChannelDone done = KAA_CHANNEL_DONE_INIT (done);
  KaaChannelWaiter waiter = { 0 };
  gpointer taken = NULL;
  GCond cond;
  gboolean settled;

  g_mutex_lock (&self->lock);
  if (kaa_channel_take_unlocked (self, &taken, &done))
    {
      g_mutex_unlock (&self->lock);
      kaa_channel_complete (self, &done);
      settled = TRUE;
      waiter.outcome = OUTCOME_ITEM;
    }
  else if (self->closed)
    {
      g_mutex_unlock (&self->lock);
      kaa_channel_complete (self, &done);
      settled = TRUE;
      waiter.outcome = OUTCOME_CLOSED;
    }
  else
    {
      g_cond_init (&cond);
      waiter.cond = &cond;
      kaa_channel_link_unlocked (self, &waiter);
      settled = waiter_block (self, &waiter, &done, cancellable);
      g_cond_clear (&cond);
      taken = waiter.item;
    }
  if (!blocked_outcome (self, &waiter, settled, error))
    return FALSE;
  if (item != NULL)
    *item = taken;
  else
    kaa_channel_destroy_item (self, taken);
  return TRUE;
}

/**
 * kaa_channel_send_blocking: (skip)
 * @self: a [struct@Kaa.Channel]
 * @item: (nullable) (transfer full): the item
 * @cancellable: (nullable): stops the wait, such as the one of
 *   [method@Kaa.ThreadJob.get_cancellable]
 * @error: return location for a #GError
 *
 * Sends @item as [method@Kaa.Channel.send] does, blocking the calling
 * thread while there is no room: for thread jobs and other threads that
 * run no context. Never call it on the thread that runs the context of
 * the receivers it waits for. Called inside a coroutine, this logs a
 * critical and fails at once with `KAA_ERROR_IN_COROUTINE`: a coroutine
 * awaits [method@Kaa.Channel.send] or calls kaa_channel_await_send()
 * instead. On failure (@self closed, @cancellable cancelled, inside a
 * coroutine) @item goes to the channel's destroy notify.
 *
 * Returns: %TRUE once @self accepted @item
 * Since: 0.2
 */
gboolean
kaa_channel_send_blocking (KaaChannel   *self,
                           gpointer      item,
                           GCancellable *cancellable,
                           GError      **error)
{
  gboolean sent;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (blocking_refused (self, TRUE, G_STRFUNC, error))
    {
      kaa_channel_destroy_item (self, item);
      return FALSE;
    }
  sent = channel_send_blocking (kaa_channel_hold (self), item, cancellable, error);
  kaa_channel_release (self);
  return sent;
}

/**
 * kaa_channel_receive_blocking: (skip)
 * @self: a [struct@Kaa.Channel]
 * @item: (out) (optional) (transfer full): the item
 * @cancellable: (nullable): stops the wait, such as the one of
 *   [method@Kaa.ThreadJob.get_cancellable]
 * @error: return location for a #GError
 *
 * Receives the next item as [method@Kaa.Channel.receive] does, blocking
 * the calling thread until there is one: for thread jobs and other
 * threads that run no context. Never call it on the thread that runs the
 * context of the senders it waits for. A cancel takes no item. Called
 * inside a coroutine, this logs a critical, takes no item and fails at
 * once with `KAA_ERROR_IN_COROUTINE`: a coroutine calls
 * kaa_channel_await_next() instead.
 *
 * Returns: %TRUE with @item set; %FALSE with @error set once @self is
 *   closed and empty (`KAA_ERROR_CLOSED`), @cancellable was cancelled, or
 *   inside a coroutine
 * Since: 0.2
 */
gboolean
kaa_channel_receive_blocking (KaaChannel   *self,
                              gpointer     *item,
                              GCancellable *cancellable,
                              GError      **error)
{
  gboolean received;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (blocking_refused (self, FALSE, G_STRFUNC, error))
    return FALSE;
  received = channel_receive_blocking (kaa_channel_hold (self), item, cancellable, error);
  kaa_channel_release (self);
  return received;
}

/* ---------------------------------------------------- the coroutine loop */

/* An item received for a coroutine that was cancelled before it could
 * take it goes back to the head of the channel: it stays in the channel
 * rather than go to no one. */
static void
channel_give_back (KaaChannel *self,
                   gpointer    item)
{
  KaaChannelDone done = KAA_CHANNEL_DONE_INIT (done);

  g_mutex_lock (&self->lock);
  kaa_channel_push_front_unlocked (self, item, &done);
  g_mutex_unlock (&self->lock);
  kaa_channel_complete (self, &done);
}

static gboolean
coroutine_may_go_on (void)
{
  KaaCoroutine *co = kaa_coroutine_self ();

  return co != NULL && !kaa_coroutine_is_cancelled (co);
}

/**
 * kaa_channel_await_next: (skip)
 * @self: a [struct@Kaa.Channel]
 * @item: (out) (transfer full): the item
 * @error: return location for a #GError
 *
 * Suspends the calling coroutine until the next item of @self, and hands
 * it over; an item that is there already is taken without suspending. The
 * loop over a channel, or over a stream, reads:
 *
 * |[<!-- language="C" -->
 * gpointer item;
 * g_autoptr(GError) error = NULL;
 *
 * while (kaa_channel_await_next (channel, &item, &error))
 *   handle (item);
 * if (error != NULL)
 *   return;                     // cancelled, or the stream failed
 * ]|
 *
 * Once @self is closed and empty, it returns %FALSE and leaves @error
 * unset: the end of the loop. When the coroutine is cancelled it returns
 * %FALSE with `G_IO_ERROR_CANCELLED` and takes no item: one that arrived
 * as the cancel did goes back to the head of @self. Any other failure
 * (see [method@Kaa.Channel.close_with_error]; a stream that overflowed)
 * comes back as @error.
 *
 * Returns: %TRUE with @item set; %FALSE at the end or on failure
 * Since: 0.2
 */
gboolean
kaa_channel_await_next (KaaChannel *self,
                        gpointer   *item,
                        GError    **error)
{
  g_autoptr(GError) local = NULL;
  KaaInProgress *receive;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (item != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* An item taken without an InProgress only where an await would not
   * have suspended either: in a coroutine that is not cancelled. */
  if (!coroutine_may_go_on ())
    receive = kaa_channel_receive (self);
  else if (kaa_channel_receive_internal (self, KAA_CHANNEL_AWAITED, item, &receive))
    return TRUE;
  if (kaa_await_borrowed (receive, &local))
    {
      *item = kaa_in_progress_steal_pointer (receive);
      kaa_in_progress_unref (receive);
      return TRUE;
    }
  if (kaa_in_progress_get_state (receive) == KAA_STATE_FINISHED)
    channel_give_back (self, kaa_in_progress_steal_pointer (receive));
  kaa_in_progress_unref (receive);
  if (!g_error_matches (local, KAA_ERROR, KAA_ERROR_CLOSED))
    g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}

/**
 * kaa_channel_await_send: (skip)
 * @self: a [struct@Kaa.Channel]
 * @item: (nullable) (transfer full): the item
 * @error: return location for a #GError
 *
 * Suspends the calling coroutine until @self accepted @item, as awaiting
 * [method@Kaa.Channel.send] would, without making an InProgress when
 * @self takes it at once. On failure (@self closed, the coroutine
 * cancelled before @self took it) @item goes to the channel's destroy
 * notify, and is not in @self.
 *
 * Returns: %TRUE once @self accepted @item
 * Since: 0.2
 */
gboolean
kaa_channel_await_send (KaaChannel *self,
                        gpointer    item,
                        GError    **error)
{
  g_autoptr(GError) local = NULL;
  KaaInProgress *send;
  gboolean sent;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!coroutine_may_go_on ())
    send = kaa_channel_send (self, item);
  else if (kaa_channel_send_internal (self, item, KAA_CHANNEL_AWAITED, &send))
    return TRUE;
  /* A cancel of the coroutine as the channel took the item: it was sent. */
  sent = kaa_await_borrowed (send, &local) ||
         kaa_in_progress_get_state (send) == KAA_STATE_FINISHED;
  kaa_in_progress_unref (send);
  if (!sent)
    g_propagate_error (error, g_steal_pointer (&local));
  return sent;
}

/* ------------------------------------------------------------ GValues */

static gboolean
channel_check_values (KaaChannel *self,
                      const char *function)
{
  if (G_LIKELY (self->for_values))
    return TRUE;
  g_critical ("%s: KaaChannel %p was not made with kaa_channel_new_for_values(): "
              "its items are not GValues", function, self);
  return FALSE;
}

/**
 * kaa_channel_send_value:
 * @self: a [struct@Kaa.Channel] made with [ctor@Kaa.Channel.new_for_values]
 * @value: the item, copied
 *
 * Sends a copy of @value, as [method@Kaa.Channel.send] sends a pointer.
 *
 * Returns: (transfer full): the send, which finishes with %TRUE
 * Since: 0.2
 */
KaaInProgress *
kaa_channel_send_value (KaaChannel   *self,
                        const GValue *value)
{
  GValue *copy;

  kaa_return_failed_if_fail (self != NULL);
  kaa_return_failed_if_fail (G_IS_VALUE (value));
  if (!channel_check_values (self, G_STRFUNC))
    return kaa_in_progress_new_invalid_argument (G_STRFUNC, "self->for_values");

  copy = g_new0 (GValue, 1);
  g_value_init (copy, G_VALUE_TYPE (value));
  g_value_copy (value, copy);
  return kaa_channel_send (self, copy);
}

/**
 * kaa_channel_receive_value:
 * @self: a [struct@Kaa.Channel] made with [ctor@Kaa.Channel.new_for_values],
 *   or a signal stream ([ctor@Kaa.Channel.new_for_signal])
 *
 * Receives the next item as [method@Kaa.Channel.receive] does; the
 * InProgress finishes with it as a GValue result, read with
 * [method@Kaa.InProgress.get_value]: a signal stream's item reads as a
 * [struct@Kaa.SignalArgs].
 *
 * Returns: (transfer full): the receive
 * Since: 0.2
 */
KaaInProgress *
kaa_channel_receive_value (KaaChannel *self)
{
  kaa_return_failed_if_fail (self != NULL);
  /* A signal stream's items are no GValues, but a receive finished with
   * one reads as a KaaSignalArgs GValue, which is what a binding needs. */
  if (self->item_destroy == (GDestroyNotify) kaa_signal_args_unref)
    return kaa_channel_receive_as (self, FALSE);
  if (!channel_check_values (self, G_STRFUNC))
    return kaa_in_progress_new_invalid_argument (G_STRFUNC, "self->for_values");

  return kaa_channel_receive_as (self, TRUE);
}
