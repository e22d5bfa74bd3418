/* kaa-progress.c: progress carried by an InProgress
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * KaaProgress: position and total, set from any thread (a worker hashing
 * a file), read and followed on the owner context (a progress bar). Each
 * update is two relaxed atomic stores; the owner is told through one
 * queued runnable, and notifications are throttled to one per interval:
 * the first update after a quiet spell is delivered on the next dispatch,
 * later ones are folded into one delivered when the interval has passed,
 * always with the latest values.
 *
 * Rate and ETA are derived on the owner thread at each notification, as
 * an exponential moving average, so a burst of tiny updates costs nothing
 * more than the stores.
 */
#include "config.h"

#include "kaa-i18n-private.h"

#include <math.h>

#include "kaa-in-progress-private.h"
#include "kaa-progress.h"
#include "kaa-progress-private.h"

#define DEFAULT_INTERVAL_MSEC 100
/* Time constant of the rate's moving average: long enough to smooth
 * bursty producers, short enough to follow a real change within seconds. */
#define RATE_TAU_SEC 2.0

typedef struct _ProgressNode ProgressNode;
struct _ProgressNode
{
  ProgressNode         *next;
  gulong                id;
  KaaInProgressCallback callback;
  gpointer              user_data;
  GDestroyNotify        destroy;
};

struct _KaaProgress
{
  KaaInProgress *owner;       /* not owned: it owns us */

  /* A seqlock: @seq is odd while a writer updates the pair, so a reader
   * never sees the position of one update with the total of another. */
  guint          seq;
  gint64         position;
  gint64         total;
  gint           dirty;       /* atomic: changed since the last notification */
  gint           scheduled;   /* atomic: the runnable is queued or the timer armed */

  /* Owner thread only. */
  guint          interval_usec;
  gint64         last_notify;
  gint64         rate_position;
  gint64         rate_time;
  gdouble        rate;
  /* Time paused since rate_time, which the rate leaves out (issue #22);
   * paused_since is when the pause began, 0 while running. */
  gint64         paused_usec;
  gint64         paused_since;
  ProgressNode  *callbacks;   /* oldest first */
  KaaRunnable    runnable;
  KaaTimer       timer;
};

static void progress_run   (KaaRunnable *runnable, gboolean discard);
static void progress_fire  (KaaTimer *timer, gboolean discard);

/* Writers exclude each other by claiming an even @seq; readers retry
 * while it is odd or changed under them. */
static void
progress_write (KaaProgress *progress,
                gint64       position,
                gint64       total)
{
  guint seq;

  do
    seq = __atomic_load_n (&progress->seq, __ATOMIC_RELAXED) & ~1u;
  while (!__atomic_compare_exchange_n (&progress->seq, &seq, seq + 1, FALSE,
                                       __ATOMIC_ACQUIRE, __ATOMIC_RELAXED));
  __atomic_store_n (&progress->position, position, __ATOMIC_RELAXED);
  __atomic_store_n (&progress->total, total, __ATOMIC_RELAXED);
  __atomic_store_n (&progress->seq, seq + 2, __ATOMIC_RELEASE);
}

/* Returns FALSE if progress was never written (@seq still 0). */
static gboolean
progress_read (KaaProgress *progress,
               gint64      *position,
               gint64      *total)
{
  guint before, after;

  do
    {
      /* Acquire loads of the pair keep the second read of @seq after
       * them (a fence would do too, but TSan does not model fences). */
      before = __atomic_load_n (&progress->seq, __ATOMIC_ACQUIRE);
      *position = __atomic_load_n (&progress->position, __ATOMIC_ACQUIRE);
      *total = __atomic_load_n (&progress->total, __ATOMIC_ACQUIRE);
      after = __atomic_load_n (&progress->seq, __ATOMIC_RELAXED);
    }
  while ((before & 1) != 0 || before != after);
  return before != 0;
}

static KaaProgress *
progress_get (KaaInProgress *self)
{
  KaaProgress **slot = kaa_in_progress_get_progress_slot (self);
  KaaProgress *progress = g_atomic_pointer_get (slot);

  if (progress != NULL)
    return progress;

  progress = g_new0 (KaaProgress, 1);
  progress->owner = self;
  progress->interval_usec = DEFAULT_INTERVAL_MSEC * 1000;
  progress->runnable.run = progress_run;
  progress->timer.fire = progress_fire;
  if (!g_atomic_pointer_compare_and_exchange (slot, NULL, progress))
    {
      g_free (progress);
      progress = g_atomic_pointer_get (slot);
    }
  return progress;
}

