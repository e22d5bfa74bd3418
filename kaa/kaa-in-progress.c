/* kaa-in-progress.c: the future type
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * KaaInProgress: a result that is not there yet. It settles exactly once,
 * as FINISHED (with a typed result), FAILED (with a GError) or CANCELLED.
 *
 * Threads: the owner is the scheduler of the context that was
 * thread-default at creation. Any thread may settle, cancel or connect;
 * callbacks run only on the owner, which is also the only thread that
 * unlinks or frees callback nodes. That split keeps every path lock-free:
 *
 *  - `state` is claimed with one CAS (PENDING → SETTLING or CANCELLING);
 *    the winner writes the result, then publishes the final state. GLib's
 *    atomics are full barriers, so a reader that sees a final state sees
 *    the result.
 *  - `callbacks` is a stack that any thread may push onto; the owner
 *    drains it into a list of its own to deliver or disconnect
 *    (kaa-in-progress-callbacks.c).
 *  - Work that must happen on the owner (delivery after a cross-thread
 *    settle or a late connect, a cross-thread cancel) is one embedded
 *    runnable, queued at most once at a time (FLAG_QUEUED).
 *
 * A settler checks `callbacks` after publishing the state; a connector
 * checks the state after pushing. Whichever goes second sees the other,
 * so no callback is ever stranded.
 */
#include "config.h"

#include "kaa-alloc-private.h"
#include "kaa-live-private.h"

#include "kaa-i18n-private.h"
#include "kaa-error.h"
#include "kaa-in-progress-impl-private.h"
#include "kaa-progress-private.h"

G_DEFINE_BOXED_TYPE (KaaInProgress, kaa_in_progress,
                     kaa_in_progress_ref, kaa_in_progress_unref)

static void in_progress_run (KaaRunnable *runnable, gboolean discard);

/**
 * kaa_in_progress_new:
 *
 * Creates a pending InProgress owned by the calling thread's
 * thread-default #GMainContext: its callbacks will run there.
 *
 * Returns: (transfer full): a new InProgress
 * Since: 0.1
 */
KaaInProgress *
kaa_in_progress_new (void)
{
  return kaa_in_progress_new_for_scheduler (kaa_scheduler_get_thread_default ());
}

/* Inlined as before issue 19, whose tracking call would tip GCC against. */
static G_ALWAYS_INLINE inline KaaInProgress *
in_progress_init (KaaInProgress *self,
                  KaaScheduler  *scheduler)
{
  kaa_ref_count_init (&self->ref_count);
  kaa_live_add (KAA_LIVE_IN_PROGRESS, 1);
  self->scheduler = kaa_scheduler_ref (scheduler);
  self->runnable.run = in_progress_run;
  kaa_in_progress_init_callbacks (self);
  if (G_UNLIKELY (kaa_debug_get () & KAA_DEBUG_TRACK_ALL))
    kaa_in_progress_track (self);
  return self;
}

KaaInProgress *
kaa_in_progress_new_for_scheduler (KaaScheduler *scheduler)
{
  /* From the thread's spare blocks (issue #20): a spawn and await makes
   * and frees one a moment apart. */
  KaaInProgress *self = kaa_spare_alloc0 (KAA_SPARE_IN_PROGRESS, sizeof (KaaInProgress));

  /* Not shared yet: no atomic needed. */
  self->flags = FLAG_SPARE_BLOCK;
  return in_progress_init (self, scheduler);
}

/* The producer's part follows the InProgress; finalize frees the whole
 * block. */
#define PRODUCER_OFFSET KAA_ALLOC_TAIL_OFFSET (sizeof (KaaInProgress))

KaaInProgress *
kaa_in_progress_new_with_producer (gsize     producer_size,
                                   gpointer *producer)
{
  KaaInProgress *self = kaa_alloc0 (PRODUCER_OFFSET + producer_size);

  *producer = (guint8 *) self + PRODUCER_OFFSET;
  return in_progress_init (self, kaa_scheduler_get_thread_default ());
}

/* A block from the producer's own allocator starts with the function that
 * gives it back, padded so that the InProgress stays 16-byte aligned. */
