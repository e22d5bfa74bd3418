/* kaa-coroutine-policy.c: SYNCHRONIZED, SINGLETON and PASS_LAST calls
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A policy decides what a call of a definition does while earlier calls
 * are unfinished. Its state lives in a Scope, one per (group or
 * definition, instance), made by the first call and dropped as soon as
 * no call of it is running, queued or watched: an idle definition costs
 * nothing, and a Scope keeps its GObject instance alive only while calls
 * made for it are unfinished, so the state goes away with the object.
 *
 * Calls may come from any thread, so the scopes sit under one lock. It is
 * never held while calling out: bodies, destroy notifies and InProgress
 * operations run after it is dropped.
 *
 * Every call's InProgress is watched: when it settles, a SINGLETON or
 * PASS_LAST scope forgets it, and a SYNCHRONIZED scope starts the next
 * queued call, or forgets a queued one that was cancelled. The next call
 * starts from its scheduler, not inside the settling call, so that a
 * long queue of calls finishing at once never recurses.
 *
 * A queued call belongs to the context it was made on (issue #17): it is
 * tracked there, so that it is cancelled and leaves the queue when that
 * context dies, and it ends there, through its runnable, whichever thread
 * takes it out of the queue. A thread that does not own that context has
 * none pushed, so its calls are the global default context's, which never
 * dies: only the owner's calls need tracking.
 */
#include "config.h"

#include "kaa-coroutine-private.h"

typedef struct
{
  gconstpointer   key;        /* the group, or the definition */
  GObject        *instance;   /* owned, or NULL */
  KaaInProgress  *current;    /* owned: running, or PASS_LAST's last */
  GQueue          waiting;    /* SYNCHRONIZED: Calls not yet started */
  guint           n_watched;  /* InProgresses whose watch may still run */
} Scope;

typedef struct
{
  KaaRunnable            runnable;     /* its turn, or its end */
  KaaMortal              mortal;       /* owner thread: tracked while queued */
  const KaaCoroutineDef *def;
  KaaInProgress         *in_progress;  /* owned */
  gpointer               user_data;
  GDestroyNotify         destroy;
} Call;

typedef struct
{
  Scope         *scope;
  KaaInProgress *in_progress;  /* not owned: the one watched */
} Watch;

static GMutex      scopes_lock;
static GHashTable *scopes;   /* Scope → itself, hashed on key and instance */

static guint
scope_hash (gconstpointer data)
{
  const Scope *scope = data;

  return g_direct_hash (scope->key) ^ g_direct_hash (scope->instance);
}

static gboolean
scope_equal (gconstpointer a,
             gconstpointer b)
{
  const Scope *x = a, *y = b;

  return x->key == y->key && x->instance == y->instance;
}

/* Under scopes_lock. */
static Scope *
scope_get_unlocked (gconstpointer key,
                    GObject      *instance)
{
  Scope lookup = { .key = key, .instance = instance };
  Scope *scope;

  if (scopes == NULL)
    scopes = g_hash_table_new (scope_hash, scope_equal);
  scope = g_hash_table_lookup (scopes, &lookup);
  if (scope == NULL)
    {
      scope = g_new0 (Scope, 1);
      scope->key = key;
      scope->instance = instance != NULL ? g_object_ref (instance) : NULL;
      g_queue_init (&scope->waiting);
      g_hash_table_add (scopes, scope);
    }
  return scope;
}

/* Under scopes_lock: takes an idle scope out of the table; the caller
 * frees it once the lock is dropped (its instance may run a finalizer). */
static Scope *
scope_steal_if_idle_unlocked (Scope *scope)
{
  if (scope->current != NULL || scope->waiting.length > 0 || scope->n_watched > 0)
    return NULL;
  g_hash_table_remove (scopes, scope);
  return scope;
}

static void
scope_free (Scope *scope)
{
  if (scope == NULL)
    return;
  g_clear_object (&scope->instance);
  g_free (scope);
}

