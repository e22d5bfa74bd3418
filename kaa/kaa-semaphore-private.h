/* kaa-semaphore-private.h: the semaphore core that KaaMutex shares (layer 5)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "kaa-in-progress-private.h"
#include "kaa-refcount-private.h"
#include "kaa-semaphore.h"

G_BEGIN_DECLS

/* kaa-semaphore.c says which thread owns what, and why a semaphore has a
 * lock of its own. */
struct _KaaSemaphore
{
  KaaRefCount    ref_count;     /* atomic */
  guint          permits;       /* immutable */
  gboolean       is_mutex;      /* immutable: records and checks owners */

  /* Atomic: the permits available, and STATE_LINE while anyone stands
   * in line. Without STATE_LINE, a take or a release is one
   * compare-and-swap, no lock; with it, only the lock's holder changes
   * the count, so that a newcomer never overtakes the line. */
  gint           state;
  gconstpointer  owner;         /* atomic: a mutex's holder, set by the taker */

  /* Lock order: this lock is a leaf; nothing else is taken under it. */
  GMutex         lock;
  GCond          cond;          /* blocked threads wait on it */
  char          *name;          /* under lock */
  GQueue         waiters;       /* under lock: KaaSemaphoreWaiter.link, oldest first */
  gboolean       handing_out;   /* under lock: a thread is in hand_out */
};

#define KAA_SEMAPHORE_LINE          (1 << 30)
#define KAA_SEMAPHORE_MAX_PERMITS   (KAA_SEMAPHORE_LINE - 1)
#define KAA_SEMAPHORE_COUNT(state)  ((guint) ((state) & KAA_SEMAPHORE_MAX_PERMITS))

typedef struct
{
  GList          link;          /* in waiters, under lock */
  KaaSemaphore  *semaphore;     /* owned, unless a blocked thread's */
  KaaInProgress *in_progress;   /* NULL for a blocked thread; the line's
                                 * reference while queued, else not owned */
  gconstpointer  owner;         /* immutable */
  gboolean       queued;        /* under lock */
  gboolean       paused;        /* under lock */
  gboolean       granted;       /* under lock: a blocked thread's */
} KaaSemaphoreWaiter;

/* Any thread, lock-free: takes a permit for @owner if one is free and
 * nobody waits. Under the lock: the same, or else puts @waiter in line
 * (with the line's reference to its InProgress); FALSE if it queued.
 * The line's reference of a waiter taken out of line is the caller's,
 * to drop once unlocked. */
gboolean       kaa_semaphore_take              (KaaSemaphore  *self,
                                                gconstpointer  owner);
gboolean       kaa_semaphore_take_or_queue_unlocked (KaaSemaphore       *self,
                                                KaaSemaphoreWaiter *waiter);
KaaInProgress *kaa_semaphore_unqueue_unlocked  (KaaSemaphoreWaiter *waiter);
/* Called with the lock held; returns with it released. */
void           kaa_semaphore_hand_out_unlocked (KaaSemaphore  *self);


/* An owner is an identity, never dereferenced: the InProgress of the
 * coroutine that acquired (kaa_semaphore_current_owner()), or NULL for
 * code outside coroutines. Only a mutex records and checks it. */
KaaSemaphore  *kaa_semaphore_new_internal      (guint          permits,
                                                gboolean       is_mutex) G_GNUC_WARN_UNUSED_RESULT;
gconstpointer  kaa_semaphore_current_owner     (void);
KaaInProgress *kaa_semaphore_acquire_for       (KaaSemaphore  *self,
                                                gconstpointer  owner,
                                                const char    *name) G_GNUC_WARN_UNUSED_RESULT;
gboolean       kaa_semaphore_wait_for          (KaaSemaphore  *self,
                                                GCancellable  *cancellable,
                                                const char    *function,
                                                GError       **error);
gboolean       kaa_semaphore_await_for         (KaaSemaphore  *self,
                                                gconstpointer  owner,
                                                const char    *name,
                                                GError       **error);
void           kaa_semaphore_release_for       (KaaSemaphore  *self,
                                                gconstpointer  owner,
                                                const char    *function);
gboolean       kaa_semaphore_is_held           (KaaSemaphore  *self);
char          *kaa_semaphore_describe          (KaaSemaphore  *self) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
