/* kaa-gio.c: awaiting GIO calls and GObject signals (DESIGN §7)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each bridge is the producer of an InProgress. The producer does not
 * own the InProgress (the InProgress owns it, until it settles or dies,
 * and then releases it), so a bridge nobody waits for any more goes away
 * with its GSource or signal handler instead of keeping itself alive.
 * Its callbacks reach the InProgress through a KaaWeakLink
 * (kaa-in-progress-private.h), which is what makes that safe when the last
 * reference goes on another thread. The waits on GSources (fds, sockets,
 * children, Unix signals) are in kaa-gio-fd.c.
 */
#include "config.h"

#include "kaa-i18n-private.h"
#include "kaa-error.h"
#include "kaa-gio.h"
#include "kaa-in-progress-private.h"
#include "kaa-in-progress-private.h"
#include "kaa-refcount-private.h"
#include "kaa-signal-args-private.h"

/* ------------------------------------------------------------ async calls */

/**
 * kaa_async_data: (skip)
 * @self: the InProgress a GIO call is to finish
 *
 * The user data to pass, with [func@Kaa.async_ready], to any
 * `g_*_async()` call, so that the call finishes @self with its
 * GAsyncResult; pass `kaa_in_progress_get_cancellable (self)` as its
 * cancellable and cancelling @self cancels the call:
 *
 * |[<!-- language="C" -->
 * KaaInProgress *ip = kaa_in_progress_new ();
 *
 * g_file_load_contents_async (file, kaa_in_progress_get_cancellable (ip),
 *                             kaa_async_ready, kaa_async_data (ip));
 * g_autoptr(GAsyncResult) res = kaa_await_object (ip, &error);
 * if (res != NULL)
 *   g_file_load_contents_finish (file, res, &contents, &length, NULL, &error);
 * ]|
 *
 * C only, as [func@Kaa.async_ready] is.
 *
 * Returns: (transfer full): a reference to @self, which
 *   [func@Kaa.async_ready] drops
 * Since: 0.1
 */
gpointer
kaa_async_data (KaaInProgress *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return kaa_in_progress_ref (self);
}

/**
 * kaa_async_ready: (skip)
 * @source_object: (nullable): the object the call was made on
 * @result: the result of the call
 * @in_progress: (transfer full): what [func@Kaa.async_data] returned
 *
 * A GAsyncReadyCallback that finishes the InProgress with @result (an
 * object result: await it with [func@Kaa.await_object] and pass it to the
 * call's `_finish()`). A call that completes after the InProgress was
 * cancelled is dropped quietly.
 *
 * C only: it is a function pointer to hand to C. Language bindings pass
 * their own callback to the `_async()` call and finish the InProgress from
 * it.
 *
 * Since: 0.1
 */
void
kaa_async_ready (GObject      *source_object,
                 GAsyncResult *result,
                 gpointer      in_progress)
{
  KaaInProgress *self = in_progress;

  g_return_if_fail (self != NULL);
  g_return_if_fail (G_IS_ASYNC_RESULT (result));

  kaa_in_progress_finish_object (self, result);
  kaa_in_progress_unref (self);
}

/* ------------------------------------------------ the other way: a GTask */

typedef struct
{
  GTask         *task;          /* owned until the InProgress settles */
  GCancellable  *cancellable;   /* the caller's, or NULL */
  gulong         cancelled_id;
} TaskLink;

static void
task_link_cancelled (GCancellable *cancellable,
                     gpointer      in_progress)
{
  kaa_in_progress_cancel (in_progress);
}

static void
task_link_settled (KaaInProgress *self,
                   gpointer       data)
{
  TaskLink *link = data;
  GError *error = NULL;

  /* Once cancelled, a cancellable never calls its handlers again, and we
   * may be inside ours, where g_cancellable_disconnect() would wait for
   * itself: the handler then stays, holding only a reference to @self
   * that goes with the cancellable. */
  if (link->cancelled_id != 0 && !g_cancellable_is_cancelled (link->cancellable))
    g_cancellable_disconnect (link->cancellable, link->cancelled_id);
  if (kaa_in_progress_propagate (self, &error))
    g_task_return_pointer (link->task, kaa_in_progress_ref (self),
                           (GDestroyNotify) kaa_in_progress_unref);
  else
    g_task_return_error (link->task, error);
  g_clear_object (&link->task);
  g_clear_object (&link->cancellable);
  g_free (link);
}

