/* kaa-scope.c: task scopes (issue 18 §4, DESIGN §9)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A scope is the producer of its own InProgress, like a kaa_all() whose
 * inputs keep arriving: each member is connected to, and the scope
 * settles once it is closed (joined, cancelled, failed fast, past its
 * deadline or dropped by its user) and no member is left. Members may
 * belong to other contexts and settle on other threads, and work may be
 * added from any thread (a job spawning into the scope), so the member
 * list sits under a mutex; nothing is called with it held.
 *
 * A scope owns its members outright: cancelling it cancels each one, also
 * one that something else awaits too, which is what sets it apart from a
 * combinator's shared inputs (DESIGN §6).
 *
 * References: the user's count (`user_refs`) is kept apart from the
 * internal one, because the user letting go of a scope that was never
 * joined cancels it, as leaving a Trio nursery by an exception does.
 */
#include "config.h"

#include "kaa-alloc-private.h"
#include "kaa-coroutine-private.h"
#include "kaa-i18n-private.h"
#include "kaa-refcount-private.h"
#include "kaa-scope-private.h"

typedef struct
{
  KaaScope      *scope;    /* the callback's reference */
  KaaInProgress *member;   /* owned */
  GList          node;     /* in scope->members while unsettled */
  gboolean       adopted;  /* started by a member, not handed to the scope */
  gboolean       paused;   /* scope's owner thread: the scope paused it */
} Member;

G_DEFINE_BOXED_TYPE (KaaScope, kaa_scope, kaa_scope_ref, kaa_scope_unref)

void
kaa_scope_unref_internal (KaaScope *scope)
{
  if (!kaa_ref_count_dec (&scope->ref_count))
    return;
  g_assert (g_queue_is_empty (&scope->members));
  g_clear_pointer (&scope->errors, g_ptr_array_unref);
  kaa_in_progress_unref (scope->self);
  kaa_scheduler_unref (scope->scheduler);
  g_mutex_clear (&scope->lock);
  g_free (scope);
}

KaaScope *
kaa_scope_ref_internal (KaaScope *scope)
{
  kaa_ref_count_inc (&scope->ref_count);
  return scope;
}

/* ------------------------------------------------------------ settling */

/* Lock held: whether the outcome can be decided now, and claims it. */
static gboolean
scope_claim_settle_unlocked (KaaScope *scope)
{
  gboolean closed = scope->joined || scope->closing || g_atomic_int_get (&scope->user_refs) == 0;

  if (scope->settled || !closed || !g_queue_is_empty (&scope->members))
    return FALSE;
  scope->settled = TRUE;
  return TRUE;
}

/* Claimed: the members are all done. The deadline wins over the
 * failures it caused; a member's failure wins over plain success. */
static void
scope_settle (KaaScope *scope)
{
  /* The sweep of a dying context cancels the newest work first: the
   * members went before the scope, which goes with them (DESIGN §3). */
  if (kaa_scheduler_is_dead (scope->scheduler))
    kaa_in_progress_cancel (scope->self);
  else if (scope->expired)
    kaa_in_progress_try_fail (scope->self,
                              g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                           _("Task scope timed out after %u ms"),
                                           scope->timeout));
  else if (scope->errors != NULL && scope->errors->len > 0)
    kaa_in_progress_try_fail (scope->self, g_error_copy (scope->errors->pdata[0]));
  else
    kaa_in_progress_try_finish_int64 (scope->self, scope->n_members);
}

void
kaa_scope_settle_if_done (KaaScope *scope)
{
  gboolean settle;

  g_mutex_lock (&scope->lock);
  settle = scope_claim_settle_unlocked (scope);
  g_mutex_unlock (&scope->lock);
  if (settle)
    scope_settle (scope);
}

/* Any thread: cancels every member still there. Each is referenced
 * first, since a cancel settles it, and its callback unlinks it, at once. */