#define BLOCK_HEADER KAA_ALLOC_TAIL_OFFSET (sizeof (GDestroyNotify))

gsize
kaa_in_progress_block_size (gsize producer_size)
{
  return BLOCK_HEADER + PRODUCER_OFFSET + producer_size;
}

KaaInProgress *
kaa_in_progress_new_in_block (gpointer       block,
                              GDestroyNotify free_block,
                              gpointer      *producer)
{
  /* Through a void pointer: the header keeps the InProgress aligned. */
  KaaInProgress *self = (gpointer) ((guint8 *) block + BLOCK_HEADER);

  *(GDestroyNotify *) block = free_block;
  *producer = (guint8 *) self + PRODUCER_OFFSET;
  /* Not shared yet: no atomic needed. */
  self->flags = FLAG_OWN_BLOCK;
  return in_progress_init (self, kaa_scheduler_get_thread_default ());
}

/**
 * kaa_in_progress_new_for_error:
 * @error: the error to fail with
 *
 * Creates an InProgress that has already failed with a copy of @error.
 *
 * Returns: (transfer full): a new, failed InProgress
 * Since: 0.1
 */
KaaInProgress *
kaa_in_progress_new_for_error (const GError *error)
{
  KaaInProgress *self;

  g_return_val_if_fail (error != NULL,
                        kaa_in_progress_new_invalid_argument (G_STRFUNC, "error != NULL"));

  self = kaa_in_progress_new ();
  kaa_in_progress_fail (self, g_error_copy (error));
  return self;
}

GError *
kaa_invalid_argument_error_new (const char *function,
                                const char *expression)
{
  return g_error_new (KAA_ERROR, KAA_ERROR_INVALID_ARGUMENT,
                      _("%s was called with an invalid argument (the check “%s” failed)"),
                      function, expression);
}

KaaInProgress *
kaa_in_progress_new_invalid_argument (const char *function,
                                      const char *expression)
{
  KaaInProgress *self = kaa_in_progress_new ();

  /* The critical already told the developer; no second warning at release. */
  g_atomic_int_or (&self->flags, FLAG_ERROR_SEEN);
  kaa_in_progress_fail (self, kaa_invalid_argument_error_new (function, expression));
  return self;
}

/**
 * kaa_in_progress_ref:
 * @self: a [struct@Kaa.InProgress]
 *
 * Takes a reference. Any thread.
 *
 * Returns: (transfer full): @self
 * Since: 0.1
 */
KaaInProgress *
kaa_in_progress_ref (KaaInProgress *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (G_UNLIKELY (kaa_ref_count_inc_checked (&self->ref_count) <= 0))
    {
      /* Undone, so that the next use is caught as well. */
      __atomic_fetch_sub (&self->ref_count, 1, __ATOMIC_RELAXED);
      kaa_in_progress_report_freed (self, G_STRFUNC);
    }
  return self;
}

/* Returns the source of a forwarded result, whose reference the caller
 * drops: see kaa_in_progress_unref(). */
static KaaInProgress *
clear_result (KaaInProgress *self)
{
  if (self->outcome.kind == KAA_OUTCOME_FORWARD)
    return self->outcome.v.v_pointer;
  kaa_outcome_clear (&self->outcome);
  return NULL;
}

/* The memory of @self, after finalize or at the end of its quarantine. */
static inline void
in_progress_free_block (KaaInProgress *self)
{
  gint flags = g_atomic_int_get (&self->flags);

  if (flags & FLAG_SPARE_BLOCK)
    kaa_spare_free (KAA_SPARE_IN_PROGRESS, self, sizeof (KaaInProgress));
  else if (flags & FLAG_OWN_BLOCK)
    {
      gpointer block = (guint8 *) self - BLOCK_HEADER;

      (*(GDestroyNotify *) block) (block);
    }
  else
    g_free (self);
}

