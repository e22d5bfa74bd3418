/* kaa-semaphore-private.h: the semaphore core that KaaMutex shares (layer 5)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "kaa-semaphore.h"

G_BEGIN_DECLS

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