void
kaa_progress_free (KaaProgress *progress)
{
  ProgressNode *node = progress->callbacks;

  /* A pending notification holds a reference on the owner, so none is
   * queued or armed when the owner is finalized. */
  while (node != NULL)
    {
      ProgressNode *next = node->next;

      if (node->destroy != NULL)
        node->destroy (node->user_data);
      g_free (node);
      node = next;
    }
  g_free (progress);
}

/* The time paused since the last rate update, a pause still going on
 * counted up to @now. */
static gint64
progress_get_paused (KaaProgress *progress,
                     gint64       now)
{
  gint64 paused = progress->paused_usec;

  if (progress->paused_since != 0)
    paused += now - progress->paused_since;
  return paused;
}

/* The rate was updated at @now: the paused time counts from there. */
static void
progress_restart_paused (KaaProgress *progress,
                         gint64       now)
{
  progress->paused_usec = 0;
  if (progress->paused_since != 0)
    progress->paused_since = now;
}

/* Owner thread: the producer of @self heard its first pause (@paused) or
 * its last resume. A rate is of the time spent working, so paused time
 * is left out of it and of the ETA. */
void
kaa_progress_set_paused (KaaInProgress *self,
                         gboolean       paused)
{
  KaaProgress *progress = g_atomic_pointer_get (kaa_in_progress_get_progress_slot (self));
  gint64 now;

  if (progress == NULL || (progress->paused_since != 0) == paused)
    return;
  now = g_get_monotonic_time ();
  if (paused)
    progress->paused_since = now;
  else
    {
      progress->paused_usec += now - progress->paused_since;
      progress->paused_since = 0;
    }
}

static void
progress_update_rate (KaaProgress *progress,
                      gint64       now)
{
  gint64 position, total;
  gdouble dt = (now - progress->rate_time - progress_get_paused (progress, now)) /
               (gdouble) G_USEC_PER_SEC;
  gdouble instant, alpha;

  progress_read (progress, &position, &total);
  if (progress->rate_time == 0)
    {
      progress->rate_time = now;
      progress->rate_position = position;
      progress_restart_paused (progress, now);
      return;
    }
  /* No running time since the last update (a second one in the same
   * pause, or the same microsecond): nothing to rate yet. The interval
   * and the pauses in it stay whole for the next update. */
  if (dt <= 0)
    return;
  instant = (position - progress->rate_position) / dt;
  alpha = progress->rate == 0 ? 1.0 : 1.0 - exp (-dt / RATE_TAU_SEC);
  progress->rate += alpha * (instant - progress->rate);
  progress->rate_time = now;
  progress->rate_position = position;
  progress_restart_paused (progress, now);
}

static void
progress_notify (KaaProgress *progress,
                 gint64       now)
{
  KaaInProgress *owner = progress->owner;

  /* Cleared before the values are read: an update from now on marks it
   * again and is not lost. */
  if (!__atomic_exchange_n (&progress->dirty, FALSE, __ATOMIC_SEQ_CST))
    return;
  progress->last_notify = now;
  progress_update_rate (progress, now);

  /* By id, so that a callback may disconnect any callback, itself included. */
  if (progress->callbacks == NULL)
    return;
  kaa_in_progress_ref (owner);
  {
    g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gulong));

    for (ProgressNode *node = progress->callbacks; node != NULL; node = node->next)
      g_array_append_val (ids, node->id);
    for (guint i = 0; i < ids->len; i++)
      for (ProgressNode *node = progress->callbacks; node != NULL; node = node->next)
        if (node->id == g_array_index (ids, gulong, i))
          {
            node->callback (owner, node->user_data);
            break;
          }
  }
  kaa_in_progress_unref (owner);
}

/* Ends the scheduled token (queued runnable or armed timer) and its
 * reference on the owner, notifying unless the context went away. */
static void
progress_token_done (KaaProgress *progress,
                     gint64       now,
                     gboolean     discard)
{
  KaaInProgress *owner = progress->owner;

  __atomic_store_n (&progress->scheduled, FALSE, __ATOMIC_SEQ_CST);
  if (!discard)
    progress_notify (progress, now);
  kaa_in_progress_unref (owner);
}

static void
progress_fire (KaaTimer *timer,
               gboolean  discard)
{
  KaaProgress *progress = G_STRUCT_MEMBER_P (timer, -G_STRUCT_OFFSET (KaaProgress, timer));

  progress_token_done (progress, g_get_monotonic_time (), discard);
}