static KaaInProgress *
in_progress_finalize (KaaInProgress *self)
{
  KaaInProgress *source;

  /* Only an InProgress made after tracking began can be tracked. */
  if (G_UNLIKELY (kaa_debug_get () & KAA_DEBUG_TRACK_ALL))
    kaa_in_progress_finalize_tracked (self);
  else if (g_atomic_int_get (&self->state) == KAA_STATE_FAILED &&
           !(g_atomic_int_get (&self->flags) & FLAG_ERROR_SEEN))
    kaa_in_progress_warn_unhandled (self);

  kaa_in_progress_release_producer (self);
  /* Most have none left by now: no call for them. */
  if (self->callbacks != NULL || self->pending.next != &self->pending || self->index != NULL)
    kaa_in_progress_free_callbacks (self);
  source = clear_result (self);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->progress, kaa_progress_free);
  kaa_scheduler_unref (self->scheduler);
  kaa_live_add (KAA_LIVE_IN_PROGRESS, -1);
  if (G_UNLIKELY (kaa_debug_flags & KAA_DEBUG_REFS))
    {
      kaa_in_progress_quarantine (self);
      return source;
    }

  /* The tombstone: until malloc hands the memory out again, a late ref
   * or unref finds a negative count, a late finish a state it cannot
   * claim, and both a static name to report. */
  if (self->owned_name != NULL)
    self->name = NULL;
  g_free (self->owned_name);
  __atomic_store_n (&self->ref_count, KAA_REF_COUNT_FREED, __ATOMIC_RELAXED);
  __atomic_store_n (&self->state, STATE_FREED, __ATOMIC_RELAXED);
  in_progress_free_block (self);
  return source;
}

void
kaa_in_progress_free_block (KaaInProgress *self)
{
  in_progress_free_block (self);
}

/* DESIGN §2: whatever awaits @self holds a reference to it, so a last
 * unref while it is awaited was one too many. Named, and the awaiters
 * get their references back: the work goes on, and they release it as
 * they would have. */
static G_NO_INLINE gboolean
in_progress_unref_awaited (KaaInProgress *self)
{
  gint awaiters = g_atomic_int_get (&self->n_awaiters);

  if (awaiters <= 0)
    return FALSE;
  __atomic_store_n (&self->ref_count, awaiters, __ATOMIC_RELAXED);
  g_critical ("kaa_in_progress_unref: InProgress %s (%p) lost its last reference while "
              "something still awaits it: this is an unref too many (whatever waits on an "
              "InProgress takes the reference it is given)",
              in_progress_name (self), self);
  return TRUE;
}

/**
 * kaa_in_progress_unref:
 * @self: (transfer full): a [struct@Kaa.InProgress]
 *
 * Drops a reference. Any thread. Releasing the last reference to an
 * InProgress that failed without anyone seeing its error (a getter, a
 * wait, a callback) logs one warning naming it.
 *
 * An unref too many, or any use after the last unref, logs a critical
 * naming the InProgress instead of corrupting memory, as long as the
 * memory was not handed out again meanwhile. With `KAA_DEBUG=refs` in
 * the environment, freed InProgresses are kept (poisoned, in a bounded
 * FIFO of the last few thousand) so that such a late use is always caught
 * and named. A last unref while something still awaits @self (which holds
 * the reference it was given) is one too many as well: it is named, and
 * the awaiters keep their references, so their work goes on.
 *
 * Since: 0.1
 */
void
kaa_in_progress_unref (KaaInProgress *self)
{
  g_return_if_fail (self != NULL);

  /* A finish_from chain forwards results: freeing its last link frees
   * the sources one after another, in a loop (DESIGN §6, flat). */
  while (self != NULL)
    {
      gint old = kaa_ref_count_dec_checked (&self->ref_count);

      if (G_LIKELY (old > 1))
        return;
      if (G_UNLIKELY (old < 1))
        {
          /* Undone, so that the next use is caught as well. */
          __atomic_fetch_add (&self->ref_count, 1, __ATOMIC_RELAXED);
          kaa_in_progress_report_freed (self, G_STRFUNC);
          return;
        }
      if (G_UNLIKELY (g_atomic_int_get (&self->n_awaiters) > 0) &&
          in_progress_unref_awaited (self))
        return;
      self = in_progress_finalize (self);
    }
}

/**
 * kaa_in_progress_set_name:
 * @self: a [struct@Kaa.InProgress]
 * @name: (nullable): a name for debugging messages
 *
 * Names @self in warnings, such as the one for an unhandled failure.
 * Call it before sharing @self with other threads.
 *
 * Since: 0.1
 */
