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

  /* Lock order: this lock is a leaf; nothing else is taken under it. */
  GMutex         lock;
  GCond          cond;          /* blocked threads wait on it */
  char          *name;          /* under lock */
  guint          available;     /* under lock */
  GQueue         waiters;       /* under lock: KaaSemaphoreWaiter.link, oldest first */
  gboolean       handing_out;   /* under lock: a thread is in hand_out */
  gconstpointer  owner;         /* under lock: a mutex's holder */
};

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

/* Under the lock: takes a permit for @owner if one is free and nobody
 * waits; the line's reference of a waiter taken out of line, for the
 * caller to drop once unlocked. */
gboolean       kaa_semaphore_take_unlocked     (KaaSemaphore  *self,
                                                gconstpointer  owner);
KaaInProgress *kaa_semaphore_unqueue_unlocked  (KaaSemaphoreWaiter *waiter);


/* An owner is an identity, never dereferenced: the InProgress of the
 * coroutine that acquired (kaa_semaphore_current_owner()), or NULL for
 * code outside coroutines. Only a mutex records and checks it. */
KaaSemaphore  *kaa_semaphore_new_internal      (guint          permits,
                                                gboolean       is_mutex) G_GNUC_WARN_UNUSED_RESULT;
gconstpointer  kaa_semaphore_current_owner     (void);
gboolean       kaa_semaphore_try_acquire_for   (KaaSemaphore  *self,
                                                gconstpointer  owner);
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

G_END_DECLS