static void
scope_cancel_members (KaaScope *scope)
{
  g_autoptr(GPtrArray) members =
    g_ptr_array_new_with_free_func ((GDestroyNotify) kaa_in_progress_unref);

  g_mutex_lock (&scope->lock);
  for (GList *l = scope->members.head; l != NULL; l = l->next)
    g_ptr_array_add (members, kaa_in_progress_ref (((Member *) l->data)->member));
  g_mutex_unlock (&scope->lock);
  for (guint i = 0; i < members->len; i++)
    kaa_in_progress_cancel (members->pdata[i]);
}

/* Closes the scope for a reason that ends its members: a cancel, a
 * failure under FAIL_FAST or the deadline. FALSE if it was closing. */
static void scope_pause_members (KaaScope *scope,
                                 gboolean  pause);

gboolean
kaa_scope_close (KaaScope *scope,
                 gboolean  expired)
{
  gboolean first;

  g_mutex_lock (&scope->lock);
  first = !scope->closing && !scope->settled;
  scope->closing = TRUE;
  if (first && expired)
    scope->expired = TRUE;
  g_mutex_unlock (&scope->lock);
  if (first)
    scope_cancel_members (scope);
  /* Cancel wins over pause (DESIGN §6): what the scope paused is let go
   * now, also a member that another thread settled and whose delivery,
   * which would resume it, has not run yet. Only the owner pauses and
   * resumes; elsewhere each member's delivery takes its pause back. */
  if (kaa_scheduler_is_owner (scope->scheduler))
    scope_pause_members (scope, FALSE);
  return first;
}

/* ------------------------------------------------------------- members */

/* On the member's owner thread. A member cancelled on its own does not
 * fail the scope: only a failure does, and only of work handed to the
 * scope. What a member starts is owned but not judged: a member that
 * awaits a child handles its failure (it may retry), and a child nobody
 * awaits reports its failure as unhandled, as it would outside. */
static void
member_settled (KaaInProgress *member,
                gpointer       data)
{
  Member *m = data;
  KaaScope *scope = m->scope;
  gboolean failed = !m->adopted && kaa_in_progress_get_state (member) == KAA_STATE_FAILED;
  gboolean fail_fast = FALSE;
  gboolean settle;

  g_mutex_lock (&scope->lock);
  g_queue_unlink (&scope->members, &m->node);
  if (failed)
    {
      if (scope->errors == NULL)
        scope->errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);
      g_ptr_array_add (scope->errors, g_error_copy (kaa_in_progress_get_error (member)));
      fail_fast = !(scope->flags & KAA_SCOPE_COLLECT_ALL);
    }
  settle = scope_claim_settle_unlocked (scope);
  g_mutex_unlock (&scope->lock);

  /* Every pause counts, also on what is done (DESIGN §6): the scope's is
   * taken back here, since a scope that settles while paused never
   * hears a resume. Only the owner thread pauses, and this is it. */
  if (m->paused)
    {
      m->paused = FALSE;
      kaa_in_progress_resume (member);
    }
  if (fail_fast)
    kaa_scope_close (scope, FALSE);
  if (settle)
    scope_settle (scope);
  else if (fail_fast)
    kaa_scope_settle_if_done (scope);
}

static void
member_free (gpointer data)
{
  Member *m = data;

  kaa_in_progress_unref (m->member);
  kaa_scope_unref_internal (m->scope);
  g_free (m);
}

/* Pausing is for the owner thread of the member; one of another context
 * (a coroutine of another thread's loop) keeps running. */
static void
member_pause (Member *m)
{
  if (!kaa_scheduler_is_owner (kaa_in_progress_get_scheduler (m->member)))
    return;
  m->paused = TRUE;
  kaa_in_progress_pause (m->member);
}