static void
progress_run (KaaRunnable *runnable,
              gboolean     discard)
{
  KaaProgress *progress = G_STRUCT_MEMBER_P (runnable, -G_STRUCT_OFFSET (KaaProgress, runnable));
  KaaInProgress *owner = progress->owner;
  gint64 now = g_get_monotonic_time ();
  gint64 due = progress->last_notify + progress->interval_usec;

  if (!discard && progress->last_notify != 0 && now < due)
    {
      /* The reference and the scheduled flag travel on to the timer. */
      kaa_scheduler_add_timer (kaa_in_progress_get_scheduler (owner), &progress->timer, due);
      return;
    }
  progress_token_done (progress, now, discard);
}

/* Owner thread, when the InProgress settles: a pending notification is
 * delivered now, so that a progress bar reaches its last value before the
 * InProgress's own callbacks run. The queued runnable or armed timer then
 * finds nothing new. */
void
kaa_progress_flush (KaaProgress *progress)
{
  progress_notify (progress, g_get_monotonic_time ());
}

/**
 * kaa_in_progress_set_progress:
 * @self: a [struct@Kaa.InProgress]
 * @position: how much is done, 0 or more
 * @total: how much there is in all, or 0 if unknown
 *
 * Reports progress. Neither number is negative: an unknown total is 0,
 * never -1, and [method@Kaa.InProgress.get_fraction] is then 0. The same
 * rule holds for [method@Kaa.ThreadJob.set_progress]. Any thread, and
 * cheap: progress callbacks run on the owner context, at most once per
 * interval (see [method@Kaa.InProgress.set_progress_interval]), with the
 * latest values.
 *
 * Since: 0.1
 */
void
kaa_in_progress_set_progress (KaaInProgress *self,
                              gint64         position,
                              gint64         total)
{
  KaaProgress *progress;
  KaaScheduler *scheduler;

  g_return_if_fail (self != NULL);
  g_return_if_fail (position >= 0);
  g_return_if_fail (total >= 0);
  if (!kaa_in_progress_check_alive (self, G_STRFUNC))
    return;

  progress = progress_get (self);
  progress_write (progress, position, total);

  __atomic_store_n (&progress->dirty, TRUE, __ATOMIC_SEQ_CST);
  if (__atomic_exchange_n (&progress->scheduled, TRUE, __ATOMIC_SEQ_CST))
    return;
  kaa_in_progress_ref (self);
  scheduler = kaa_in_progress_get_scheduler (self);
  if (kaa_scheduler_is_owner (scheduler))
    kaa_scheduler_push (scheduler, &progress->runnable);
  else
    kaa_scheduler_push_remote (scheduler, &progress->runnable);
}

/**
 * kaa_in_progress_get_progress:
 * @self: a [struct@Kaa.InProgress]
 * @position: (out) (optional): how much is done
 * @total: (out) (optional): how much there is in all, 0 if unknown
 *
 * The latest progress reported. Any thread.
 *
 * Returns: %TRUE if progress was ever reported
 * Since: 0.1
 */
gboolean
kaa_in_progress_get_progress (KaaInProgress *self,
                              gint64        *position,
                              gint64        *total)
{
  KaaProgress *progress;
  gint64 p = 0, t = 0;
  gboolean set = FALSE;

  g_return_val_if_fail (self != NULL, FALSE);

  progress = kaa_in_progress_check_alive (self, G_STRFUNC)
             ? g_atomic_pointer_get (kaa_in_progress_get_progress_slot (self))
             : NULL;
  if (progress != NULL)
    set = progress_read (progress, &p, &t);
  if (position != NULL)
    *position = p;
  if (total != NULL)
    *total = t;
  return set;
}

/**
 * kaa_in_progress_get_fraction:
 * @self: a [struct@Kaa.InProgress]
 *
 * Tells how far @self is, as a fraction of its total. Any thread.
 *
 * Returns: position / total, between 0 and 1; 0 while the total is unknown
 * Since: 0.1
 */
gdouble
kaa_in_progress_get_fraction (KaaInProgress *self)
{
  gint64 position, total;

  g_return_val_if_fail (self != NULL, 0.0);
  if (!kaa_in_progress_check_alive (self, G_STRFUNC))
    return 0.0;

  if (!kaa_in_progress_get_progress (self, &position, &total) || total == 0)
    return 0.0;
  return CLAMP ((gdouble) position / (gdouble) total, 0.0, 1.0);
}

/**
 * kaa_in_progress_get_rate:
 * @self: a [struct@Kaa.InProgress]
 *
 * The speed of progress, smoothed over the last seconds, as of the last
 * progress notification. Time spent paused (from the pause that reached
 * the producer to the resume that let it go on) does not count: the rate
 * is of the time @self was running. Owner thread.
 *
 * Returns: units of position per second; 0 until it can be told
 * Since: 0.1
 */