/**
 * kaa_in_progress_to_task:
 * @self: the InProgress that does the work, a coroutine's say
 * @source_object: (type GObject) (nullable): the object of the `_async()`
 *   call, as for g_task_new()
 * @cancellable: (nullable): the caller's cancellable; cancelling it
 *   cancels @self
 * @callback: (scope async): called when @self is done
 * @user_data: data for @callback
 * @source_tag: (nullable): the `_async()` function, checked again by
 *   [func@Kaa.InProgress.from_task]
 *
 * Offers @self as a standard GIO asynchronous operation, for callers that
 * expect an `_async()`/`_finish()` pair: @callback runs on the thread-
 * default context of this call when @self settles, and the `_finish()`
 * function gets @self back with [func@Kaa.InProgress.from_task].
 *
 * |[<!-- language="C" -->
 * void
 * my_thing_fetch_async (MyThing *self, GCancellable *cancellable,
 *                       GAsyncReadyCallback callback, gpointer user_data)
 * {
 *   g_autoptr(KaaInProgress) ip = kaa_coroutine_spawn (fetch, self, NULL);
 *
 *   kaa_in_progress_to_task (ip, self, cancellable, callback, user_data,
 *                            my_thing_fetch_async);
 * }
 *
 * char *
 * my_thing_fetch_finish (MyThing *self, GAsyncResult *result, GError **error)
 * {
 *   g_autoptr(KaaInProgress) ip =
 *     kaa_in_progress_from_task (result, self, my_thing_fetch_async, error);
 *
 *   return ip != NULL ? kaa_in_progress_dup_string (ip) : NULL;
 * }
 * ]|
 *
 * Since: 0.1
 */
void
kaa_in_progress_to_task (KaaInProgress       *self,
                         gpointer             source_object,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data,
                         gpointer             source_tag)
{
  TaskLink *link;

  g_return_if_fail (self != NULL);
  g_return_if_fail (source_object == NULL || G_IS_OBJECT (source_object));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  link = g_new0 (TaskLink, 1);
  link->task = g_task_new (source_object, cancellable, callback, user_data);
  g_task_set_source_tag (link->task, source_tag);
  /* A failure goes to the caller through the task: it is seen. */
  kaa_in_progress_mark_error_seen (self);
  if (cancellable != NULL)
    {
      link->cancellable = g_object_ref (cancellable);
      link->cancelled_id = g_cancellable_connect (cancellable, G_CALLBACK (task_link_cancelled),
                                                  kaa_in_progress_ref (self),
                                                  (GDestroyNotify) kaa_in_progress_unref);
    }
  kaa_in_progress_connect (self, task_link_settled, link, NULL);
}

/**
 * kaa_in_progress_from_task:
 * @result: what the callback of [method@Kaa.InProgress.to_task] got
 * @source_object: (type GObject) (nullable): as passed there
 * @source_tag: (nullable): as passed there
 * @error: return location for its error
 *
 * For the `_finish()` function of an operation offered with
 * [method@Kaa.InProgress.to_task].
 *
 * Returns: (transfer full) (nullable): the finished InProgress, to read
 *   the result from, or %NULL with @error set (its own domain and code;
 *   `G_IO_ERROR_CANCELLED` when it was cancelled)
 * Since: 0.1
 */
KaaInProgress *
kaa_in_progress_from_task (GAsyncResult *result,
                           gpointer      source_object,
                           gpointer      source_tag,
                           GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, source_object), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == source_tag, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---------------------------------------------------------------- signals */

/* The handler may run on any thread that emits (GObject allows it), while
 * the owner cancels or another thread drops the last reference or the
 * instance's: whoever claims `detached` first is the only one to
 * disconnect, and the InProgress is reached only through the link. */
typedef struct
{
  KaaProducer    producer;
  KaaRefCount    ref_count;   /* the producer slot, the closure */
  KaaWeakLink    link;
  KaaDeathWatch *death;       /* owned; set before the handler is connected */
  GWeakRef       instance;    /* to disconnect from any thread */
  gint           detached;    /* atomic: claimed once, by whoever disconnects */
  gint           paused;      /* atomic: emissions go by */
  char          *signal;      /* immutable */
} SignalWait;

