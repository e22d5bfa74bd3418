/* kaa-gio.c: awaiting GIO calls, signals, file descriptors, children and
 * Unix signals (DESIGN §7)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each bridge is the producer of an InProgress. The producer does not
 * own the InProgress (the InProgress owns it, until it settles or dies,
 * and then releases it), so a bridge nobody waits for any more goes away
 * with its GSource or signal handler instead of keeping itself alive.
 */
#include "config.h"

#include <glib-unix.h>

#include "kaa-i18n-private.h"
#include "kaa-error.h"
#include "kaa-gio.h"
#include "kaa-in-progress-private.h"

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

typedef struct
{
  KaaProducer    producer;
  KaaInProgress *self;       /* not owned: it owns us */
  GObject       *instance;   /* weak */
  gulong         handler;
  char          *signal;
} SignalWait;

static void signal_wait_instance_gone (gpointer  data,
                                       GObject  *where_the_object_was);

static void
signal_wait_detach (SignalWait *wait)
{
  if (wait->instance == NULL)
    return;
  if (wait->handler != 0)
    g_signal_handler_disconnect (wait->instance, wait->handler);
  g_object_weak_unref (wait->instance, signal_wait_instance_gone, wait);
  wait->handler = 0;
  wait->instance = NULL;
}

static void
signal_marshal (GClosure     *closure,
                GValue       *return_value,
                guint         n_param_values,
                const GValue *param_values,
                gpointer      invocation_hint,
                gpointer      marshal_data)
{
  SignalWait *wait = closure->data;
  KaaInProgress *self = kaa_in_progress_ref (wait->self);
  GArray *args = g_array_sized_new (FALSE, TRUE, sizeof (GValue), n_param_values - 1);

  /* One-shot: gone before anyone sees the result. */
  signal_wait_detach (wait);
  g_array_set_clear_func (args, (GDestroyNotify) g_value_unset);
  for (guint i = 1; i < n_param_values; i++)
    {
      GValue copy = G_VALUE_INIT;

      g_value_init (&copy, G_VALUE_TYPE (&param_values[i]));
      g_value_copy (&param_values[i], &copy);
      g_array_append_val (args, copy);
    }
  kaa_in_progress_finish_pointer (self, args, (GDestroyNotify) g_array_unref);
  kaa_in_progress_unref (self);
}

/* The instance is being finalized: nothing will be emitted any more. */
static void
signal_wait_instance_gone (gpointer  data,
                           GObject  *where_the_object_was)
{
  SignalWait *wait = data;
  KaaInProgress *self = kaa_in_progress_ref (wait->self);

  wait->instance = NULL;
  wait->handler = 0;
  kaa_in_progress_fail (self, g_error_new (KAA_ERROR, KAA_ERROR_FAILED,
                                           _("The object was finalized before it emitted “%s”"),
                                           wait->signal));
  kaa_in_progress_unref (self);
}

static void
signal_wait_pause (KaaProducer   *producer,
                   KaaInProgress *self)
{
  SignalWait *wait = (SignalWait *) producer;

  if (wait->handler != 0)
    g_signal_handler_block (wait->instance, wait->handler);
}

static void
signal_wait_resume (KaaProducer   *producer,
                    KaaInProgress *self)
{
  SignalWait *wait = (SignalWait *) producer;

  if (wait->handler != 0)
    g_signal_handler_unblock (wait->instance, wait->handler);
}

static void
signal_wait_release (KaaProducer *producer)
{
  SignalWait *wait = (SignalWait *) producer;

  signal_wait_detach (wait);
  g_free (wait->signal);
  g_free (wait);
}

static const KaaProducerOps signal_wait_ops = {
  .pause = signal_wait_pause,
  .resume = signal_wait_resume,
  .release = signal_wait_release,
  .kind = "signal wait",
};

/**
 * kaa_in_progress_new_for_signal:
 * @instance: (type GObject): the object to listen to
 * @detailed_signal: a signal of @instance, as for g_signal_connect()
 *
 * An InProgress that finishes at the next emission of @detailed_signal
 * on @instance, with the emission's arguments (after the instance) as a
 * #GArray of #GValue. One-shot: the handler is disconnected at that
 * emission, on cancel, and when the InProgress goes away. If @instance
 * is finalized first, the InProgress fails. Paused, it lets emissions go
 * by.
 *
 * Language bindings cannot read the pointer result; they see that the
 * signal was emitted, and connect to it themselves for its arguments.
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
  kaa_return_failed_if_fail (g_signal_parse_name (detailed_signal, G_OBJECT_TYPE (instance),
                                                  &signal_id, &detail, TRUE));

  self = kaa_in_progress_new ();
  kaa_in_progress_set_name (self, detailed_signal);
  wait = g_new0 (SignalWait, 1);
  wait->producer.ops = &signal_wait_ops;
  wait->self = self;
  wait->instance = instance;
  wait->signal = g_strdup (detailed_signal);
  closure = g_closure_new_simple (sizeof (GClosure), wait);
  g_closure_set_marshal (closure, signal_marshal);
  wait->handler = g_signal_connect_closure_by_id (instance, signal_id, detail, closure, FALSE);
  g_object_weak_ref (instance, signal_wait_instance_gone, wait);
  kaa_in_progress_set_producer (self, &wait->producer);
  return self;
}

/* ---------------------------------------------------------- source waits */