static void
scope_add_member (KaaScope      *scope,
                  KaaInProgress *member,
                  gboolean       adopted)
{
  Member *m = g_new0 (Member, 1);
  gboolean too_late, finished_scope, paused, closing;

  m->scope = kaa_scope_ref_internal (scope);
  m->member = member;
  m->adopted = adopted;
  m->node.data = m;

  g_mutex_lock (&scope->lock);
  too_late = scope->settled;
  finished_scope = too_late && !scope->closing;
  closing = scope->closing;
  if (!too_late)
    {
      g_queue_push_tail_link (&scope->members, &m->node);
      scope->n_members += !adopted;
    }
  paused = scope->paused && kaa_scheduler_is_owner (scope->scheduler);
  g_mutex_unlock (&scope->lock);

  if (too_late)
    {
      /* Work nothing owns would outlive the scope: it never starts. */
      if (finished_scope)
        g_critical ("kaa_scope_add: scope %p already finished: %s (%p) is cancelled "
                    "instead of joining it", scope, kaa_in_progress_get_name (member), member);
      kaa_in_progress_cancel (member);
      member_free (m);
      return;
    }
  /* Done already (a coroutine that ran to its end before it was handed
   * over): counted out here and now, not on the next dispatch, where a
   * late connect would be delivered. */
  if (kaa_in_progress_is_done (member) &&
      kaa_scheduler_is_owner (kaa_in_progress_get_scheduler (member)))
    {
      member_settled (member, m);
      member_free (m);
      return;
    }
  if (paused)
    member_pause (m);
  kaa_in_progress_connect (member, member_settled, m, member_free);
  /* Joined a scope that is ending: it ends too. One added before the
   * scope began to close was in the list its close cancelled. */
  if (closing)
    kaa_in_progress_cancel (member);
}

/* The adopter, for what members start (kaa-in-progress-adopt.c). */
static void
scope_adopt (KaaAdopter    *adopter,
             KaaInProgress *member)
{
  KaaScope *scope = G_STRUCT_MEMBER_P (adopter, -G_STRUCT_OFFSET (KaaScope, adopter));

  scope_add_member (scope, kaa_in_progress_ref (member), TRUE);
}

static void
scope_adopter_ref (KaaAdopter *adopter)
{
  kaa_scope_ref_internal (G_STRUCT_MEMBER_P (adopter, -G_STRUCT_OFFSET (KaaScope, adopter)));
}

static void
scope_adopter_unref (KaaAdopter *adopter)
{
  kaa_scope_unref_internal (G_STRUCT_MEMBER_P (adopter, -G_STRUCT_OFFSET (KaaScope, adopter)));
}

/* ------------------------------------------------------------ producer */

/* Owner thread, before the scope settles CANCELLED: its members go
 * first, so their cleanups have run when its awaiter hears of it. */
static void
scope_cancel (KaaProducer   *producer,
              KaaInProgress *self)
{
  kaa_scope_close ((KaaScope *) producer, FALSE);
}

static void
scope_pause_members (KaaScope *scope,
                     gboolean  pause)
{
  g_autoptr(GPtrArray) members =
    g_ptr_array_new_with_free_func ((GDestroyNotify) kaa_in_progress_unref);

  g_mutex_lock (&scope->lock);
  scope->paused = pause;
  for (GList *l = scope->members.head; l != NULL; l = l->next)
    {
      Member *m = l->data;

      /* Only the owner thread writes the flags: this one. */
      if (pause ? kaa_scheduler_is_owner (kaa_in_progress_get_scheduler (m->member)) : m->paused)
        {
          m->paused = pause;
          g_ptr_array_add (members, kaa_in_progress_ref (m->member));
        }
    }
  g_mutex_unlock (&scope->lock);
  for (guint i = 0; i < members->len; i++)
    (pause ? kaa_in_progress_pause : kaa_in_progress_resume) (members->pdata[i]);
}

/* DESIGN §6: a paused scope pauses its members, and its deadline keeps
 * the time it had left. */
static void
scope_pause (KaaProducer   *producer,
             KaaInProgress *self)
{
  KaaScope *scope = (KaaScope *) producer;

  kaa_scheduler_freeze_timer (scope->scheduler, &scope->timer);
  scope_pause_members (scope, TRUE);
}

static void
scope_resume (KaaProducer   *producer,
              KaaInProgress *self)
{
  KaaScope *scope = (KaaScope *) producer;

  scope_pause_members (scope, FALSE);
  kaa_scheduler_thaw_timer (scope->scheduler, &scope->timer);
}

/* Settled, on the thread that settled it. The timer and the binding are
 * the owner's to take back. */
