/* kaa-in-progress-chain.c: one InProgress following another
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * finish_from settles an InProgress like another one, and passes a cancel
 * down to it; shield does the same without passing the cancel (kaa's
 * noabort). Both are a producer (the follower's) plus a callback (on the
 * source); the link is freed when both are done with it, whichever thread
 * each runs on.
 */
#include "config.h"

#include "kaa-refcount-private.h"
#include "kaa-in-progress-private.h"

typedef struct
{
  KaaProducer     producer;
  KaaRefCount     ref_count;   /* one for the producer slot, one for the callback */
  KaaInProgress  *follower;    /* owned until the callback is done */
  KaaInProgress  *source;      /* owned */
  gulong          id;          /* owner thread of the source */
} Follow;

static void
follow_unref (Follow *follow)
{
  if (!kaa_ref_count_dec (&follow->ref_count))
    return;
  kaa_in_progress_unref (follow->source);
  g_free (follow);
}

static void
follow_release (KaaProducer *producer)
{
  follow_unref ((Follow *) producer);
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

/* The cascade: the follower is being cancelled, so is what it waits on.
 * The source's callback then finds the follower no longer pending. */
static void
follow_cancel (KaaProducer   *producer,
               KaaInProgress *follower)
{
  kaa_in_progress_cancel (((Follow *) producer)->source);
}

static void
shield_cancel (KaaProducer   *producer,
               KaaInProgress *follower)
{
  Follow *follow = (Follow *) producer;

  if (kaa_scheduler_is_owner (kaa_in_progress_get_scheduler (follow->source)))
    kaa_in_progress_disconnect (follow->source, follow->id);
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
  link->source = source;   /* handed over */
  kaa_in_progress_set_producer (self, &link->producer);
  link->id = kaa_in_progress_connect (source, follow_settled, link, follow_callback_destroy);
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
 * its error, or cancelled. Cancelling @self cancels @source. If @source is
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
 * does not reach @self: cancelling it only stops the following. Use it to
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

  shield = kaa_in_progress_new ();
  follow (shield, self, &shield_ops);
  return shield;
}