static void
call_free (Call *call)
{
  if (call->destroy != NULL)
    call->destroy (call->user_data);
  kaa_in_progress_unref (call->in_progress);
  g_free (call);
}

static KaaScheduler *
call_scheduler (Call *call)
{
  return kaa_in_progress_get_scheduler (call->in_progress);
}

/* The owner runs a queued SYNCHRONIZED call whose turn came, or ends one
 * that left the queue cancelled. A dead context cancels it. */
static void
call_start (KaaRunnable *runnable,
            gboolean     discard)
{
  Call *call = (Call *) runnable;

  kaa_scheduler_untrack (call_scheduler (call), &call->mortal);
  if (discard)
    kaa_in_progress_cancel (call->in_progress);
  if (!kaa_in_progress_is_done (call->in_progress))
    {
      kaa_coroutine_start (call->def, call->in_progress, call->user_data, call->destroy, NULL);
      call->destroy = NULL;
    }
  call_free (call);
}

/* Out of the queue, cancelled: its data goes now, the call itself on its
 * owner thread, where it may be tracked. */
static void
call_drop (Call *call)
{
  GDestroyNotify destroy = g_steal_pointer (&call->destroy);

  if (destroy != NULL)
    destroy (call->user_data);
  kaa_scheduler_push_remote (call_scheduler (call), &call->runnable);
}

/* Its context died while it waited: cancelled, its watch takes it out of
 * the queue. */
static void
call_die (KaaMortal *mortal)
{
  Call *call = G_STRUCT_MEMBER_P (mortal, -G_STRUCT_OFFSET (Call, mortal));

  kaa_in_progress_cancel (call->in_progress);
}

static void watch_settled (KaaInProgress *in_progress,
                           gpointer       data);

static void
watch_free (gpointer data)
{
  Watch *watch = data;
  Scope *idle;

  g_mutex_lock (&scopes_lock);
  watch->scope->n_watched--;
  idle = scope_steal_if_idle_unlocked (watch->scope);
  g_mutex_unlock (&scopes_lock);
  scope_free (idle);
  g_free (watch);
}

/* Under scopes_lock: the scope learns when @in_progress settles. */
static void
watch_unlocked (Scope         *scope,
                KaaInProgress *in_progress,
                Watch        **out)
{
  Watch *watch = g_new (Watch, 1);

  watch->scope = scope;
  watch->in_progress = in_progress;
  scope->n_watched++;
  *out = watch;
}

static void
watch_connect (Watch *watch)
{
  kaa_in_progress_connect (watch->in_progress, watch_settled, watch, watch_free);
}

/* Under scopes_lock: the first queued call that was not cancelled. Those
 * cancelled from another thread whose watch has not run yet go to
 * @dropped; their watch will find nothing left to do. */
static Call *
scope_pop_waiting_unlocked (Scope   *scope,
                            GSList **dropped)
{
  Call *call;

  while ((call = g_queue_pop_head (&scope->waiting)) != NULL)
    {
      if (!kaa_in_progress_is_done (call->in_progress))
        return call;
      *dropped = g_slist_prepend (*dropped, call);
    }
  return NULL;
}

static void
watch_settled (KaaInProgress *in_progress,
               gpointer       data)
{
  Watch *watch = data;
  Scope *scope = watch->scope;
  Call *next = NULL;
  GSList *dropped = NULL;
  KaaInProgress *was_current = NULL;

  g_mutex_lock (&scopes_lock);
  if (scope->current == in_progress)
    {
      was_current = g_steal_pointer (&scope->current);
      next = scope_pop_waiting_unlocked (scope, &dropped);
      if (next != NULL)
        scope->current = kaa_in_progress_ref (next->in_progress);
    }
  else
    {
      /* A queued SYNCHRONIZED call, cancelled before its turn. */
      for (GList *l = scope->waiting.head; l != NULL; l = l->next)
        if (((Call *) l->data)->in_progress == in_progress)
          {
            dropped = g_slist_prepend (dropped, l->data);
            g_queue_delete_link (&scope->waiting, l);
            break;
          }
    }
  g_mutex_unlock (&scopes_lock);

  if (next != NULL)
    kaa_scheduler_push_remote (call_scheduler (next), &next->runnable);
  for (GSList *l = dropped; l != NULL; l = l->next)
    call_drop (l->data);
  g_slist_free (dropped);
  g_clear_pointer (&was_current, kaa_in_progress_unref);
}