static void
scope_release (KaaProducer *producer)
{
  KaaScope *scope = (KaaScope *) producer;

  kaa_death_watch_release (g_steal_pointer (&scope->death));
  if (kaa_scheduler_is_owner (scope->scheduler))
    {
      kaa_scope_unbind (scope);
      if (kaa_scheduler_remove_timer (scope->scheduler, &scope->timer))
        kaa_scope_unref_internal (scope);   /* the timer's */
    }
  else
    {
      scope->unbind.run = kaa_scope_unbind_run;
      kaa_scheduler_push_remote (scope->scheduler, &kaa_scope_ref_internal (scope)->unbind);
    }
  kaa_scope_unref_internal (scope);   /* the producer slot's */
}

/* Issue 19, for the live dump: the members not settled yet. */
static void
scope_describe (KaaProducer   *producer,
                KaaInProgress *in_progress,
                KaaDumpNode   *node)
{
  KaaScope *self = (KaaScope *) producer;

  kaa_dump_node_set_kind (node, "scope");
  g_mutex_lock (&self->lock);
  kaa_dump_node_set_state (node, "%s, %u members left", self->joined ? "joined" : "open",
                           self->members.length);
  for (GList *l = self->members.head; l != NULL; l = l->next)
    kaa_dump_node_add_awaited (node, ((Member *) l->data)->member);
  g_mutex_unlock (&self->lock);
}

static const KaaProducerOps scope_ops = {
  .cancel = scope_cancel,
  .pause = scope_pause,
  .resume = scope_resume,
  .release = scope_release,
  .describe = scope_describe,
  .kind = "scope",
};

/* ---------------------------------------------------------------- API */

/**
 * kaa_scope_new:
 * @flags: what a failing member does to the others
 *
 * Makes a task scope on the calling thread's thread-default context: it
 * owns the coroutines and thread jobs started in it, as a Trio nursery
 * or an asyncio `TaskGroup` does, and its InProgress
 * ([method@Kaa.Scope.join]) settles only once every one of them has.
 *
 * What is in a scope:
 *
 * - what [method@Kaa.Scope.spawn] starts, and any InProgress handed to
 *   [method@Kaa.Scope.add];
 * - everything a member coroutine starts in turn: the coroutines it
 *   spawns and the thread jobs it runs join the scope by themselves, so
 *   nothing started in a scope outlives it, fire-and-forget work
 *   included.
 *
 * By default the scope fails fast: the first member that fails cancels
 * the others, and the scope fails with its error once they have
 * unwound. A member that is cancelled on its own is not a failure. With
 * %KAA_SCOPE_COLLECT_ALL the others go on.
 *
 * Cancelling or pausing the scope reaches every member, also one that
 * something else awaits as well: a scope owns what is in it. A deadline
 * ([method@Kaa.Scope.set_timeout]) applies to everything inside it, and
 * [method@Kaa.Scope.bind] cancels it when an object is disposed.
 *
 * Dropping the last reference to a scope that was never joined cancels
 * it, so that
 * |[<!-- language="C" -->
 * g_autoptr(KaaScope) scope = kaa_scope_new (KAA_SCOPE_FAIL_FAST);
 * ]|
 * stops everything started in it on every way out of the block.
 *
 * Returns: (transfer full): a new scope
 * Since: 0.2
 */
KaaScope *
kaa_scope_new (KaaScopeFlags flags)
{
  KaaScope *scope;

  g_return_val_if_fail ((flags & ~KAA_SCOPE_COLLECT_ALL) == 0, NULL);

  scope = g_new0 (KaaScope, 1);
  kaa_ref_count_init (&scope->ref_count);        /* the users' */
  kaa_ref_count_inc (&scope->ref_count);         /* the producer slot's */
  scope->user_refs = 1;
  scope->producer.ops = &scope_ops;
  scope->adopter.adopt = scope_adopt;
  scope->adopter.ref = scope_adopter_ref;
  scope->adopter.unref = scope_adopter_unref;
  scope->flags = flags;
  scope->timer.fire = kaa_scope_timer_fire;
  g_mutex_init (&scope->lock);
  scope->self = kaa_in_progress_new ();
  kaa_in_progress_set_static_name (scope->self, "kaa_scope");
  scope->scheduler = kaa_scheduler_ref (kaa_in_progress_get_scheduler (scope->self));
  kaa_in_progress_set_producer (scope->self, &scope->producer);
  scope->death = kaa_death_watch_new (scope->self);
  return scope;
}

