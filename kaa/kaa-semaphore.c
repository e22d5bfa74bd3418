/* kaa-semaphore.c: a counting semaphore for coroutines, main-loop code and threads
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * DESIGN §9. A semaphore is shared by code on several contexts and
 * threads at once: a coroutine on the main loop, another on a worker's
 * context, a thread-pool job blocking for a permit. While nobody waits,
 * taking and releasing a permit is one compare-and-swap on a state word
 * (the count, and a bit saying that a line exists). The line itself is
 * guarded by a GMutex of the semaphore's own, and while it exists only
 * the lock's holder changes the count. That is the exception STYLE §6
 * allows for a synchronisation object: the lock is held for a few list
 * operations, never across a settle, a callback or an unref, which may
 * all re-enter the semaphore.
 *
 * A waiter is either an InProgress of the user-producer kind
 * (kaa_in_progress_new_full()), whose hooks take it out of line when it
 * is cancelled, skip it while it is paused and free it when it settles,
 * or a blocked thread (kaa_semaphore_acquire_wait()), which lives on
 * that thread's stack. The line holds a reference to every InProgress
 * in it, as a timer holds its sleep: an acquire settles whether or not
 * anyone holds it, so a callback connected to it is enough. One that
 * nobody could observe any more when its turn comes (the line's is its
 * only reference, and no callback is connected) is cancelled instead of
 * served, since nobody would ever give that permit back.
 *
 * Handing a permit out is a decision under the lock (the waiter leaves
 * the line, the count goes down) followed by a settle outside it. The
 * settle may lose to a cancel that another thread claimed meanwhile; the
 * permit then comes back and goes to the next waiter. So a permit is
 * always counted as available, as held by the user, or as in transit to
 * a waiter, and never two of these: a cancelled or paused waiter never
 * holds one. One thread at a time hands out (handing_out); a release
 * that finds another thread at it, or a callback of a settled waiter
 * that releases again, leaves its permit to that loop, which looks again
 * before it stops: the C stack stays flat however long the chain.
 */
#include "config.h"

#include "kaa-coroutine.h"
#include "kaa-semaphore-private.h"

/**
 * kaa_semaphore_ref:
 * @self: a [struct@Kaa.Semaphore]
 *
 * Takes a reference. Any thread.
 *
 * Returns: (transfer full): @self
 * Since: 0.2
 */
