/* kaa-combinators-timeout.c: a deadline on another InProgress
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * kaa_timeout() follows its input like finish_from, with a timer in the
 * owner's scheduler heap racing it. The link is shared by three holders:
 * the timeout's producer slot, the callback on the input, and the armed
 * timer; each drops its reference when it is done, on its own thread.
 */
#include "config.h"

#include "kaa-alloc-private.h"
#include "kaa-i18n-private.h"
#include "kaa-combinators.h"
#include "kaa-refcount-private.h"
#include "kaa-in-progress-await-private.h"

typedef struct
{
  KaaProducer     producer;
  KaaRefCount     ref_count;
  KaaTimer        timer;
  KaaRunnable     disarm;        /* from the input's thread to ours */
  KaaInProgress  *self;          /* owned */
  KaaAwaitLink    link;          /* .awaited: the input, owned */
  guint           msec;
  gboolean        cancel_input;
  gint            timing_out;    /* atomic: read on the input's thread */
  /* Owner thread: DESIGN §6 pause. */
} Timeout;

static void
timeout_unref (Timeout *timeout)
{
  if (!kaa_ref_count_dec (&timeout->ref_count))
    return;
  kaa_in_progress_unref (timeout->link.awaited);
  kaa_in_progress_unref (timeout->self);
  g_free (timeout);
}

/* Owner thread: the timer will not fire, so its reference goes. A timer
 * still travelling through the inbox cannot be removed; it fires later
 * and finds nothing to do. */
static void
timeout_disarm (Timeout *timeout)
{
  if (kaa_scheduler_remove_timer (kaa_in_progress_get_scheduler (timeout->self), &timeout->timer))
    timeout_unref (timeout);
}

static void
timeout_disarm_run (KaaRunnable *runnable,
                    gboolean     discard)
{
  Timeout *timeout = G_STRUCT_MEMBER_P (runnable, -G_STRUCT_OFFSET (Timeout, disarm));

  if (!discard)
    timeout_disarm (timeout);
  timeout_unref (timeout);
}

static void
timeout_fail (Timeout *timeout)
{
  kaa_in_progress_try_fail (timeout->self,
                            g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                                         _("Timed out after %u ms"), timeout->msec));
}

/* Connected after the cancel of an input owned by another thread was
 * requested, so it runs there after the input's cleanups and callbacks. */
static void
timeout_input_cancelled (KaaInProgress *input,
                         gpointer       data)
{
  timeout_fail (data);
}

static void
timeout_expire (Timeout *timeout)
{
  KaaInProgress *input = timeout->link.awaited;
  KaaScheduler *input_scheduler = kaa_in_progress_get_scheduler (input);

  /* The input's own callback must not settle us as cancelled now. */
  g_atomic_int_set (&timeout->timing_out, TRUE);
  if (!timeout->cancel_input)
    {
      kaa_await_link_detach (&timeout->link);
      timeout_fail (timeout);
    }
  else if (kaa_scheduler_is_owner (input_scheduler))
    {
      /* Returns with the input's cleanups run: now the error may go. */
      kaa_in_progress_cancel (input);
      timeout_fail (timeout);
    }
  else
    {
      kaa_ref_count_inc (&timeout->ref_count);
      kaa_in_progress_connect (input, timeout_input_cancelled, timeout,
                               (GDestroyNotify) timeout_unref);
      kaa_in_progress_cancel (input);
    }
}

static void
timeout_fire (KaaTimer *timer,
              gboolean  discard)
{
  Timeout *timeout = G_STRUCT_MEMBER_P (timer, -G_STRUCT_OFFSET (Timeout, timer));

  if (discard)
    kaa_in_progress_cancel (timeout->self);
  else if (!kaa_in_progress_is_done (timeout->self))
    timeout_expire (timeout);
  timeout_unref (timeout);
}

static void
timeout_input_settled (KaaInProgress *input,
                       gpointer       data)
{
  Timeout *timeout = data;
  KaaScheduler *scheduler;

  if (g_atomic_int_get (&timeout->timing_out))
    return;
  scheduler = kaa_in_progress_get_scheduler (timeout->self);
  if (kaa_scheduler_is_owner (scheduler))
    timeout_disarm (timeout);
  else
    {
      /* The input belongs to another context: the timer goes on our
       * owner's next dispatch. Called once, so pushed at most once. */
      kaa_ref_count_inc (&timeout->ref_count);
      timeout->disarm.run = timeout_disarm_run;
      kaa_scheduler_push_remote (scheduler, &timeout->disarm);
    }
  kaa_in_progress_try_settle_like (timeout->self, input);
}

static void
timeout_callback_destroy (gpointer data)
{
  timeout_unref (data);
}

