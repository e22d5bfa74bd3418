/* kaa-scope-private.h: the task scope, for kaa-scope*.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "kaa-scope.h"
#include "kaa-in-progress-private.h"
#include "kaa-refcount-private.h"

G_BEGIN_DECLS

struct _KaaScope
{
  KaaProducer    producer;
  KaaAdopter     adopter;
  KaaRefCount    ref_count;   /* internal: the users as one, the producer
                               * slot, each member's callback, the
                               * deadline timer, the binding */
  gint           user_refs;   /* atomic */
  KaaInProgress *self;        /* owned */
  KaaScheduler  *scheduler;   /* the owner's; self's */
  KaaDeathWatch *death;       /* owned by the producer slot */
  KaaScopeFlags  flags;
  KaaTimer       timer;       /* the deadline, owner thread */
  guint          timeout;     /* ms, for the error message */
  KaaRunnable    unbind;      /* the release, handed to the owner */

  GMutex         lock;
  GQueue         members;     /* unsettled Members */
  GPtrArray     *errors;      /* the members' failures, in order */
  guint          n_members;   /* ever added */
  GObject       *bound;       /* weakly: cancel on its dispose */
  gboolean       joined;      /* no more members from outside */
  gboolean       closing;     /* cancelled, failed fast or expired */
  gboolean       expired;
  gboolean       settled;     /* its outcome is decided */
  gboolean       paused;      /* owner thread writes; add reads */
};

KaaScope *kaa_scope_ref_internal   (KaaScope    *scope);
void      kaa_scope_unref_internal (KaaScope    *scope);
/* Any thread: decides the outcome if the scope is closed and empty. */
void      kaa_scope_settle_if_done (KaaScope    *scope);
/* Any thread: closes the scope for a reason that ends its members (a
 * cancel, a failure under FAIL_FAST, the deadline) and cancels them;
 * FALSE if it was closing already. */
gboolean  kaa_scope_close          (KaaScope    *scope,
                                    gboolean     expired);

/* kaa-scope-deadline.c: what ends a scope from outside. */
void      kaa_scope_timer_fire     (KaaTimer    *timer,
                                    gboolean     discard);
void      kaa_scope_unbind         (KaaScope    *scope);
void      kaa_scope_unbind_run     (KaaRunnable *runnable,
                                    gboolean     discard);

G_END_DECLS