void
kaa_in_progress_set_name (KaaInProgress *self,
                          const char    *name)
{
  char *old_name;

  g_return_if_fail (self != NULL);
  in_progress_return_if_freed (self);

  /* Copied before the old name goes: @name may be it
   * (`set_name (ip, get_name (ip))`). */
  old_name = self->owned_name;
  self->name = self->owned_name = g_strdup (name);
  g_free (old_name);
}

/**
 * kaa_in_progress_set_static_name:
 * @self: a [struct@Kaa.InProgress]
 * @name: (nullable): a name for debugging messages, a string that lives
 *   as long as the program (a literal)
 *
 * [method@Kaa.InProgress.set_name] without the copy, as
 * g_source_set_static_name() is for a #GSource: naming every InProgress
 * of a hot path then costs no allocation.
 *
 * Since: 0.1
 */
void
kaa_in_progress_set_static_name (KaaInProgress *self,
                                 const char    *name)
{
  g_return_if_fail (self != NULL);
  in_progress_return_if_freed (self);

  g_clear_pointer (&self->owned_name, g_free);
  self->name = name;
}

/**
 * kaa_in_progress_get_name:
 * @self: a [struct@Kaa.InProgress]
 *
 * Tells the name @self has in debugging messages.
 *
 * Returns: (nullable): the name set with [method@Kaa.InProgress.set_name]
 * Since: 0.1
 */
const char *
kaa_in_progress_get_name (KaaInProgress *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  in_progress_return_val_if_freed (self, NULL);

  return self->name;
}

/**
 * kaa_in_progress_get_context:
 * @self: a [struct@Kaa.InProgress]
 *
 * The owner context: callbacks of @self run there. An InProgress may
 * outlive its context (a reference kept after the context's last unref):
 * once that context has been finalized, this returns %NULL.
 *
 * Returns: (transfer none) (nullable): the owner #GMainContext, or %NULL
 *   once it has been finalized
 * Since: 0.1
 */
GMainContext *
kaa_in_progress_get_context (KaaInProgress *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  in_progress_return_val_if_freed (self, NULL);

  if (kaa_scheduler_is_dead (self->scheduler))
    return NULL;
  return kaa_scheduler_get_context (self->scheduler);
}

/**
 * kaa_in_progress_get_state:
 * @self: a [struct@Kaa.InProgress]
 *
 * The current state. Any thread. A cancel requested from another thread
 * reads as pending until the owner context has carried it out.
 *
 * Returns: the state
 * Since: 0.1
 */
KaaState
kaa_in_progress_get_state (KaaInProgress *self)
{
  gint state;

  g_return_val_if_fail (self != NULL, KAA_STATE_PENDING);
  in_progress_return_val_if_freed (self, KAA_STATE_PENDING);

  state = g_atomic_int_get (&self->state);
  return state_is_final (state) ? (KaaState) state : KAA_STATE_PENDING;
}

/**
 * kaa_in_progress_is_done:
 * @self: a [struct@Kaa.InProgress]
 *
 * Tells whether @self has settled. Any thread.
 *
 * Returns: %TRUE once @self is finished, failed or cancelled
 * Since: 0.1
 */
gboolean
kaa_in_progress_is_done (KaaInProgress *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  /* Freed, it will never change again: a loop waiting for it ends. */
  in_progress_return_val_if_freed (self, TRUE);

  return in_progress_is_final (self);
}

KaaScheduler *
kaa_in_progress_get_scheduler (KaaInProgress *self)
{
  return self->scheduler;
}

void
kaa_in_progress_mark_error_seen (KaaInProgress *self)
{
  g_atomic_int_or (&self->flags, FLAG_ERROR_SEEN);
}

gboolean
kaa_in_progress_is_pending (KaaInProgress *self)
{
  return g_atomic_int_get (&self->state) == KAA_STATE_PENDING;
}

gboolean
kaa_in_progress_is_unobserved (KaaInProgress *self)
{
  /* Acquire: a reference dropped on another thread after connecting a
   * callback is seen with its callback. */
  return __atomic_load_n (&self->ref_count, __ATOMIC_ACQUIRE) == 1 &&
         !kaa_in_progress_has_callbacks (self);
}