static Call *
call_new (const KaaCoroutineDef *def,
          KaaInProgress         *ip,
          gpointer               user_data,
          GDestroyNotify         destroy)
{
  Call *call = g_new0 (Call, 1);

  call->runnable.run = call_start;
  call->def = def;
  call->in_progress = kaa_in_progress_ref (ip);
  call->user_data = user_data;
  call->destroy = destroy;
  call->mortal.die = call_die;
  return call;
}

/* Under scopes_lock: what the policy makes of a new call @ip. Returns the
 * call queued behind the running one (SYNCHRONIZED), or NULL; sets
 * *@shared to the running call that answers for it (SINGLETON), and
 * *@last to the one it takes over from (PASS_LAST). */
static Call *
scope_admit_unlocked (Scope                 *scope,
                      const KaaCoroutineDef *def,
                      KaaInProgress         *ip,
                      gpointer               user_data,
                      GDestroyNotify         destroy,
                      KaaInProgress        **shared,
                      KaaInProgress        **last)
{
  Call *queued;

  switch (def->policy)
    {
    case KAA_POLICY_SINGLETON:
      if (scope->current != NULL)
        {
          *shared = kaa_in_progress_ref (scope->current);
          return NULL;
        }
      break;
    case KAA_POLICY_PASS_LAST:
      *last = g_steal_pointer (&scope->current);
      break;
    case KAA_POLICY_SYNCHRONIZED:
    default:
      if (scope->current != NULL)
        {
          queued = call_new (def, ip, user_data, destroy);
          g_queue_push_tail (&scope->waiting, queued);
          return queued;
        }
      break;
    }
  scope->current = kaa_in_progress_ref (ip);
  return NULL;
}

KaaInProgress *
kaa_coroutine_policy_call (const KaaCoroutineDef *def,
                           gpointer               instance,
                           gpointer               user_data,
                           GDestroyNotify         destroy)
{
  gconstpointer key = def->group != NULL ? (gconstpointer) def->group : def;
  KaaInProgress *ip, *last = NULL, *shared = NULL;
  Watch *watch = NULL;
  Call *queued = NULL;
  gboolean owner;
  Scope *scope;

  ip = kaa_in_progress_new ();
  owner = kaa_scheduler_is_owner (kaa_in_progress_get_scheduler (ip));
  g_mutex_lock (&scopes_lock);
  scope = scope_get_unlocked (key, instance);
  queued = scope_admit_unlocked (scope, def, ip, user_data, destroy, &shared, &last);
  if (shared == NULL)
    watch_unlocked (scope, ip, &watch);
  g_mutex_unlock (&scopes_lock);

  if (shared != NULL)
    {
      /* The running call answers for this one too. */
      if (destroy != NULL)
        destroy (user_data);
      kaa_in_progress_unref (ip);
      return shared;
    }
  watch_connect (watch);
  if (queued == NULL)
    kaa_coroutine_start (def, ip, user_data, destroy, last);
  else
    {
      /* Out of the lock, it may have been taken out of the queue
       * already; its end is a runnable of this very thread, still to
       * come, which untracks it. */
      if (owner)
        kaa_scheduler_track (kaa_in_progress_get_scheduler (ip), &queued->mortal);
      g_clear_pointer (&last, kaa_in_progress_unref);
    }
  return ip;
}