/**
 * kaa_scope_ref:
 * @self: a [struct@Kaa.Scope]
 *
 * Takes a reference. Any thread.
 *
 * Returns: (transfer full): @self
 * Since: 0.2
 */
KaaScope *
kaa_scope_ref (KaaScope *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (g_atomic_int_get (&self->user_refs) > 0, NULL);

  g_atomic_int_inc (&self->user_refs);
  return self;
}

/**
 * kaa_scope_unref:
 * @self: (transfer full): a [struct@Kaa.Scope]
 *
 * Drops a reference. The last one cancels the scope unless it was
 * joined ([method@Kaa.Scope.join]); either way its members go on being
 * owned until they have settled.
 *
 * Since: 0.2
 */
void
kaa_scope_unref (KaaScope *self)
{
  gboolean joined;

  g_return_if_fail (self != NULL);
  g_return_if_fail (g_atomic_int_get (&self->user_refs) > 0);

  if (!g_atomic_int_dec_and_test (&self->user_refs))
    return;
  g_mutex_lock (&self->lock);
  joined = self->joined;
  g_mutex_unlock (&self->lock);
  if (!joined)
    kaa_in_progress_cancel (self->self);
  kaa_scope_settle_if_done (self);
  kaa_scope_unref_internal (self);
}

/**
 * kaa_scope_add:
 * @self: a [struct@Kaa.Scope]
 * @member: (transfer full): the InProgress of work to own, such as a
 *   [func@Kaa.thread_run] job
 *
 * Makes @member part of @self: the scope waits for it, and cancels and
 * pauses it with itself. Any thread may add, while the scope has not
 * settled; a member added to a scope that is being cancelled is
 * cancelled at once. Adding to a scope that already finished is a
 * programming error: @member is cancelled rather than left unowned.
 *
 * Pausing reaches the members owned by the scope's own context; a
 * member of another context keeps running.
 *
 * Since: 0.2
 */
void
kaa_scope_add (KaaScope      *self,
               KaaInProgress *member)
{
  kaa_return_releasing_if_fail (self != NULL, member);
  g_return_if_fail (member != NULL);
  if (!kaa_in_progress_check_alive (member, G_STRFUNC))
    return;

  scope_add_member (self, member, FALSE);
}

/**
 * kaa_scope_spawn: (skip)
 * @self: a [struct@Kaa.Scope]
 * @func: (scope notified) (closure user_data) (destroy destroy): the body
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data when the body is done
 *
 * Starts a coroutine in @self, as [func@Kaa.Coroutine.spawn] would; it
 * and everything it starts belong to @self. To read its outcome, spawn
 * with [func@Kaa.Coroutine.spawn] and hand a reference to
 * [method@Kaa.Scope.add] instead.
 *
 * C only, as coroutines are.
 *
 * Since: 0.2
 */
void
kaa_scope_spawn (KaaScope         *self,
                 KaaCoroutineFunc  func,
                 gpointer          user_data,
                 GDestroyNotify    destroy)
{
  KaaCoroutineDef def = { .func = func };

  g_return_if_fail (self != NULL);
  g_return_if_fail (func != NULL);

  kaa_scope_spawn_def (self, &def, user_data, destroy);
}

/**
 * kaa_scope_spawn_def: (skip)
 * @self: a [struct@Kaa.Scope]
 * @def: the definition, as for [func@Kaa.Coroutine.spawn_def]
 * @user_data: data for the body
 * @destroy: (nullable): frees @user_data when the body is done
 *
 * Starts a call of @def in @self, as [method@Kaa.Scope.spawn] does.
 *
 * Since: 0.2
 */
