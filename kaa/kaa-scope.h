/* kaa-scope.h: task scopes, structured concurrency for coroutines and jobs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined (KAA_INSIDE) && !defined (KAA_COMPILATION)
# error "Include <kaa/kaa.h>, not individual libkaa headers."
#endif

#include "kaa-coroutine.h"

G_BEGIN_DECLS

/**
 * KaaScope:
 *
 * Owns the coroutines and thread jobs started in it, as a Trio nursery
 * or an asyncio `TaskGroup` does, with a deadline, pause, and
 * cancel-on-dispose. See [ctor@Kaa.Scope.new].
 *
 * Since: 0.2
 */
typedef struct _KaaScope KaaScope;

/**
 * KaaScopeFlags:
 * @KAA_SCOPE_FAIL_FAST: the default: the first member that fails
 *   cancels the others, and the scope fails with its error
 * @KAA_SCOPE_COLLECT_ALL: a failed member cancels nothing; the scope
 *   waits for every member and then fails with the first error, all of
 *   them readable with [method@Kaa.Scope.dup_errors]
 *
 * How a scope reacts to a member that fails.
 *
 * Since: 0.2
 */
typedef enum /*< flags >*/
{
  KAA_SCOPE_FAIL_FAST   = 0,
  KAA_SCOPE_COLLECT_ALL = 1 << 0,
} KaaScopeFlags;

#define KAA_TYPE_SCOPE (kaa_scope_get_type ())

KAA_AVAILABLE_IN_ALL
GType          kaa_scope_get_type       (void) G_GNUC_CONST;

KAA_AVAILABLE_IN_ALL
KaaScope      *kaa_scope_new            (KaaScopeFlags     flags) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaScope      *kaa_scope_ref            (KaaScope         *self);
KAA_AVAILABLE_IN_ALL
void           kaa_scope_unref          (KaaScope         *self);

KAA_AVAILABLE_IN_ALL
void           kaa_scope_add            (KaaScope         *self,
                                         KaaInProgress    *member);
KAA_AVAILABLE_IN_ALL
void           kaa_scope_spawn          (KaaScope         *self,
                                         KaaCoroutineFunc  func,
                                         gpointer          user_data,
                                         GDestroyNotify    destroy);
KAA_AVAILABLE_IN_ALL
void           kaa_scope_spawn_def      (KaaScope              *self,
                                         const KaaCoroutineDef *def,
                                         gpointer               user_data,
                                         GDestroyNotify         destroy);
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_scope_join           (KaaScope         *self) G_GNUC_WARN_UNUSED_RESULT;

KAA_AVAILABLE_IN_ALL
void           kaa_scope_set_timeout    (KaaScope         *self,
                                         guint             msec);
KAA_AVAILABLE_IN_ALL
void           kaa_scope_bind           (KaaScope         *self,
                                         gpointer          object);
KAA_AVAILABLE_IN_ALL
void           kaa_scope_cancel         (KaaScope         *self);
KAA_AVAILABLE_IN_ALL
void           kaa_scope_pause          (KaaScope         *self);
KAA_AVAILABLE_IN_ALL
void           kaa_scope_resume         (KaaScope         *self);

KAA_AVAILABLE_IN_ALL
guint          kaa_scope_get_n_pending  (KaaScope         *self);
KAA_AVAILABLE_IN_ALL
GPtrArray     *kaa_scope_dup_errors     (KaaScope         *self) G_GNUC_WARN_UNUSED_RESULT;

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KaaScope, kaa_scope_unref)

G_END_DECLS