typedef struct _SourceWait SourceWait;

struct _SourceWait
{
  KaaProducer    producer;
  KaaInProgress *self;                    /* not owned: it owns us */
  GSource       *source;                  /* owned while waiting */
  GSource     *(*source_new) (SourceWait *wait);
  /* Paused, a source that can be made again goes (a ready fd would fire
   * on every iteration); one that cannot holds what it saw instead. */
  gboolean       remake_on_resume;
  gboolean       paused;
  gboolean       held;
  gint64         result;
  int            fd;
  GIOCondition   condition;
  GSocket       *socket;                  /* owned */
  GPid           pid;
  int            signum;
};

static void source_wait_attach (SourceWait *wait);

static void
source_wait_settle (SourceWait *wait)
{
  KaaInProgress *self = kaa_in_progress_ref (wait->self);

  kaa_in_progress_finish_int64 (self, wait->result);
  kaa_in_progress_unref (self);
}

/* The result, unless paused: then it waits for the resume. */
static gboolean
source_wait_fire (SourceWait *wait,
                  gint64      result)
{
  wait->result = result;
  if (wait->paused)
    {
      wait->held = TRUE;
      g_clear_pointer (&wait->source, g_source_unref);
      return G_SOURCE_REMOVE;
    }
  source_wait_settle (wait);
  return G_SOURCE_REMOVE;
}

static gboolean
fd_ready (gint         fd,
          GIOCondition condition,
          gpointer     data)
{
  return source_wait_fire (data, condition);
}

static gboolean
socket_ready (GSocket      *socket,
              GIOCondition  condition,
              gpointer      data)
{
  return source_wait_fire (data, condition);
}

static gboolean
child_exited (GPid     pid,
              gint     wait_status,
              gpointer data)
{
  return source_wait_fire (data, wait_status);
}

static gboolean
signal_received (gpointer data)
{
  SourceWait *wait = data;

  return source_wait_fire (wait, wait->signum);
}

static GSource *
fd_source_new (SourceWait *wait)
{
  GSource *source = g_unix_fd_source_new (wait->fd, wait->condition);

  g_source_set_callback (source, G_SOURCE_FUNC (fd_ready), wait, NULL);
  return source;
}

static GSource *
socket_source_new (SourceWait *wait)
{
  GSource *source = g_socket_create_source (wait->socket, wait->condition, NULL);

  g_source_set_callback (source, G_SOURCE_FUNC (socket_ready), wait, NULL);
  return source;
}

static GSource *
child_source_new (SourceWait *wait)
{
  GSource *source = g_child_watch_source_new (wait->pid);

  g_source_set_callback (source, G_SOURCE_FUNC (child_exited), wait, NULL);
  return source;
}

static GSource *
signal_source_new (SourceWait *wait)
{
  GSource *source = g_unix_signal_source_new (wait->signum);

  g_source_set_callback (source, signal_received, wait, NULL);
  return source;
}

static void
source_wait_attach (SourceWait *wait)
{
  wait->source = wait->source_new (wait);
  g_source_attach (wait->source, kaa_in_progress_get_context (wait->self));
}

static void
source_wait_detach (SourceWait *wait)
{
  if (wait->source == NULL)
    return;
  g_source_destroy (wait->source);
  g_clear_pointer (&wait->source, g_source_unref);
}

static void
source_wait_pause (KaaProducer   *producer,
                   KaaInProgress *self)
{
  SourceWait *wait = (SourceWait *) producer;

  wait->paused = TRUE;
  if (wait->remake_on_resume)
    source_wait_detach (wait);
}

/* A result held while paused is delivered from an idle of the context,
 * never inside the call to resume. */
static gboolean
source_wait_deliver_held (gpointer data)
{
  SourceWait *wait = data;

  g_clear_pointer (&wait->source, g_source_unref);
  source_wait_settle (wait);
  return G_SOURCE_REMOVE;
}

static void
source_wait_resume (KaaProducer   *producer,
                    KaaInProgress *self)
{
  SourceWait *wait = (SourceWait *) producer;

  wait->paused = FALSE;
  if (wait->held)
    {
      wait->held = FALSE;
      wait->source = g_idle_source_new ();
      g_source_set_priority (wait->source, G_PRIORITY_DEFAULT);
      g_source_set_callback (wait->source, source_wait_deliver_held, wait, NULL);
      g_source_attach (wait->source, kaa_in_progress_get_context (self));
    }
  else if (wait->source == NULL)
    source_wait_attach (wait);
}