KaaInProgress *
kaa_in_progress_try_ref (KaaInProgress *self)
{
  return kaa_ref_count_try_inc (&self->ref_count) ? self : NULL;
}

KaaProgress **
kaa_in_progress_get_progress_slot (KaaInProgress *self)
{
  return &self->progress;
}

/* Call before @self can be settled or cancelled, normally right after
 * creating it; @self calls the producer's release hook once it settles. */
void
kaa_in_progress_set_producer (KaaInProgress *self,
                              KaaProducer   *producer)
{
  g_assert (g_atomic_pointer_get (&self->producer) == NULL);

  /* Before the producer is published, so that whoever sees the producer
   * sees its kind. */
  self->producer_kind = producer->ops->kind;
  g_atomic_pointer_set (&self->producer, producer);
}

KaaProducer *
kaa_in_progress_get_inline_producer (KaaInProgress *self)
{
  KaaProducer *producer = in_progress_get_producer (self);

  return (guint8 *) producer == (guint8 *) self + PRODUCER_OFFSET ? producer : NULL;
}

KaaProducer *
kaa_in_progress_get_producer (KaaInProgress *self)
{
  return in_progress_get_producer (self);
}

void
kaa_in_progress_release_producer (KaaInProgress *self)
{
  KaaProducer *producer;

  /* Most InProgresses have no producer: skip the locked exchange. */
  if (g_atomic_pointer_get (&self->producer) == NULL)
    return;
  producer = g_atomic_pointer_exchange (&self->producer, NULL);
  /* Borrowed: a hook of it runs on the owner thread, which releases it
   * once the hook returns (kaa_in_progress_return_producer()). */
  if ((gsize) producer & PRODUCER_BORROWED)
    return;
  if (producer != NULL && producer->ops->release != NULL)
    producer->ops->release (producer);
}

/* Queues the runnable on the owner, at most once at a time; @is_owner
 * tells whether the caller runs on the owner thread. The flag is
 * cleared before the runnable looks at anything, so work that arrives
 * while it is queued is seen by that run or queues another. */
static void
in_progress_queue (KaaInProgress *self,
                   gboolean       is_owner)
{
  if (g_atomic_int_or (&self->flags, FLAG_QUEUED) & FLAG_QUEUED)
    return;
  kaa_in_progress_ref (self);
  if (is_owner)
    kaa_scheduler_push (self->scheduler, &self->runnable);
  else
    kaa_scheduler_push_remote (self->scheduler, &self->runnable);
}

/* For kaa-in-progress-callbacks.c: callbacks wait for a delivery. */
void
kaa_in_progress_queue_delivery (KaaInProgress *self,
                                gboolean       is_owner)
{
  in_progress_queue (self, is_owner);
}

/* Publishes the final state (the result must already be in place) and
 * wakes whoever waits, but runs no callback. */
static void
in_progress_publish (KaaInProgress *self,
                     KaaState       state)
{
  g_atomic_int_set (&self->state, state);

  if (state == KAA_STATE_CANCELLED)
    {
      GCancellable *cancellable = g_atomic_pointer_get (&self->cancellable);

      if (cancellable != NULL)
        g_cancellable_cancel (cancellable);
    }

  if (g_atomic_int_get (&self->flags) & FLAG_WAITERS)
    kaa_in_progress_wake_waiters (self);
}

void
kaa_in_progress_complete (KaaInProgress *self,
                          KaaState       state)
{
  in_progress_publish (self, state);

  if (!kaa_in_progress_has_callbacks (self))
    {
      /* Last: releasing the producer may drop the last reference. */
      kaa_in_progress_release_producer (self);
    }
  else if (kaa_scheduler_is_owner (self->scheduler))
    kaa_in_progress_deliver_flat (self);
  else
    {
      in_progress_queue (self, FALSE);
      kaa_in_progress_release_producer (self);
    }
}

