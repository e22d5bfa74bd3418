/* kaa-semaphore.h: a counting semaphore for coroutines, main-loop code and threads
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined (KAA_INSIDE) && !defined (KAA_COMPILATION)
# error "Include <kaa/kaa.h>, not individual libkaa headers."
#endif

#include "kaa-in-progress.h"

G_BEGIN_DECLS

/**
 * KaaSemaphore:
 *
 * A counting semaphore: a limit on how many operations run at once, for
 * coroutines, main-loop code and thread-pool jobs alike. Acquiring a
 * permit returns a [struct@Kaa.InProgress] that finishes once the permit
 * is the caller's; waiters are served in FIFO order. Reference-counted;
 * every function is safe from any thread.
 *
 * Since: 0.2
 */
typedef struct _KaaSemaphore KaaSemaphore;

/**
 * KaaPermit:
 *
 * One permit of a [struct@Kaa.Semaphore], as a guard: freeing it with
 * kaa_permit_release() (or leaving the scope of a `g_autoptr(KaaPermit)`)
 * gives the permit back. Get one with kaa_semaphore_await(). C only.
 *
 * Since: 0.2
 */
typedef struct _KaaPermit KaaPermit;

#define KAA_TYPE_SEMAPHORE (kaa_semaphore_get_type ())

KAA_AVAILABLE_IN_ALL
GType          kaa_semaphore_get_type       (void) G_GNUC_CONST;

KAA_AVAILABLE_IN_ALL
KaaSemaphore  *kaa_semaphore_new            (guint          permits) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaSemaphore  *kaa_semaphore_ref            (KaaSemaphore  *self);
KAA_AVAILABLE_IN_ALL
void           kaa_semaphore_unref          (KaaSemaphore  *self);
KAA_AVAILABLE_IN_ALL
void           kaa_semaphore_set_name       (KaaSemaphore  *self,
                                             const char    *name);
KAA_AVAILABLE_IN_ALL
char          *kaa_semaphore_dup_name       (KaaSemaphore  *self) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
guint          kaa_semaphore_get_permits    (KaaSemaphore  *self);
KAA_AVAILABLE_IN_ALL
guint          kaa_semaphore_get_available  (KaaSemaphore  *self);
KAA_AVAILABLE_IN_ALL
guint          kaa_semaphore_get_n_waiting  (KaaSemaphore  *self);

KAA_AVAILABLE_IN_ALL
gboolean       kaa_semaphore_try_acquire    (KaaSemaphore  *self);
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_semaphore_acquire        (KaaSemaphore  *self) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
gboolean       kaa_semaphore_acquire_wait   (KaaSemaphore  *self,
                                             GCancellable  *cancellable,
                                             GError       **error);
KAA_AVAILABLE_IN_ALL
void           kaa_semaphore_release        (KaaSemaphore  *self);

KAA_AVAILABLE_IN_ALL
KaaPermit     *kaa_semaphore_await          (KaaSemaphore  *self,
                                             GError       **error) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
void           kaa_permit_release           (KaaPermit     *permit);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KaaSemaphore, kaa_semaphore_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KaaPermit, kaa_permit_release)

G_END_DECLS