void
kaa_scope_spawn_def (KaaScope              *self,
                     const KaaCoroutineDef *def,
                     gpointer               user_data,
                     GDestroyNotify         destroy)
{
  KaaInProgress *member;

  g_return_if_fail (self != NULL);
  g_return_if_fail (def != NULL && def->func != NULL);
  g_return_if_fail (def->policy <= KAA_POLICY_PASS_LAST);

  /* Handed to the scope as work of its own, not adopted: its failure
   * counts. Its body's spawns are adopted through the adopter. */
  member = kaa_coroutine_spawn_adopted (def, NULL, &self->adopter, user_data, destroy);
  scope_add_member (self, member, FALSE);
}

/**
 * kaa_scope_join:
 * @self: a [struct@Kaa.Scope]
 *
 * Says that no more work will be handed to @self from outside (its
 * members may still start more, and adding stays possible until it
 * settles) and returns its InProgress. It settles once every member has:
 *
 * - it finishes, with the number of members handed to it (spawned in
 *   it or added) as its int64 result, when none failed;
 * - it fails with the first member's error when one failed;
 * - it fails with `G_IO_ERROR_TIMED_OUT` when the deadline passed;
 * - it is cancelled with the scope.
 *
 * Cancelling or pausing it cancels or pauses the scope. Each call
 * returns a new reference to the same InProgress.
 *
 * Returns: (transfer full): the scope's InProgress
 * Since: 0.2
 */
KaaInProgress *
kaa_scope_join (KaaScope *self)
{
  kaa_return_failed_if_fail (self != NULL);

  g_mutex_lock (&self->lock);
  self->joined = TRUE;
  g_mutex_unlock (&self->lock);
  kaa_scope_settle_if_done (self);
  return kaa_in_progress_ref (self->self);
}

/**
 * kaa_scope_cancel:
 * @self: a [struct@Kaa.Scope]
 *
 * Cancels every member and then the scope, as cancelling its InProgress
 * does. Any thread.
 *
 * Since: 0.2
 */
void
kaa_scope_cancel (KaaScope *self)
{
  g_return_if_fail (self != NULL);

  kaa_in_progress_cancel (self->self);
}

/**
 * kaa_scope_pause:
 * @self: a [struct@Kaa.Scope]
 *
 * Pauses every member (see [method@Kaa.Scope.add] on members of other
 * contexts) and the deadline; members added meanwhile start paused.
 * Owner thread, as [method@Kaa.InProgress.pause].
 *
 * Since: 0.2
 */
void
kaa_scope_pause (KaaScope *self)
{
  g_return_if_fail (self != NULL);

  kaa_in_progress_pause (self->self);
}

/**
 * kaa_scope_resume:
 * @self: a paused [struct@Kaa.Scope]
 *
 * Undoes one [method@Kaa.Scope.pause].
 *
 * Since: 0.2
 */
void
kaa_scope_resume (KaaScope *self)
{
  g_return_if_fail (self != NULL);

  kaa_in_progress_resume (self->self);
}

/**
 * kaa_scope_get_n_pending:
 * @self: a [struct@Kaa.Scope]
 *
 * Tells how many members of @self are still pending.
 *
 * Returns: how many members have not settled yet
 * Since: 0.2
 */
guint
kaa_scope_get_n_pending (KaaScope *self)
{
  guint n;

  g_return_val_if_fail (self != NULL, 0);

  g_mutex_lock (&self->lock);
  n = self->members.length;
  g_mutex_unlock (&self->lock);
  return n;
}

/**
 * kaa_scope_dup_errors:
 * @self: a [struct@Kaa.Scope]
 *
 * The errors of the members that failed so far, in the order they
 * failed: with %KAA_SCOPE_COLLECT_ALL, all of them once the scope has
 * settled. Cancelled members are not in it.
 *
 * Returns: (transfer full) (element-type GError): copies of the errors
 * Since: 0.2
 */
GPtrArray *
kaa_scope_dup_errors (KaaScope *self)
{
  GPtrArray *errors = g_ptr_array_new_with_free_func ((GDestroyNotify) g_error_free);

  g_return_val_if_fail (self != NULL, errors);

  g_mutex_lock (&self->lock);
  for (guint i = 0; self->errors != NULL && i < self->errors->len; i++)
    g_ptr_array_add (errors, g_error_copy (self->errors->pdata[i]));
  g_mutex_unlock (&self->lock);
  return errors;
}