/* Out of line, so that the claim itself stays small enough to inline. */
static G_NO_INLINE gboolean
claim_lost (KaaInProgress *self,
            const char    *function,
            gboolean       quiet)
{
  gint state;

  /* A freed InProgress never reads as pending: its tombstone says
   * STATE_FREED, poison is no state at all. */
  if (in_progress_is_freed (self))
    {
      kaa_in_progress_report_freed (self, function);
      return FALSE;
    }

  state = g_atomic_int_get (&self->state);
  if (!quiet && state != STATE_CANCELLING && state != KAA_STATE_CANCELLED)
    g_critical (_("%s: InProgress %s (%p) is already done; the new outcome is dropped"),
                function, in_progress_name (self), self);
  return FALSE;
}

/* Claims @self for settling. A loser that lost to a cancel is a producer
 * finishing late, which is allowed; any other loser is a second finish. */
gboolean
kaa_in_progress_claim (KaaInProgress *self,
                       const char    *function,
                       gboolean       quiet)
{
  if (G_LIKELY (g_atomic_int_compare_and_exchange (&self->state, KAA_STATE_PENDING,
                                                   STATE_SETTLING)))
    return TRUE;
  return claim_lost (self, function, quiet);
}

/* The error, if any, says which final state: a cancel is an error too
 * (G_IO_ERROR_CANCELLED), as GIO has it. */
static inline void
settle_claimed (KaaInProgress *self,
                KaaOutcome    *outcome)
{
  GError *error = kaa_outcome_get_error (outcome);

  kaa_outcome_move (&self->outcome, outcome);
  if (error != NULL)
    kaa_in_progress_complete (self, g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                                    ? KAA_STATE_CANCELLED : KAA_STATE_FAILED);
  else
    {
      if (self->outcome.kind == KAA_OUTCOME_NONE)
        self->outcome.kind = KAA_OUTCOME_POINTER;
      kaa_in_progress_complete (self, KAA_STATE_FINISHED);
    }
}

void
kaa_in_progress_settle_claimed (KaaInProgress *self,
                                KaaOutcome    *outcome)
{
  g_assert (g_atomic_int_get (&self->state) == STATE_SETTLING);

  settle_claimed (self, outcome);
}

gboolean
kaa_in_progress_settle_outcome (KaaInProgress *self,
                                KaaOutcome    *outcome,
                                const char    *function,
                                gboolean       quiet)
{
  if (!kaa_in_progress_claim (self, function, quiet))
    {
      kaa_outcome_clear (outcome);
      return FALSE;
    }
  settle_claimed (self, outcome);
  return TRUE;
}

/* The owner context is gone and its sweep is over: no thread will ever
 * run callbacks there, so they run here, on the thread that settled or
 * connected last, and nothing keeps the references they hold. Without an
 * owner, one thread at a time delivers (the flag stands for the owner's
 * exclusive use of the lists); one that finds another at it leaves its
 * callbacks to that one, which looks again before it stops. Nobody can
 * disconnect them any more: that is for the owner. */
static void
in_progress_deliver_orphaned (KaaInProgress *self)
{
  do
    {
      if (g_atomic_int_or (&self->flags, FLAG_ORPHAN_DELIVERY) & FLAG_ORPHAN_DELIVERY)
        return;
      kaa_in_progress_deliver_now (self);
      g_atomic_int_and (&self->flags, ~FLAG_ORPHAN_DELIVERY);
    }
  while (g_atomic_pointer_get (&self->callbacks) != NULL);
}

/* @discard: the owner context is gone. While it is swept, the sweeping
 * thread is the owner and everything happens as usual; after the sweep,
 * a cancel settles without its hooks and callbacks run where we are. */
static void
in_progress_run (KaaRunnable *runnable,
                 gboolean     discard)
{
  KaaInProgress *self = G_STRUCT_MEMBER_P (runnable, -G_STRUCT_OFFSET (KaaInProgress, runnable));
  gint flags = g_atomic_int_and (&self->flags, ~(FLAG_QUEUED | FLAG_CANCEL_PENDING));
  gboolean orphaned = discard && !kaa_scheduler_is_owner (self->scheduler);

  /* An owner-thread cancel may have carried the remote one out already. */
  if ((flags & FLAG_CANCEL_PENDING) && !(flags & FLAG_CANCELLING_NOW))
    {
      if (orphaned)
        {
          kaa_outcome_take_error (&self->outcome,
                                  g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                       kaa_gettext_cancelled ()));
          in_progress_publish (self, KAA_STATE_CANCELLED);
          in_progress_deliver_orphaned (self);
          kaa_in_progress_release_producer (self);
        }
      else
        kaa_in_progress_cascade_cancel (self);
    }
  else if (orphaned)
    in_progress_deliver_orphaned (self);
  else
    kaa_in_progress_deliver_now (self);

  kaa_in_progress_unref (self);
}