static void
source_wait_release (KaaProducer *producer)
{
  SourceWait *wait = (SourceWait *) producer;

  source_wait_detach (wait);
  g_clear_object (&wait->socket);
  g_free (wait);
}

static const KaaProducerOps source_wait_ops = {
  .pause = source_wait_pause,
  .resume = source_wait_resume,
  .release = source_wait_release,
  .kind = "source wait",
};

static KaaInProgress *
source_wait_start (SourceWait *wait,
                   const char *name)
{
  KaaInProgress *self = kaa_in_progress_new ();

  kaa_in_progress_set_name (self, name);
  wait->producer.ops = &source_wait_ops;
  wait->self = self;
  kaa_in_progress_set_producer (self, &wait->producer);
  source_wait_attach (wait);
  return self;
}

/**
 * kaa_io_wait:
 * @fd: a file descriptor
 * @condition: what to wait for, %G_IO_IN, %G_IO_OUT, …
 *
 * An InProgress that finishes when @fd is ready, with the conditions met
 * as its integer result (%G_IO_HUP and %G_IO_ERR count as ready):
 * dugong's PollNeeded, for code driving a non-blocking protocol by hand.
 * Cancelling it removes the watch; paused, it does not watch.
 *
 * Returns: (transfer full): a new InProgress
 * Since: 0.1
 */
KaaInProgress *
kaa_io_wait (int          fd,
             GIOCondition condition)
{
  SourceWait *wait;

  kaa_return_failed_if_fail (fd >= 0);
  kaa_return_failed_if_fail (condition != 0);

  wait = g_new0 (SourceWait, 1);
  wait->source_new = fd_source_new;
  wait->remake_on_resume = TRUE;
  wait->fd = fd;
  wait->condition = condition;
  return source_wait_start (wait, "kaa_io_wait");
}

/**
 * kaa_socket_wait:
 * @socket: a socket
 * @condition: what to wait for, %G_IO_IN, %G_IO_OUT, …
 *
 * [func@Kaa.io_wait] for a #GSocket, through g_socket_create_source(),
 * so that it also works where a socket is not a plain file descriptor.
 *
 * Returns: (transfer full): a new InProgress finishing with the
 *   conditions met
 * Since: 0.1
 */
KaaInProgress *
kaa_socket_wait (GSocket      *socket,
                 GIOCondition  condition)
{
  SourceWait *wait;

  kaa_return_failed_if_fail (G_IS_SOCKET (socket));
  kaa_return_failed_if_fail (condition != 0);

  wait = g_new0 (SourceWait, 1);
  wait->source_new = socket_source_new;
  wait->remake_on_resume = TRUE;
  wait->socket = g_object_ref (socket);
  wait->condition = condition;
  return source_wait_start (wait, "kaa_socket_wait");
}

/**
 * kaa_child_wait:
 * @pid: a child process, as for g_child_watch_add()
 *
 * An InProgress that finishes when @pid exits, with its wait status as
 * the integer result (check it with g_spawn_check_wait_status()). The
 * child is reaped. Cancelling it stops watching; the child runs on.
 *
 * Returns: (transfer full): a new InProgress
 * Since: 0.1
 */
KaaInProgress *
kaa_child_wait (GPid pid)
{
  SourceWait *wait;

  kaa_return_failed_if_fail (pid > 0);

  wait = g_new0 (SourceWait, 1);
  wait->source_new = child_source_new;
  wait->pid = pid;
  return source_wait_start (wait, "kaa_child_wait");
}

/**
 * kaa_unix_signal:
 * @signum: %SIGHUP, %SIGINT, %SIGTERM, %SIGUSR1, %SIGUSR2 or %SIGWINCH,
 *   as for g_unix_signal_source_new()
 *
 * An InProgress that finishes, with @signum as its integer result, at the
 * next delivery of @signum to the process, handled on the main loop as
 * g_unix_signal_add() does. A signal that arrives while it is paused is
 * held until it is resumed.
 *
 * Returns: (transfer full): a new InProgress
 * Since: 0.1
 */
KaaInProgress *
kaa_unix_signal (int signum)
{
  SourceWait *wait;

  kaa_return_failed_if_fail (signum == SIGHUP || signum == SIGINT || signum == SIGTERM ||
                             signum == SIGUSR1 || signum == SIGUSR2 || signum == SIGWINCH);

  wait = g_new0 (SourceWait, 1);
  wait->source_new = signal_source_new;
  wait->signum = signum;
  return source_wait_start (wait, "kaa_unix_signal");
}