static void
signal_wait_unref (gpointer data,
                   GClosure *closure)
{
  SignalWait *wait = data;

  if (!kaa_ref_count_dec (&wait->ref_count))
    return;
  g_weak_ref_clear (&wait->instance);
  g_free (wait->signal);
  g_free (wait);
}

/* The closure keeps the wait alive while GSignal may call it, but drops
 * it through GClosure's count, inside uninstrumented GLib: a reference of
 * our own around each call orders the call's accesses before the free in
 * a way TSan sees too. */
static SignalWait *
signal_wait_ref (SignalWait *wait)
{
  kaa_ref_count_inc (&wait->ref_count);
  return wait;
}

/* TRUE for the one caller that is to disconnect the handler. */
static gboolean
signal_wait_claim (SignalWait *wait)
{
  return g_atomic_int_compare_and_exchange (&wait->detached, FALSE, TRUE);
}

/* On the emitting thread, which holds the instance alive. The closure is
 * matched rather than the handler id, which another thread may not have
 * stored yet when the first emission comes. */
static void
signal_marshal (GClosure     *closure,
                GValue       *return_value,
                guint         n_param_values,
                const GValue *param_values,
                gpointer      invocation_hint,
                gpointer      marshal_data)
{
  SignalWait *wait = signal_wait_ref (closure->data);
  KaaInProgress *self = NULL;

  /* One-shot: gone before anyone sees the result. */
  if (!g_atomic_int_get (&wait->paused) && signal_wait_claim (wait))
    {
      g_signal_handlers_disconnect_matched (g_value_peek_pointer (&param_values[0]),
                                            G_SIGNAL_MATCH_CLOSURE, 0, 0, closure, NULL, NULL);
      self = kaa_weak_link_ref (&wait->link);
    }
  if (self != NULL)
    {
      kaa_in_progress_finish_pointer (self,
                                      kaa_signal_args_new_for_emission (n_param_values,
                                                                        param_values),
                                      (GDestroyNotify) kaa_signal_args_unref);
      kaa_in_progress_unref (self);
    }
  signal_wait_unref (wait, NULL);
}

/* The handler went without us: the instance was disposed (or finalized),
 * and nothing will be emitted any more. GSignal runs this when it drops
 * the closure, after any emission still running. */
static void
signal_wait_invalidated (gpointer  data,
                         GClosure *closure)
{
  SignalWait *wait = signal_wait_ref (data);
  KaaInProgress *self = signal_wait_claim (wait) ? kaa_weak_link_ref (&wait->link) : NULL;

  if (self != NULL)
    {
      kaa_in_progress_fail (self,
                            g_error_new (KAA_ERROR, KAA_ERROR_FAILED,
                                         _("The object was finalized before it emitted “%s”"),
                                         wait->signal));
      kaa_in_progress_unref (self);
    }
  signal_wait_unref (wait, NULL);
}

/* Owner thread; an emission racing it on another thread may still go
 * by or finish the wait, as it would a moment before. */
static void
signal_wait_pause (KaaProducer   *producer,
                   KaaInProgress *self)
{
  g_atomic_int_set (&((SignalWait *) producer)->paused, TRUE);
}

static void
signal_wait_resume (KaaProducer   *producer,
                    KaaInProgress *self)
{
  g_atomic_int_set (&((SignalWait *) producer)->paused, FALSE);
}

/* Any thread. An instance that the weak reference no longer gives is
 * being finalized: GObject destroys its handlers itself. */
static void
signal_wait_release (KaaProducer *producer)
{
  SignalWait *wait = (SignalWait *) producer;

  kaa_death_watch_release (g_steal_pointer (&wait->death));
  kaa_weak_link_release (&wait->link);
  if (signal_wait_claim (wait))
    {
      GObject *instance = g_weak_ref_get (&wait->instance);

      /* Matched by data, not by handler id: GObject may have destroyed
       * the handler (g_object_run_dispose() on another thread) without
       * a word to us yet, and the wait is alive, so no other handler
       * can have it as data. */
      if (instance != NULL)
        {
          g_signal_handlers_disconnect_matched (instance, G_SIGNAL_MATCH_DATA,
                                                0, 0, NULL, NULL, wait);
          g_object_unref (instance);
        }
    }
  signal_wait_unref (wait, NULL);
}

