/* kaa-mutex.h: a mutual-exclusion lock that is held across awaits
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
 * KaaMutex:
 *
 * A lock for coroutines: unlike a #GMutex, which must never be held
 * across a suspension, a KaaMutex is meant to be held across awaits, and
 * a coroutine waiting for it suspends instead of blocking the thread.
 * It is a [struct@Kaa.Semaphore] of one permit with an owner: the
 * coroutine that locked it (or plain code outside any coroutine), which
 * alone may unlock it. Reference-counted; every function is safe from
 * any thread.
 *
 * Since: 0.2
 */
typedef struct _KaaMutex KaaMutex;

/**
 * KaaMutexLocker:
 *
 * A held [struct@Kaa.Mutex], as a guard: kaa_mutex_locker_free() (or
 * leaving the scope of a `g_autoptr(KaaMutexLocker)`) unlocks it, as
 * #GMutexLocker does for a #GMutex. Get one with kaa_mutex_await(). C only.
 *
 * Since: 0.2
 */
typedef struct _KaaMutexLocker KaaMutexLocker;

#define KAA_TYPE_MUTEX (kaa_mutex_get_type ())

KAA_AVAILABLE_IN_ALL
GType           kaa_mutex_get_type      (void) G_GNUC_CONST;

KAA_AVAILABLE_IN_ALL
KaaMutex       *kaa_mutex_new           (void) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaMutex       *kaa_mutex_ref           (KaaMutex      *self);
KAA_AVAILABLE_IN_ALL
void            kaa_mutex_unref         (KaaMutex      *self);
KAA_AVAILABLE_IN_ALL
void            kaa_mutex_set_name      (KaaMutex      *self,
                                         const char    *name);
KAA_AVAILABLE_IN_ALL
gboolean        kaa_mutex_is_locked     (KaaMutex      *self);

KAA_AVAILABLE_IN_ALL
gboolean        kaa_mutex_try_lock      (KaaMutex      *self);
KAA_AVAILABLE_IN_ALL
KaaInProgress  *kaa_mutex_lock          (KaaMutex      *self) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
gboolean        kaa_mutex_lock_wait     (KaaMutex      *self,
                                         GCancellable  *cancellable,
                                         GError       **error);
KAA_AVAILABLE_IN_ALL
void            kaa_mutex_unlock        (KaaMutex      *self);

KAA_AVAILABLE_IN_ALL
KaaMutexLocker *kaa_mutex_await         (KaaMutex      *self,
                                         GError       **error) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
void            kaa_mutex_locker_free   (KaaMutexLocker *locker);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KaaMutex, kaa_mutex_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KaaMutexLocker, kaa_mutex_locker_free)

G_END_DECLS
