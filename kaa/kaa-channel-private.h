/* kaa-channel-private.h: the channel's state, for kaa-channel*.c (layer 5)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "kaa-channel.h"
#include "kaa-in-progress-private.h"
#include "kaa-refcount-private.h"

G_BEGIN_DECLS

/* How long a thread about to block in a channel, or a context that just
 * woke such a thread, looks for the other side's answer before it
 * sleeps: a round trip through the main loop, with margin, as the thread
 * pool's workers do (kaa-thread-pool.c). */
#define KAA_CHANNEL_SPIN_USEC 50

typedef enum
{
  OUTCOME_NONE,      /* the claim failed: only drop the reference */
  OUTCOME_ITEM,      /* a receiver got @item */
  OUTCOME_SENT,      /* a sender's item was taken */
  OUTCOME_CLOSED,    /* the channel was closed under it */
} WaiterOutcome;

/* A send or a receive that waits: in its InProgress's allocation when it
 * is awaited through one (the producer, first), on the stack of a thread
 * blocked in kaa_channel_*_blocking() otherwise. */
typedef struct _KaaChannelWaiter KaaChannelWaiter;
struct _KaaChannelWaiter
{
  KaaProducer       producer;
  KaaChannel       *channel;      /* held by an InProgress's waiter */
  KaaInProgress    *in_progress;  /* not owned; NULL for a blocked thread */
  KaaDeathWatch    *death;        /* owned */
  GCond            *cond;         /* a blocked thread's, signalled once done */
  gint              done;         /* atomic, set under the lock: a blocked
                                   * thread's waiter was claimed */

  /* Under the channel's lock. */
  KaaChannelWaiter *prev;
  KaaChannelWaiter *next;
  gpointer          item;         /* a sender's, or what a receiver got */
  guint8            is_sender;
  guint8            linked;
  guint8            paused;       /* skipped until resumed (DESIGN §6) */
  guint8            has_item;     /* a sender's item is still its own */
  guint8            sleeping;     /* a blocked thread waits on @cond */
  guint8            as_value;     /* a receive_value(): finish with a GValue */
  guint8            outcome;

  /* The claimer's, once it is unlinked. */
  guint8            completed;    /* settled by the channel, lock-free release */
  KaaChannelWaiter *done_next;
};

typedef struct
{
  KaaChannelWaiter *head;
  KaaChannelWaiter *tail;
} KaaChannelWaiters;

struct _KaaChannel
{
  KaaRefCount       ref_count;     /* atomic: the users' references */
  KaaRefCount       memory_count;  /* atomic: kaa_channel_hold() */
  guint             capacity;      /* immutable */
  GDestroyNotify    item_destroy;  /* immutable */
  gboolean          for_values;    /* immutable: items are GValues */

  /* Lock order: the channel's lock is innermost; nothing that could take
   * another lock or call out (a settle, a destroy notify, an unref that
   * may finalize) runs under it. */
  GMutex            lock;
  gpointer         *ring;          /* items: a ring of ring_size slots */
  guint             ring_size;     /* 0 or a power of two */
  guint             head;
  guint             length;
  KaaChannelWaiters receivers;     /* only wait while no item is there */
  KaaChannelWaiters senders;       /* only wait while there is no room */
  gboolean          closed;
  GError           *close_error;   /* set once, with closed */
  GDestroyNotify    close_notify;  /* a stream's source, stopped at the close */
  gpointer          close_data;
};

typedef struct
{
  GDestroyNotify func;
  gpointer       data;
} KaaChannelNotify;

/* What the claimer settles once it has dropped the lock, in order. */
typedef struct
{
  KaaChannelWaiter  *head;
  KaaChannelWaiter **tail;
  gboolean           woke_thread;   /* a blocked thread was given its due */
} KaaChannelDone;

#define KAA_CHANNEL_DONE_INIT(done) { NULL, &(done).head, FALSE }

enum
{
  KAA_CHANNEL_AS_VALUE = 1 << 0,  /* a receive finishes with a GValue */
  KAA_CHANNEL_AWAITED  = 1 << 1,  /* only the calling coroutine awaits it */
};

gboolean kaa_channel_send_internal      (KaaChannel       *self,
                                         gpointer          item,
                                         guint             flags,
                                         KaaInProgress   **waiting);
gboolean kaa_channel_receive_internal   (KaaChannel       *self,
                                         guint             flags,
                                         gpointer         *item,
                                         KaaInProgress   **waiting);
void     kaa_channel_pump_unlocked      (KaaChannel       *self,
                                         KaaChannelDone   *done);
gpointer kaa_channel_pop_unlocked       (KaaChannel       *self);
KaaInProgress *kaa_channel_waiter_new_unlocked (KaaChannel        *self,
                                                gboolean           is_sender,
                                                guint              flags,
                                                KaaChannelWaiter **out);
KaaInProgress *kaa_channel_new_closed   (KaaChannel       *self);
void     kaa_channel_close_unlocked     (KaaChannel       *self,
                                         GError           *error,
                                         KaaChannelDone   *done,
                                         KaaChannelNotify *notify);
void     kaa_channel_set_close_notify   (KaaChannel       *self,
                                         GDestroyNotify    func,
                                         gpointer          data);
KaaChannel *kaa_channel_hold            (KaaChannel       *self);
void     kaa_channel_release            (KaaChannel       *self);
void     kaa_channel_destroy_item       (KaaChannel       *self,
                                         gpointer          item);
GError  *kaa_channel_dup_close_error    (KaaChannel       *self);
void     kaa_channel_push_front_unlocked (KaaChannel      *self,
                                         gpointer          item,
                                         KaaChannelDone   *done);
void     kaa_channel_link_unlocked      (KaaChannel       *self,
                                         KaaChannelWaiter *waiter);
void     kaa_channel_unlink_unlocked    (KaaChannel       *self,
                                         KaaChannelWaiter *waiter);
gboolean kaa_channel_offer_unlocked     (KaaChannel       *self,
                                         gpointer          item,
                                         KaaChannelDone   *done);
gboolean kaa_channel_take_unlocked      (KaaChannel       *self,
                                         gpointer         *item,
                                         KaaChannelDone   *done);
void     kaa_channel_complete           (KaaChannel       *self,
                                         KaaChannelDone   *done);
KaaInProgress *kaa_channel_receive_as   (KaaChannel       *self,
                                         gboolean          as_value);
void     kaa_channel_value_free         (gpointer          value);

G_END_DECLS