gdouble
kaa_in_progress_get_rate (KaaInProgress *self)
{
  KaaProgress *progress;

  g_return_val_if_fail (self != NULL, 0.0);
  if (!kaa_in_progress_check_alive (self, G_STRFUNC))
    return 0.0;

  progress = g_atomic_pointer_get (kaa_in_progress_get_progress_slot (self));
  return progress != NULL ? MAX (progress->rate, 0.0) : 0.0;
}

/**
 * kaa_in_progress_get_eta:
 * @self: a [struct@Kaa.InProgress]
 *
 * The estimated time left, from the rate and the remaining amount: time
 * running, since the rate leaves paused time out (a pause adds its own
 * length to it). Owner thread.
 *
 * Returns: seconds left, or -1 when it cannot be told (no total, no rate)
 * Since: 0.1
 */
gdouble
kaa_in_progress_get_eta (KaaInProgress *self)
{
  gint64 position, total;
  gdouble rate;

  g_return_val_if_fail (self != NULL, -1.0);
  if (!kaa_in_progress_check_alive (self, G_STRFUNC))
    return -1.0;

  rate = kaa_in_progress_get_rate (self);
  if (!kaa_in_progress_get_progress (self, &position, &total) || total == 0 || rate <= 0)
    return -1.0;
  return MAX (total - position, 0) / rate;
}

/**
 * kaa_in_progress_connect_progress:
 * @self: a [struct@Kaa.InProgress]
 * @callback: (scope notified) (closure user_data) (destroy destroy): called on each notification
 * @user_data: data for @callback
 * @destroy: (nullable): frees @user_data on disconnect or when @self is freed
 *
 * Calls @callback on the owner context whenever progress changed, at most
 * once per interval. Owner thread.
 *
 * Returns: an id for [method@Kaa.InProgress.disconnect_progress], never 0
 * Since: 0.1
 */
gulong
kaa_in_progress_connect_progress (KaaInProgress        *self,
                                  KaaInProgressCallback callback,
                                  gpointer              user_data,
                                  GDestroyNotify        destroy)
{
  KaaProgress *progress;
  ProgressNode *node, **tail;

  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (callback != NULL, 0);
  if (!kaa_in_progress_check_alive (self, G_STRFUNC))
    return 0;
  g_return_val_if_fail (kaa_scheduler_is_owner (kaa_in_progress_get_scheduler (self)), 0);

  progress = progress_get (self);
  node = g_new0 (ProgressNode, 1);
  node->id = kaa_in_progress_callback_id_new ();   /* owners on many threads */
  node->callback = callback;
  node->user_data = user_data;
  node->destroy = destroy;
  for (tail = &progress->callbacks; *tail != NULL; tail = &(*tail)->next)
    ;
  *tail = node;
  return node->id;
}

/**
 * kaa_in_progress_disconnect_progress:
 * @self: a [struct@Kaa.InProgress]
 * @id: an id from [method@Kaa.InProgress.connect_progress]
 *
 * Stops a progress callback; its destroy notify runs now. Owner thread.
 *
 * Since: 0.1
 */
void
kaa_in_progress_disconnect_progress (KaaInProgress *self,
                                     gulong         id)
{
  KaaProgress *progress;

  g_return_if_fail (self != NULL);
  g_return_if_fail (id != 0);
  if (!kaa_in_progress_check_alive (self, G_STRFUNC))
    return;

  progress = g_atomic_pointer_get (kaa_in_progress_get_progress_slot (self));
  g_return_if_fail (progress != NULL);

  for (ProgressNode **link = &progress->callbacks; *link != NULL; link = &(*link)->next)
    if ((*link)->id == id)
      {
        ProgressNode *node = *link;

        *link = node->next;
        if (node->destroy != NULL)
          node->destroy (node->user_data);
        g_free (node);
        return;
      }
  g_critical (_("%s: no progress callback with id %lu"), G_STRFUNC, id);
}

/**
 * kaa_in_progress_set_progress_interval:
 * @self: a [struct@Kaa.InProgress]
 * @msec: the least time between two progress notifications (default 100)
 *
 * Sets how often progress callbacks may run. 0 notifies on every dispatch
 * that follows an update. Owner thread.
 *
 * Since: 0.1
 */
void
kaa_in_progress_set_progress_interval (KaaInProgress *self,
                                       guint          msec)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (msec <= G_MAXUINT / 1000);
  if (!kaa_in_progress_check_alive (self, G_STRFUNC))
    return;

  progress_get (self)->interval_usec = msec * 1000;
}
