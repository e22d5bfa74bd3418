/* kaa-in-progress-chain.c: one InProgress following another
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * finish_from settles an InProgress like another one, and passes a cancel
 * down to it as its last awaiter; shield does the same without passing
 * the cancel (kaa's noabort). Both await their source through the await
 * link (kaa-in-progress-await.c), so they share it like any awaiter.
 * Both are a producer (the follower's) plus a callback (on the
 * source); the link is freed when both are done with it, whichever thread
 * each runs on.
 */
#include "config.h"

#include "kaa-refcount-private.h"
#include "kaa-in-progress-await-private.h"

typedef struct
{
  KaaProducer     producer;
  KaaRefCount     ref_count;   /* one for the producer slot, one for the callback */
  KaaInProgress  *follower;    /* owned until the callback is done */
  KaaDeathWatch  *death;       /* owned: the context's death cancels the follower */
  KaaAwaitLink    await;       /* .awaited: the source, owned */
} Follow;

static void
follow_unref (Follow *follow)
{
  if (!kaa_ref_count_dec (&follow->ref_count))
    return;
  kaa_in_progress_unref (follow->await.awaited);
  g_free (follow);
}

/* The follower settled: it awaits its source no more. */
static void
follow_release (KaaProducer *producer)
{
  Follow *follow = (Follow *) producer;

  kaa_death_watch_release (g_steal_pointer (&follow->death));
  kaa_await_link_detach (&follow->await);
  follow_unref (follow);
}

static void
follow_callback_destroy (gpointer data)
{
  Follow *follow = data;

  /* The follower may go now; until the source settled, it had to stay to
   * be settled. Its producer slot still holds the link. */
  kaa_in_progress_unref (follow->follower);
  follow_unref (follow);
}

static void
follow_settled (KaaInProgress *source,
                gpointer       data)
{
  Follow *follow = data;

  kaa_in_progress_try_settle_like (follow->follower, source);
}

/* The cascade (DESIGN §6): the follower is being cancelled, so is what
 * it waits on, unless someone else awaits it too. */
static void
follow_cancel (KaaProducer   *producer,
               KaaInProgress *follower)
{
  kaa_await_link_cancel (&((Follow *) producer)->await);
}

/* A shield's cancel never reaches its source: it only stops following. */
static void
shield_cancel (KaaProducer   *producer,
               KaaInProgress *follower)
{
  kaa_await_link_detach (&((Follow *) producer)->await);
}

static const KaaProducerOps follow_ops = {
  .cancel = follow_cancel,
  .release = follow_release,
  .kind = "finish_from",
};

static const KaaProducerOps shield_ops = {
  .cancel = shield_cancel,
  .release = follow_release,
  .kind = "shield",
};

/* Takes ownership of @source. */
static void
follow (KaaInProgress        *self,
        KaaInProgress        *source,
        const KaaProducerOps *ops)
{
  Follow *link;

  /* Already done: settle now rather than a dispatch later. */
  if (kaa_in_progress_is_done (source))
    {
      kaa_in_progress_try_settle_like (self, source);
      kaa_in_progress_unref (source);
      return;
    }

  link = g_new0 (Follow, 1);
  link->producer.ops = ops;
  kaa_ref_count_init (&link->ref_count);
  kaa_ref_count_inc (&link->ref_count);
  link->follower = kaa_in_progress_ref (self);
  kaa_await_link_count (&link->await, source);   /* handed over */
  kaa_in_progress_set_producer (self, &link->producer);
  link->death = kaa_death_watch_new (self);
  kaa_await_link_connect (&link->await, follow_settled, link, follow_callback_destroy);
}

/* Whether @self may start following: pending, and produced by nothing. */
static gboolean
finish_from_accepts (KaaInProgress *self,
                     const char    *function)
{
  KaaProducer *producer = kaa_in_progress_get_producer (self);
  const char *name = kaa_in_progress_get_name (self);

  if (kaa_in_progress_is_done (self))
    g_critical ("%s: InProgress %s (%p) is already done: it can settle only once",
                function, name != NULL ? name : "(unnamed)", self);
  else if (producer != NULL && producer->ops == &follow_ops)
    g_critical ("%s: InProgress %s (%p) already follows another InProgress: "
                "finish_from can be called only once",
                function, name != NULL ? name : "(unnamed)", self);
  else if (producer != NULL)
    g_critical ("%s: InProgress %s (%p) is produced by a %s, which will settle it: "
                "only an InProgress made with kaa_in_progress_new() can follow another",
                function, name != NULL ? name : "(unnamed)", self,
                producer->ops->kind != NULL ? producer->ops->kind : "producer");
  else
    return TRUE;
  return FALSE;
}

/**
 * kaa_in_progress_finish_from:
 * @self: a pending [struct@Kaa.InProgress] without a producer
 * @source: (transfer full): the InProgress to follow
 *
 * Makes @self settle as @source does: with its result (the getters of
 * @self read the result of @source, which @self keeps alive), a copy of
 * its error, or cancelled. Cancelling @self cancels @source, unless
 * someone else awaits it too (another follower, a coroutine, a
 * combinator): then @self only stops following it. If @source is
 * already done, @self settles now. Call it where you would call a finish
 * function, once, on a @self that nothing else produces.
 *
 * Calling it on a @self that is already done, that already follows
 * another InProgress, or that something else produces (a coroutine, a
 * thread job, a timer) is a programming error: a critical, and @self is
 * left as it was.
 *
 * Takes ownership of @source, also when it fails a precondition; keep a
 * reference of your own with [method@Kaa.InProgress.ref] to look at
 * @source afterwards.
 *
 * Since: 0.1
 */
void
kaa_in_progress_finish_from (KaaInProgress *self,
                             KaaInProgress *source)
{
  kaa_return_releasing_if_fail (self != NULL, source);
  kaa_return_releasing_if_fail (source != NULL, source);
  kaa_return_releasing_if_fail (self != source, source);
  if (!kaa_in_progress_check_alive (source, G_STRFUNC))
    return;
  if (!kaa_in_progress_check_alive (self, G_STRFUNC))
    {
      kaa_in_progress_unref (source);
      return;
    }

  if (!finish_from_accepts (self, G_STRFUNC))
    {
      kaa_in_progress_unref (source);
      return;
    }
  follow (self, source, &follow_ops);
}

/**
 * kaa_in_progress_shield:
 * @self: (transfer full): a [struct@Kaa.InProgress]
 *
 * Returns a new InProgress that settles as @self does, but whose cancel
 * does not reach @self: cancelling it only stops the following. While it
 * follows, it counts as one more awaiter of @self, so a coroutine or a
 * combinator awaiting @self too neither pauses nor cancels it. Use it to
 * hand out an operation that several parties share and none may abort
 * (kaa's noabort).
 *
 * Takes ownership of @self: to share the operation, shield a reference
 * of your own, `kaa_in_progress_shield (kaa_in_progress_ref (op))`.
 *
 * Returns: (transfer full): a new InProgress following @self
 * Since: 0.1
 */
KaaInProgress *
kaa_in_progress_shield (KaaInProgress *self)
{
  KaaInProgress *shield;

  kaa_return_failed_if_fail (self != NULL);
  kaa_return_failed_if_freed (self);

  shield = kaa_in_progress_new ();
  follow (shield, self, &shield_ops);
  return shield;
}