KaaSemaphore *
kaa_semaphore_ref (KaaSemaphore *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  kaa_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * kaa_semaphore_unref:
 * @self: (transfer full): a [struct@Kaa.Semaphore]
 *
 * Drops a reference. Every waiter holds one, so a semaphore with
 * waiters lives until they are served or give up. Any thread. Freeing
 * a semaphore while permits are held means that someone lost one (a
 * permit guard holds a reference): that is reported with a warning
 * naming it.
 *
 * Since: 0.2
 */
void
kaa_semaphore_unref (KaaSemaphore *self)
{
  guint available;

  g_return_if_fail (self != NULL);

  if (!kaa_ref_count_dec (&self->ref_count))
    return;
  g_assert (g_queue_is_empty (&self->waiters));
  available = KAA_SEMAPHORE_COUNT (g_atomic_int_get (&self->state));
  if (available != self->permits)
    {
      g_autofree char *what = kaa_semaphore_describe (self);

      g_warning ("%s freed with %u of its %u permits still held: a release was lost",
                 what, self->permits - available, self->permits);
    }
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_free (self->name);
  g_free (self);
}

G_DEFINE_BOXED_TYPE (KaaSemaphore, kaa_semaphore, kaa_semaphore_ref, kaa_semaphore_unref)

KaaSemaphore *
kaa_semaphore_new_internal (guint    permits,
                            gboolean is_mutex)
{
  KaaSemaphore *self = g_new0 (KaaSemaphore, 1);

  kaa_ref_count_init (&self->ref_count);
  self->permits = permits;
  self->is_mutex = is_mutex;
  self->state = (gint) permits;
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  g_queue_init (&self->waiters);
  return self;
}

/**
 * kaa_semaphore_new:
 * @permits: how many holders may hold a permit at once, at least 1 and
 *   below 2^30
 *
 * Creates a semaphore with @permits permits, all available.
 *
 * Returns: (transfer full): a new semaphore
 * Since: 0.2
 */
KaaSemaphore *
kaa_semaphore_new (guint permits)
{
  g_return_val_if_fail (permits > 0, NULL);
  g_return_val_if_fail (permits <= KAA_SEMAPHORE_MAX_PERMITS, NULL);

  return kaa_semaphore_new_internal (permits, FALSE);
}

/* For messages: what the semaphore is, with its name if it has one. */
char *
kaa_semaphore_describe (KaaSemaphore *self)
{
  const char *type = self->is_mutex ? "KaaMutex" : "KaaSemaphore";
  char *description;

  g_mutex_lock (&self->lock);
  if (self->name != NULL)
    description = g_strdup_printf ("%s '%s' (%p)", type, self->name, self);
  else
    description = g_strdup_printf ("%s (%p)", type, self);
  g_mutex_unlock (&self->lock);
  return description;
}

/**
 * kaa_semaphore_set_name:
 * @self: a [struct@Kaa.Semaphore]
 * @name: (nullable): a name for messages, or %NULL
 *
 * Names @self in the criticals that report its misuse. Any thread.
 *
 * Since: 0.2
 */
void
kaa_semaphore_set_name (KaaSemaphore *self,
                        const char   *name)
{
  char *old;

  g_return_if_fail (self != NULL);

  g_mutex_lock (&self->lock);
  old = self->name;
  self->name = g_strdup (name);
  g_mutex_unlock (&self->lock);
  g_free (old);
}

/**
 * kaa_semaphore_dup_name:
 * @self: a [struct@Kaa.Semaphore]
 *
 * Tells the name given with [method@Kaa.Semaphore.set_name].
 *
 * Returns: (transfer full) (nullable): a copy of the name, or %NULL
 * Since: 0.2
 */
char *
kaa_semaphore_dup_name (KaaSemaphore *self)
{
  char *name;

  g_return_val_if_fail (self != NULL, NULL);

  g_mutex_lock (&self->lock);
  name = g_strdup (self->name);
  g_mutex_unlock (&self->lock);
  return name;
}

/**
 * kaa_semaphore_get_permits:
 * @self: a [struct@Kaa.Semaphore]
 *
 * Tells how many permits @self was made with.
 *
 * Returns: the number of permits
 * Since: 0.2
 */
guint
kaa_semaphore_get_permits (KaaSemaphore *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->permits;
}

/**
 * kaa_semaphore_get_available:
 * @self: a [struct@Kaa.Semaphore]
 *
 * Tells how many permits nobody holds right now. Another thread may
 * change it at once: for tests and monitoring, not for deciding.
 *
 * Returns: the number of available permits
 * Since: 0.2
 */
guint
kaa_semaphore_get_available (KaaSemaphore *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return KAA_SEMAPHORE_COUNT (g_atomic_int_get (&self->state));
}

/**
 * kaa_semaphore_get_n_waiting:
 * @self: a [struct@Kaa.Semaphore]
 *
 * Tells how many waiters stand in line, paused ones included. Like
 * [method@Kaa.Semaphore.get_available], a snapshot.
 *
 * Returns: the number of waiters
 * Since: 0.2
 */
guint
kaa_semaphore_get_n_waiting (KaaSemaphore *self)
{
  guint n;

  g_return_val_if_fail (self != NULL, 0);

  g_mutex_lock (&self->lock);
  n = self->waiters.length;
  g_mutex_unlock (&self->lock);
  return n;
}

gboolean
kaa_semaphore_is_held (KaaSemaphore *self)
{
  return kaa_semaphore_get_available (self) < self->permits;
}

/* ------------------------------------------------------------ the line */

/* Only a mutex has an owner: a semaphore's paths skip the store, whose
 * full barrier would double the cost of an uncontended take. */
static inline void
semaphore_set_owner (KaaSemaphore  *self,
                     gconstpointer  owner)
{
  if (self->is_mutex)
    g_atomic_pointer_set (&self->owner, owner);
}

/* A newcomer never overtakes the line (FIFO), even a line of paused
 * waiters. The compare-and-swap is a full barrier: what the previous
 * holder did before its release happens before what the taker does. */
gboolean
kaa_semaphore_take (KaaSemaphore  *self,
                    gconstpointer  owner)
{
  gint state = g_atomic_int_get (&self->state);

  do
    {
      if ((state & KAA_SEMAPHORE_LINE) || KAA_SEMAPHORE_COUNT (state) == 0)
        return FALSE;
    }
  while (!g_atomic_int_compare_and_exchange_full (&self->state, state, state - 1, &state));
  semaphore_set_owner (self, owner);
  return TRUE;
}

/* Setting STATE_LINE in the swap that found no permit free (or the line
 * already there) keeps a lock-free release from slipping a permit past
 * the new waiter. A permit free behind a line of paused waiters is for
 * the newcomer: the caller hands out when this returns FALSE with a
 * count above zero. */
gboolean
kaa_semaphore_take_or_queue_unlocked (KaaSemaphore       *self,
                                      KaaSemaphoreWaiter *waiter)
{
  gint state = g_atomic_int_get (&self->state);

  for (;;)
    {
      if (!(state & KAA_SEMAPHORE_LINE) && KAA_SEMAPHORE_COUNT (state) > 0)
        {
          if (g_atomic_int_compare_and_exchange_full (&self->state, state, state - 1, &state))
            {
              semaphore_set_owner (self, waiter->owner);
              return TRUE;
            }
        }
      else if (g_atomic_int_compare_and_exchange_full (&self->state, state,
                                                       state | KAA_SEMAPHORE_LINE, &state))
        break;
    }
  waiter->queued = TRUE;
  if (waiter->in_progress != NULL)
    kaa_in_progress_ref (waiter->in_progress);   /* the line's */
  g_queue_push_tail_link (&self->waiters, &waiter->link);
  return FALSE;
}

/* Returns the line's reference, for the caller to drop once unlocked:
 * the last unref settles nothing, but runs the destroy hook, which
 * takes the lock. */
KaaInProgress *
kaa_semaphore_unqueue_unlocked (KaaSemaphoreWaiter *waiter)
{
  if (!waiter->queued)
    return NULL;
  g_queue_unlink (&waiter->semaphore->waiters, &waiter->link);
  waiter->queued = FALSE;
  /* The last one out lets the lock-free paths at the count again. */
  if (g_queue_is_empty (&waiter->semaphore->waiters))
    g_atomic_int_and (&waiter->semaphore->state, ~KAA_SEMAPHORE_LINE);
  return waiter->in_progress;
}

/* The oldest waiter that is not paused, out of line with a permit taken
 * for it; a blocked thread is served here and the search goes on. For an
 * InProgress, returns the line's reference to it, or NULL when the line
 * has no one to serve. */
static KaaInProgress *
semaphore_pop_unlocked (KaaSemaphore *self)
{
  GList *l = self->waiters.head;

  /* With STATE_LINE set, nobody but us changes the count. */
  while (l != NULL && KAA_SEMAPHORE_COUNT (g_atomic_int_get (&self->state)) > 0)
    {
      KaaSemaphoreWaiter *waiter = l->data;

      l = l->next;
      if (waiter->paused)
        continue;
      g_atomic_int_add (&self->state, -1);
      semaphore_set_owner (self, waiter->owner);
      if (waiter->in_progress != NULL)
        return kaa_semaphore_unqueue_unlocked (waiter);
      kaa_semaphore_unqueue_unlocked (waiter);
      waiter->granted = TRUE;
      g_cond_broadcast (&self->cond);
    }
  return NULL;
}

/* Unlocked. FALSE if @in_progress could not take the permit: a cancel
 * claimed it first (from another thread), or it is cancelled now
 * because nobody could ever see it served, or because its context is
 * dying: the sweep unwinds a holder (which releases) before it reaches
 * an older waiter, which must settle CANCELLED, holding nothing. */
static gboolean
semaphore_serve (KaaInProgress *in_progress)
{
  if (kaa_in_progress_is_unobserved (in_progress) ||
      kaa_scheduler_is_dead (kaa_in_progress_get_scheduler (in_progress)))
    {
      kaa_in_progress_cancel (in_progress);
      return FALSE;
    }
  return kaa_in_progress_try_finish_boolean (in_progress, TRUE);
}

/* Called with the lock held; returns with it released. The settle runs
 * unlocked: it runs the waiter's callbacks when this is its owner
 * thread, and they may release or acquire again. */
void
kaa_semaphore_hand_out_unlocked (KaaSemaphore *self)
{
  KaaInProgress *in_progress;

  if (self->handing_out)
    {
      g_mutex_unlock (&self->lock);
      return;
    }
  self->handing_out = TRUE;
  while ((in_progress = semaphore_pop_unlocked (self)) != NULL)
    {
      gboolean granted;

      g_mutex_unlock (&self->lock);
      granted = semaphore_serve (in_progress);
      kaa_in_progress_unref (in_progress);
      g_mutex_lock (&self->lock);
      if (!granted)
        {
          /* Not served: the permit is back, for the next one (or for a
           * lock-free taker, if the line emptied meanwhile). */
          semaphore_set_owner (self, NULL);
          g_atomic_int_add (&self->state, 1);
        }
    }
  self->handing_out = FALSE;
  g_mutex_unlock (&self->lock);
}

static gboolean
hand_out_later (gpointer data)
{
  KaaSemaphore *self = data;

  g_mutex_lock (&self->lock);
  kaa_semaphore_hand_out_unlocked (self);
  return G_SOURCE_REMOVE;
}

/* ------------------------------------------------------ waiter's hooks */

/* Owner thread, before @in_progress settles CANCELLED: out of line at
 * once. A hand-out that popped it already loses the settle and gives the
 * permit back. */
static void
waiter_cancel (KaaInProgress *in_progress,
               gpointer       data)
{
  KaaSemaphoreWaiter *waiter = data;
  KaaInProgress *line_ref;

  g_mutex_lock (&waiter->semaphore->lock);
  line_ref = kaa_semaphore_unqueue_unlocked (waiter);
  g_mutex_unlock (&waiter->semaphore->lock);
  /* Not the last reference: whoever cancels holds one. */
  g_clear_pointer (&line_ref, kaa_in_progress_unref);
}

/* A paused waiter keeps its place in line but is skipped: the permits
 * go to those behind it. */
static void
waiter_pause (KaaInProgress *in_progress,
              gpointer       data)
{
  KaaSemaphoreWaiter *waiter = data;

  g_mutex_lock (&waiter->semaphore->lock);
  waiter->paused = TRUE;
  g_mutex_unlock (&waiter->semaphore->lock);
}

/* Back in the running, from its old place. A permit that is free now
 * (nobody else wanted it) is handed out from the owner context's next
 * iteration, never inside the resume call (DESIGN §6). */
static void
waiter_resume (KaaInProgress *in_progress,
               gpointer       data)
{
  KaaSemaphoreWaiter *waiter = data;
  KaaSemaphore *self = waiter->semaphore;
  gboolean free_permit;

  g_mutex_lock (&self->lock);
  waiter->paused = FALSE;
  free_permit = waiter->queued && KAA_SEMAPHORE_COUNT (g_atomic_int_get (&self->state)) > 0;
  g_mutex_unlock (&self->lock);
  if (free_permit)
    {
      GSource *source = g_idle_source_new ();

      g_source_set_priority (source, G_PRIORITY_DEFAULT);
      g_source_set_static_name (source, "[kaa] semaphore hand-out");
      g_source_set_callback (source, hand_out_later, kaa_semaphore_ref (self),
                             (GDestroyNotify) kaa_semaphore_unref);
      g_source_attach (source, kaa_in_progress_get_context (in_progress));
      g_source_unref (source);
    }
}

/* Any thread, once @in_progress has settled. Still in line only if
 * someone finished it by hand (a misuse the settle reported already). */
static void
waiter_free (gpointer data)
{
  KaaSemaphoreWaiter *waiter = data;
  KaaSemaphore *self = waiter->semaphore;
  KaaInProgress *line_ref;

  g_mutex_lock (&self->lock);
  line_ref = kaa_semaphore_unqueue_unlocked (waiter);
  g_mutex_unlock (&self->lock);
  g_clear_pointer (&line_ref, kaa_in_progress_unref);
  g_free (waiter);
  kaa_semaphore_unref (self);
}

static const KaaProducerFuncs waiter_funcs = {
  .cancel = waiter_cancel,
  .pause = waiter_pause,
  .resume = waiter_resume,
};

/* --------------------------------------------------------------- acquire */

gconstpointer
kaa_semaphore_current_owner (void)
{
  KaaCoroutine *co = kaa_coroutine_self ();

  return co != NULL ? (gconstpointer) kaa_coroutine_get_in_progress (co) : NULL;
}

static KaaInProgress *
acquired_new (const char *name)
{
  KaaInProgress *in_progress = kaa_in_progress_new ();

  kaa_in_progress_set_static_name (in_progress, name);
  kaa_in_progress_finish_boolean (in_progress, TRUE);
  return in_progress;
}

KaaInProgress *
kaa_semaphore_acquire_for (KaaSemaphore  *self,
                           gconstpointer  owner,
                           const char    *name)
{
  KaaInProgress *in_progress;
  KaaSemaphoreWaiter *waiter;
  gboolean taken;

  if (kaa_semaphore_take (self, owner))
    return acquired_new (name);

  waiter = g_new0 (KaaSemaphoreWaiter, 1);
  waiter->semaphore = kaa_semaphore_ref (self);
  waiter->owner = owner;
  waiter->link.data = waiter;
  in_progress = kaa_in_progress_new_full (&waiter_funcs, waiter, waiter_free);
  kaa_in_progress_set_static_name (in_progress, name);
  waiter->in_progress = in_progress;

  g_mutex_lock (&self->lock);
  /* A permit may have come back while the waiter was being made. */
  taken = kaa_semaphore_take_or_queue_unlocked (self, waiter);
  if (!taken && KAA_SEMAPHORE_COUNT (g_atomic_int_get (&self->state)) > 0)
    kaa_semaphore_hand_out_unlocked (self);   /* a permit behind paused waiters */
  else
    g_mutex_unlock (&self->lock);
  if (taken)
    kaa_in_progress_finish_boolean (in_progress, TRUE);
  return in_progress;
}

/**
 * kaa_semaphore_try_acquire:
 * @self: a [struct@Kaa.Semaphore]
 *
 * Takes a permit if one is available and nobody waits for one: it never
 * overtakes the line. Never blocks, never allocates. Any thread.
 *
 * Returns: %TRUE if the caller now holds a permit, to give back with
 *   [method@Kaa.Semaphore.release]
 * Since: 0.2
 */
gboolean
kaa_semaphore_try_acquire (KaaSemaphore *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return kaa_semaphore_take (self, NULL);
}

/**
 * kaa_semaphore_acquire:
 * @self: a [struct@Kaa.Semaphore]
 *
 * Asks for a permit. The returned InProgress finishes (with %TRUE) once
 * the permit is the caller's, who then gives it back with
 * [method@Kaa.Semaphore.release]; it is already finished when a permit
 * was available and nobody waited. Waiters are served in the order they
 * asked.
 *
 * Cancelling the InProgress takes it out of line: a cancelled waiter
 * never holds a permit. Pausing it keeps its place in line but skips it
 * while paused: the permits go to those behind it (or to the next one
 * who comes), and it is served again, from its old place, once resumed. An InProgress that finished
 * before a cancel or a pause reached it holds its permit: the state of
 * the InProgress always says whether the caller holds one. When its
 * context dies (DESIGN §3) it settles cancelled, holding nothing.
 *
 * Like every InProgress, it settles whether or not anyone holds it, so
 * connecting a callback and dropping the reference is enough. But an
 * acquire that nobody holds or listens to any more when its turn comes
 * is cancelled instead of served: nobody could give that permit back.
 *
 * In a coroutine, kaa_semaphore_await() is simpler and cannot
 * leak the permit.
 *
 * Returns: (transfer full): a new InProgress
 * Since: 0.2
 */
KaaInProgress *
kaa_semaphore_acquire (KaaSemaphore *self)
{
  kaa_return_failed_if_fail (self != NULL);

  return kaa_semaphore_acquire_for (self, NULL, "kaa_semaphore_acquire");
}

/* --------------------------------------------------------------- release */

static void
release_refused (KaaSemaphore *self,
                 gboolean      not_held,
                 const char   *function)
{
  g_autofree char *what = kaa_semaphore_describe (self);

  if (not_held)
    g_critical ("%s: %s was released more often than it was acquired; "
                "the release is ignored", function, what);
  else
    g_critical ("%s: %s is held by another coroutine (or by code outside coroutines) "
                "than the caller; it stays locked", function, what);
}

/* With a line, the lock's holder adds the permit and hands it out. */
static void
release_to_line (KaaSemaphore *self,
                 const char   *function)
{
  g_mutex_lock (&self->lock);
  if (KAA_SEMAPHORE_COUNT (g_atomic_int_get (&self->state)) == self->permits)
    {
      g_mutex_unlock (&self->lock);
      release_refused (self, TRUE, function);
      return;
    }
  semaphore_set_owner (self, NULL);
  g_atomic_int_add (&self->state, 1);
  kaa_semaphore_hand_out_unlocked (self);
}

/* A release is refused with a critical when nobody holds a permit, or,
 * for a mutex, when the caller is not its holder: never a count past
 * the permits, which would let more holders in than allowed. Without a
 * line it is one compare-and-swap. A holder's owner does not change
 * while it holds, so it is checked once. */
void
kaa_semaphore_release_for (KaaSemaphore  *self,
                           gconstpointer  owner,
                           const char    *function)
{
  gint state = g_atomic_int_get (&self->state);

  if (self->is_mutex && KAA_SEMAPHORE_COUNT (state) < self->permits &&
      g_atomic_pointer_get (&self->owner) != owner)
    {
      release_refused (self, FALSE, function);
      return;
    }
  for (;;)
    {
      if (KAA_SEMAPHORE_COUNT (state) == self->permits)
        {
          release_refused (self, TRUE, function);
          return;
        }
      if (state & KAA_SEMAPHORE_LINE)
        {
          release_to_line (self, function);
          return;
        }
      /* Cleared before the permit is free: the next taker sets its own. */
      semaphore_set_owner (self, NULL);
      if (g_atomic_int_compare_and_exchange_full (&self->state, state, state + 1, &state))
        return;
    }
}

/**
 * kaa_semaphore_release:
 * @self: a [struct@Kaa.Semaphore]
 *
 * Gives a permit back, to the oldest waiter that is not paused, if any.
 * Any thread. Releasing more permits than were acquired is a programming
 * error, reported with a critical naming @self; the count never goes
 * past [method@Kaa.Semaphore.get_permits].
 *
 * Since: 0.2
 */
void
kaa_semaphore_release (KaaSemaphore *self)
{
  g_return_if_fail (self != NULL);

  kaa_semaphore_release_for (self, NULL, G_STRFUNC);
}