/**
 * kaa_in_progress_cancel:
 * @self: a [struct@Kaa.InProgress]
 *
 * Cancels @self: it fails with `G_IO_ERROR_CANCELLED`, its
 * [method@Kaa.InProgress.get_cancellable] is cancelled, and the cancel
 * travels down to whatever produces it (a timer is removed, a combinator
 * cancels its inputs). Cancel is never vetoed.
 *
 * On the owner thread, this returns with @self already cancelled and every
 * cleanup of the cascade already run. From another thread, the same
 * happens promptly on the owner context. Cancelling something already
 * done does nothing.
 *
 * Since: 0.1
 */
void
kaa_in_progress_cancel (KaaInProgress *self)
{
  g_return_if_fail (self != NULL);
  in_progress_return_if_freed (self);

  if (!g_atomic_int_compare_and_exchange (&self->state, KAA_STATE_PENDING, STATE_CANCELLING))
    {
      /* A cancel from another thread got here first and is still on its
       * way to this context: on the owner thread, cancel must return with
       * @self cancelled and cleaned up (DESIGN §6), so carry it out now;
       * in_progress_run() then finds it done. Not when the owner is
       * already inside the cascade of @self. */
      if (g_atomic_int_get (&self->state) != STATE_CANCELLING ||
          !kaa_scheduler_is_owner (self->scheduler))
        return;
      if (!(g_atomic_int_get (&self->flags) & FLAG_CANCELLING_NOW))
        kaa_in_progress_cascade_cancel (self);
      else
        {
          /* Already in a cascade of this thread that has not unwound it
           * yet: whoever cancels it now unwinds after it. */
          kaa_in_progress_cascade_adopt (self);
        }
      return;
    }

  if (kaa_scheduler_is_owner (self->scheduler))
    kaa_in_progress_cascade_cancel (self);
  else
    {
      g_atomic_int_or (&self->flags, FLAG_CANCEL_PENDING);
      in_progress_queue (self, FALSE);
      /* No longer pending from now on: a wait guarded by @self (a job's,
       * kaa_in_progress_set_wait_guard()) ends now, not once the owner
       * runs the cascade. */
      if (g_atomic_int_get (&self->flags) & FLAG_GUARDS_WAITS)
        kaa_in_progress_interrupt_waits ();
    }
}

/**
 * kaa_in_progress_get_cancellable:
 * @self: a [struct@Kaa.InProgress]
 *
 * A #GCancellable that is cancelled when @self is, for handing to GIO
 * calls made on behalf of @self. It is created on first use (already
 * cancelled if @self is). Cancelling the #GCancellable itself does not
 * cancel @self. Any thread.
 *
 * Returns: (transfer none): the cancellable, valid as long as @self
 * Since: 0.1
 */
GCancellable *
kaa_in_progress_get_cancellable (KaaInProgress *self)
{
  GCancellable *cancellable;
  gint state;

  g_return_val_if_fail (self != NULL, NULL);
  in_progress_return_val_if_freed (self, NULL);

  cancellable = g_atomic_pointer_get (&self->cancellable);
  if (cancellable != NULL)
    return cancellable;

  cancellable = g_cancellable_new ();
  if (!g_atomic_pointer_compare_and_exchange (&self->cancellable, NULL, cancellable))
    {
      g_object_unref (cancellable);
      return g_atomic_pointer_get (&self->cancellable);
    }
  /* Published before the state is read; a canceller publishes the state
   * before reading this pointer, so one of us cancels it. */
  state = g_atomic_int_get (&self->state);
  if (state == STATE_CANCELLING || state == KAA_STATE_CANCELLED)
    g_cancellable_cancel (cancellable);
  return cancellable;
}