static const KaaProducerOps signal_wait_ops = {
  .pause = signal_wait_pause,
  .resume = signal_wait_resume,
  .release = signal_wait_release,
  .kind = "signal wait",
};

/* The critical is for the developer; the failed InProgress carries the
 * same words, translated, to whoever awaits it. */
static KaaInProgress *
no_such_signal (gpointer    instance,
                const char *detailed_signal)
{
  KaaInProgress *self = kaa_in_progress_new ();

  g_critical ("%s: %s has no signal '%s'", "kaa_in_progress_new_for_signal",
              G_OBJECT_TYPE_NAME (instance), detailed_signal);
  kaa_in_progress_mark_error_seen (self);
  kaa_in_progress_fail (self, g_error_new (KAA_ERROR, KAA_ERROR_INVALID_ARGUMENT,
                                           _("%s has no signal “%s”"),
                                           G_OBJECT_TYPE_NAME (instance), detailed_signal));
  return self;
}

/**
 * kaa_in_progress_new_for_signal:
 * @instance: (type GObject): the object to listen to
 * @detailed_signal: a signal of @instance, as for g_signal_connect()
 *
 * An InProgress that finishes at the next emission of @detailed_signal
 * on @instance, with the emission's arguments (after the instance) as a
 * [struct@Kaa.SignalArgs], which is a #GArray of #GValue in C.
 * One-shot: the handler is disconnected at that emission, on cancel, and
 * when the InProgress goes away. If @instance is disposed first, the
 * InProgress fails. Paused, it lets emissions go by.
 *
 * The signal may be emitted on any thread, as GObject allows: the wait
 * is finished there, and its callbacks run on its owner context as for
 * any finish from another thread. An emission racing a cancel or the
 * last unref on another thread finishes the wait or does not; the
 * handler is disconnected exactly once either way.
 *
 * An unknown @detailed_signal is a programming error: it logs a critical
 * and returns an InProgress failed with %KAA_ERROR_INVALID_ARGUMENT.
 *
 * Language bindings read the arguments with
 * [method@Kaa.InProgress.get_value], as a [struct@Kaa.SignalArgs].
 *
 * Returns: (transfer full): a new InProgress
 * Since: 0.1
 */
KaaInProgress *
kaa_in_progress_new_for_signal (gpointer    instance,
                                const char *detailed_signal)
{
  KaaInProgress *self;
  SignalWait *wait;
  GClosure *closure;
  guint signal_id;
  GQuark detail;

  kaa_return_failed_if_fail (G_IS_OBJECT (instance));
  kaa_return_failed_if_fail (detailed_signal != NULL);

  if (!g_signal_parse_name (detailed_signal, G_OBJECT_TYPE (instance), &signal_id, &detail, TRUE))
    return no_such_signal (instance, detailed_signal);

  self = kaa_in_progress_new ();
  kaa_in_progress_set_name (self, detailed_signal);
  wait = g_new0 (SignalWait, 1);
  wait->producer.ops = &signal_wait_ops;
  kaa_ref_count_init (&wait->ref_count);     /* the producer slot */
  kaa_weak_link_init (&wait->link, self);
  g_weak_ref_init (&wait->instance, instance);
  wait->signal = g_strdup (detailed_signal);
  kaa_in_progress_set_producer (self, &wait->producer);
  wait->death = kaa_death_watch_new (self);

  closure = g_closure_new_simple (sizeof (GClosure), wait);
  g_closure_set_marshal (closure, signal_marshal);
  kaa_ref_count_inc (&wait->ref_count);      /* the closure */
  g_closure_add_finalize_notifier (closure, wait, signal_wait_unref);
  g_closure_add_invalidate_notifier (closure, wait, signal_wait_invalidated);
  /* From here on another thread may emit, and finish @self. */
  g_signal_connect_closure_by_id (instance, signal_id, detail, closure, FALSE);
  return self;
}