/* DESIGN §6: cancelled, the timeout cancels its input unless someone
 * else awaits it too; then it only detaches. */
static void
timeout_cancel (KaaProducer   *producer,
                KaaInProgress *self)
{
  Timeout *timeout = (Timeout *) producer;

  timeout_disarm (timeout);
  kaa_await_link_cancel (&timeout->link);
}

/* Paused, the deadline keeps its remaining time and the input is paused
 * when the timeout alone awaits it. */
static void
timeout_pause (KaaProducer   *producer,
               KaaInProgress *self)
{
  Timeout *timeout = (Timeout *) producer;

  kaa_scheduler_freeze_timer (kaa_in_progress_get_scheduler (self), &timeout->timer);
  kaa_await_link_pause (&timeout->link);
}

static void
timeout_resume (KaaProducer   *producer,
                KaaInProgress *self)
{
  Timeout *timeout = (Timeout *) producer;

  kaa_scheduler_thaw_timer (kaa_in_progress_get_scheduler (self), &timeout->timer);
  kaa_await_link_resume (&timeout->link);
}

static void
timeout_release (KaaProducer *producer)
{
  Timeout *timeout = (Timeout *) producer;

  kaa_await_link_detach (&timeout->link);
  timeout_unref (timeout);
}

static void
timeout_describe (KaaProducer   *producer,
                  KaaInProgress *self,
                  KaaDumpNode   *node)
{
  Timeout *timeout = (Timeout *) producer;

  kaa_dump_node_set_kind (node, "combinator");
  kaa_dump_node_set_timer_state (node, "timing out", self, &timeout->timer);
  kaa_dump_node_add_awaited (node, timeout->link.awaited);
}

static const KaaProducerOps timeout_ops = {
  .cancel = timeout_cancel,
  .pause = timeout_pause,
  .resume = timeout_resume,
  .release = timeout_release,
  .describe = timeout_describe,
  .kind = "timeout",
};

/**
 * kaa_timeout:
 * @input: (transfer full): the InProgress to put a deadline on
 * @msec: the deadline, in milliseconds from now
 * @cancel_input: whether to cancel @input when the deadline passes
 *
 * Returns an InProgress that settles as @input does, unless @msec
 * milliseconds pass first: then it fails with `G_IO_ERROR_TIMED_OUT`.
 * With @cancel_input, @input is cancelled at the deadline, and its
 * cleanups have run before the timeout error is delivered; without it,
 * @input keeps running, disconnected, and nothing is logged if it fails
 * later. When @input settles first, the timer is removed at once.
 * Cancelling the result cancels @input, unless someone else awaits it
 * too; pausing it freezes the deadline and pauses @input the same way.
 *
 * Takes ownership of @input, also when it fails a precondition, so that
 * `kaa_await (kaa_timeout (kaa_sleep (5), 100, TRUE), &error)` leaks
 * nothing; keep a reference of your own with [method@Kaa.InProgress.ref]
 * to look at @input afterwards.
 *
 * Returns: (transfer full): a new InProgress
 * Since: 0.1
 */
KaaInProgress *
kaa_timeout (KaaInProgress *input,
             guint          msec,
             gboolean       cancel_input)
{
  KaaInProgress *self;
  KaaScheduler *scheduler;
  Timeout *timeout;

  kaa_return_failed_if_fail (input != NULL);
  kaa_return_failed_if_freed (input);

  self = kaa_in_progress_new ();
  kaa_in_progress_set_static_name (self, "kaa_timeout");
  if (kaa_in_progress_is_done (input))
    {
      kaa_in_progress_try_settle_like (self, input);
      kaa_in_progress_unref (input);
      return self;
    }

  timeout = kaa_new0 (Timeout);
  timeout->producer.ops = &timeout_ops;
  kaa_ref_count_init (&timeout->ref_count);      /* the producer slot */
  kaa_ref_count_inc (&timeout->ref_count);       /* the timer */
  kaa_ref_count_inc (&timeout->ref_count);       /* the callback */
  timeout->timer.fire = timeout_fire;
  timeout->self = kaa_in_progress_ref (self);
  timeout->msec = msec;
  timeout->cancel_input = !!cancel_input;
  kaa_await_link_count (&timeout->link, input);   /* handed over */
  kaa_in_progress_set_producer (self, &timeout->producer);

  scheduler = kaa_in_progress_get_scheduler (self);
  kaa_scheduler_add_timer (scheduler, &timeout->timer,
                           kaa_scheduler_get_time (scheduler) + (gint64) msec * 1000);
  kaa_await_link_connect (&timeout->link, timeout_input_settled, timeout,
                          timeout_callback_destroy);
  return self;
}
