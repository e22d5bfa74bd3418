/* kaa-gio-stream.c: streams of repeated events, as channels
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * DESIGN §9: a stream is a KaaChannel that a source feeds and that the
 * consumer only receives from, so that every emission, signal or line
 * that came after the stream was made is queued until it is received,
 * and none falls between two awaits (issue #18, where a coroutine
 * re-arming kaa_in_progress_new_for_signal() in a loop lost one). A
 * consumer loops with kaa_channel_await_next().
 *
 * Sources that cannot wait (a signal handler, a Unix signal) push with
 * the stream's overflow policy; a line reader waits for room instead,
 * which is backpressure on the pipe. The source stops when the channel is
 * closed, by the consumer or by the source itself (the object finalized,
 * the end of the input): the channel's close notify, set here, reaches
 * it. The source holds the channel's memory (kaa_channel_hold()), not a
 * reference, so that dropping the consumer's last reference closes the
 * stream and stops the source.
 */
#include "config.h"

#include <glib-unix.h>

#include "kaa-channel-private.h"
#include "kaa-error.h"
#include "kaa-gio.h"
#include "kaa-gio-stream.h"
#include "kaa-i18n-private.h"
#include "kaa-in-progress-private.h"
#include "kaa-refcount-private.h"
#include "kaa-signal-args-private.h"
#include "kaa-unix-signal-private.h"

/* ------------------------------------------------------ signal streams */

typedef struct
{
  KaaRefCount ref_count;   /* the closure's, and the close notify's */
  KaaChannel *channel;     /* owned */
  KaaOverflow overflow;
  GWeakRef    instance;
  gint        stopped;     /* atomic: the handler is going, once */
} SignalStream;

static void
signal_stream_unref (gpointer  data,
                     GClosure *closure)
{
  SignalStream *stream = data;

  if (!kaa_ref_count_dec (&stream->ref_count))
    return;
  kaa_channel_release (stream->channel);
  g_weak_ref_clear (&stream->instance);
  g_free (stream);
}

/* On the emitting thread, any thread. */
static void
signal_stream_marshal (GClosure     *closure,
                       GValue       *return_value,
                       guint         n_param_values,
                       const GValue *param_values,
                       gpointer      invocation_hint,
                       gpointer      marshal_data)
{
  SignalStream *stream = closure->data;

  kaa_channel_push (stream->channel,
                    kaa_signal_args_new_for_emission (n_param_values, param_values),
                    stream->overflow);
}

/* The handler went: the instance was disposed, or the close below
 * disconnected it. GSignal runs this after any emission still running,
 * so the end comes after the last item. */
static void
signal_stream_invalidated (gpointer  data,
                           GClosure *closure)
{
  SignalStream *stream = data;

  g_atomic_int_set (&stream->stopped, TRUE);
  kaa_channel_close (stream->channel);
}

/* The channel's close notify: the consumer (or an overflow) closed it. */
static void
signal_stream_stop (gpointer data)
{
  SignalStream *stream = data;

  if (g_atomic_int_compare_and_exchange (&stream->stopped, FALSE, TRUE))
    {
      GObject *instance = g_weak_ref_get (&stream->instance);

      /* By data: the stream is alive, so no other handler has it. */
      if (instance != NULL)
        {
          g_signal_handlers_disconnect_matched (instance, G_SIGNAL_MATCH_DATA,
                                                0, 0, NULL, NULL, stream);
          g_object_unref (instance);
        }
    }
  signal_stream_unref (stream, NULL);
}

/**
 * kaa_channel_new_for_signal:
 * @instance: (type GObject): the object to listen to
 * @detailed_signal: a signal of @instance, as for g_signal_connect()
 * @bound: how many emissions wait for the consumer at most
 * @overflow: what happens to an emission beyond @bound
 *
 * A stream of the emissions of @detailed_signal on @instance: every
 * emission after this call is queued, with its arguments (after the
 * instance) as a [struct@Kaa.SignalArgs] (a #GArray of #GValue in C),
 * until it is received; none is lost between two awaits. Beyond @bound,
 * @overflow decides. Loop over it with [method@Kaa.Channel.await_next],
 * and free each item with g_array_unref(). Bindings receive with
 * [method@Kaa.Channel.receive_value], whose InProgress reads the item
 * with [method@Kaa.InProgress.get_value].
 *
 * The stream ends when @instance is disposed: the emissions already
 * queued are received, then the loop ends, without an error (unless the
 * stream overflowed with %KAA_OVERFLOW_FAIL). [method@Kaa.Channel.close]
 * ends it early and disconnects the handler, as dropping the last
 * reference to it does. The signal may be emitted on any thread.
 * The handler leaves a signal's return value alone. Cancelling a receive
 * takes no emission; cancelling the coroutine that loops leaves the
 * stream as it is, for whoever receives next.
 *
 * An unknown @detailed_signal is a programming error: it logs a critical
 * and returns a stream that is already closed with
 * `KAA_ERROR_INVALID_ARGUMENT`.
 *
 * Returns: (transfer full): the stream
 * Since: 0.2
 */
KaaChannel *
kaa_channel_new_for_signal (gpointer     instance,
                            const char  *detailed_signal,
                            guint        bound,
                            KaaOverflow  overflow)
{
  KaaChannel *self = kaa_channel_new_full (bound, (GDestroyNotify) kaa_signal_args_unref);
  SignalStream *stream;
  GClosure *closure;
  guint signal_id;
  GQuark detail;

  if (!G_IS_OBJECT (instance) || detailed_signal == NULL || overflow > KAA_OVERFLOW_FAIL ||
      !g_signal_parse_name (detailed_signal, G_OBJECT_TYPE (instance), &signal_id, &detail, TRUE))
    {
      g_autoptr(GError) error = NULL;

      g_critical ("%s: no signal '%s' on %s, or a bad overflow policy: stream %p is closed",
                  G_STRFUNC, detailed_signal != NULL ? detailed_signal : "(null)",
                  G_IS_OBJECT (instance) ? G_OBJECT_TYPE_NAME (instance) : "a non-object",
                  self);
      error = g_error_new (KAA_ERROR, KAA_ERROR_INVALID_ARGUMENT,
                           _("No signal “%s” to make a stream of"),
                           detailed_signal != NULL ? detailed_signal : "");
      kaa_channel_close_with_error (self, error);
      return self;
    }

  stream = g_new0 (SignalStream, 1);
  kaa_ref_count_init (&stream->ref_count);       /* the close notify's */
  kaa_ref_count_inc (&stream->ref_count);        /* the closure's */
  stream->channel = kaa_channel_hold (self);
  stream->overflow = overflow;
  g_weak_ref_init (&stream->instance, instance);
  kaa_channel_set_close_notify (self, signal_stream_stop, stream);

  closure = g_closure_new_simple (sizeof (GClosure), stream);
  g_closure_set_marshal (closure, signal_stream_marshal);
  g_closure_add_finalize_notifier (closure, stream, signal_stream_unref);
  g_closure_add_invalidate_notifier (closure, stream, signal_stream_invalidated);
  g_signal_connect_closure_by_id (instance, signal_id, detail, closure, FALSE);
  return self;
}

/* ------------------------------------------------- Unix signal streams */

typedef struct
{
  KaaChannel *channel;     /* owned */
  KaaOverflow overflow;
  int         signum;
} UnixStream;

/* The source goes: after the close, or with its context, which ends the
 * stream as a close would (DESIGN §3), rather than leave it silent. */
static void
unix_stream_free (gpointer data)
{
  UnixStream *stream = data;

  kaa_channel_close (stream->channel);
  kaa_channel_release (stream->channel);
  g_free (stream);
}

static gboolean
unix_stream_delivered (gpointer data)
{
  UnixStream *stream = data;

  kaa_channel_push (stream->channel, GINT_TO_POINTER (stream->signum), stream->overflow);
  return G_SOURCE_CONTINUE;
}

/* What a close stops: the signal's source, on the context it watches. */
typedef struct
{
  GSource      *source;      /* owned */
  KaaScheduler *scheduler;   /* owned: its context's */
} UnixStreamWatch;

/* Any thread: the consumer may close, or drop its last reference, on
 * any thread, while the context dies (kaa_scheduler_destroy_source()). */
static void
unix_stream_stop (gpointer data)
{
  UnixStreamWatch *watch = data;

  kaa_scheduler_destroy_source (watch->scheduler, watch->source);
  kaa_scheduler_unref (watch->scheduler);
  g_free (watch);
}

/* A programming error, answered as kaa_channel_new_for_signal() answers
 * one: the usual critical, and a stream already closed with
 * `KAA_ERROR_INVALID_ARGUMENT`, whose loop ends at once rather than wait
 * for ever on a source that was never made. */
static KaaChannel *
stream_refused (KaaChannel *self,
                const char *function,
                const char *expression)
{
  g_autoptr(GError) error = kaa_invalid_argument_error_new (function, expression);

  g_return_if_fail_warning (G_LOG_DOMAIN, function, expression);
  kaa_channel_close_with_error (self, error);
  return self;
}

#define stream_return_closed_if_fail(expr, self)                                 \
  G_STMT_START {                                                                 \
    if (G_UNLIKELY (!(expr)))                                                    \
      return stream_refused ((self), G_STRFUNC, #expr);                          \
  } G_STMT_END

/**
 * kaa_channel_new_for_unix_signal: (skip)
 * @signum: `SIGHUP`, `SIGINT`, `SIGTERM`, `SIGUSR1`, `SIGUSR2` or
 *   `SIGWINCH`, as for g_unix_signal_source_new()
 * @bound: how many deliveries wait for the consumer at most
 * @overflow: what happens to a delivery beyond @bound
 *
 * A stream of the deliveries of the Unix signal @signum, each one an item
 * `GINT_TO_POINTER (signum)`, noticed on the calling thread's
 * thread-default context as g_unix_signal_source_new() notices them
 * (deliveries that come together while the context is busy may count as
 * one). It ends when [method@Kaa.Channel.close] is called, or its last
 * reference dropped, which stops watching the signal, or when that
 * context is finalized.
 *
 * Another @signum, or an @overflow that is no #KaaOverflow, is a
 * programming error: it logs a critical and returns a stream that is
 * already closed with `KAA_ERROR_INVALID_ARGUMENT`.
 *
 * Returns: (transfer full): the stream
 * Since: 0.2
 */
KaaChannel *
kaa_channel_new_for_unix_signal (int         signum,
                                 guint       bound,
                                 KaaOverflow overflow)
{
  KaaChannel *self = kaa_channel_new (bound);
  UnixStreamWatch *watch;
  UnixStream *stream;
  GSource *source;

  stream_return_closed_if_fail (kaa_unix_signal_is_supported (signum), self);
  stream_return_closed_if_fail (overflow <= KAA_OVERFLOW_FAIL, self);

  stream = g_new0 (UnixStream, 1);
  stream->channel = kaa_channel_hold (self);
  stream->overflow = overflow;
  stream->signum = signum;
  source = g_unix_signal_source_new (signum);
  g_source_set_static_name (source, "[kaa] unix signal stream");
  g_source_set_callback (source, unix_stream_delivered, stream, unix_stream_free);
  watch = g_new (UnixStreamWatch, 1);
  watch->source = source;
  watch->scheduler = kaa_scheduler_ref (kaa_scheduler_get_thread_default ());
  kaa_channel_set_close_notify (self, unix_stream_stop, watch);
  g_source_attach (source, kaa_scheduler_get_context (watch->scheduler));
  return self;
}

/* -------------------------------------------------------- line streams */

typedef struct
{
  KaaChannel       *channel;       /* owned */
  GDataInputStream *input;         /* owned */
  GCancellable     *cancellable;   /* owned; the close notify has its own */
} LineStream;

static void line_stream_read (LineStream *stream);

static void
line_stream_free (LineStream *stream)
{
  kaa_channel_release (stream->channel);
  g_object_unref (stream->input);
  g_object_unref (stream->cancellable);
  g_free (stream);
}

static void
line_stream_sent (KaaInProgress *send,
                  gpointer       data)
{
  LineStream *stream = data;

  /* Not sent: the consumer closed the stream, which stops it; the
   * close's error is read, so that it is no unhandled failure. */
  if (kaa_in_progress_get_state (send) == KAA_STATE_FINISHED)
    line_stream_read (stream);
  else
    {
      (void) kaa_in_progress_get_error (send);
      line_stream_free (stream);
    }
  kaa_in_progress_unref (send);   /* the one line_stream_line() handed over */
}

static void
line_stream_line (GObject      *source,
                  GAsyncResult *result,
                  gpointer      data)
{
  LineStream *stream = data;
  g_autoptr(GError) error = NULL;
  char *line = g_data_input_stream_read_line_finish_utf8 (stream->input, result, NULL, &error);

  if (line == NULL)
    {
      /* The end of the input ends the stream; a failure ends it with its
       * error, except the cancel a close made. */
      if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        kaa_channel_close_with_error (stream->channel, error);
      else
        kaa_channel_close (stream->channel);
      line_stream_free (stream);
      return;
    }
  /* The next line is read only once this one is in: backpressure. The
   * reference goes to the callback: a waiting send dropped would leave
   * the channel, and the callback would never run. */
  kaa_in_progress_connect (kaa_channel_send (stream->channel, line), line_stream_sent, stream,
                           NULL);
}

static void
line_stream_read (LineStream *stream)
{
  g_data_input_stream_read_line_async (stream->input, G_PRIORITY_DEFAULT, stream->cancellable,
                                       line_stream_line, stream);
}

static void
line_stream_stop (gpointer data)
{
  g_cancellable_cancel (data);
  g_object_unref (data);
}

/**
 * kaa_channel_new_for_lines: (skip)
 * @stream: a #GInputStream, such as g_subprocess_get_stdout_pipe()
 * @capacity: how many lines wait for the consumer at most
 *
 * A stream of the lines of @stream (UTF-8, without their ends), each one
 * an item that the channel owns (free it with g_free()), for a child
 * process's output. Reading waits while @capacity lines wait for the
 * consumer: the child is slowed down rather than a line dropped. The
 * reads are made on the calling thread's thread-default context.
 *
 * The stream ends at the end of the input: the lines are received, then
 * the loop ends without an error; a read that fails (invalid UTF-8, an I/O
 * error) ends it with that error. [method@Kaa.Channel.close], or
 * dropping the last reference, stops the reads.
 *
 * Returns: (transfer full): the stream
 * Since: 0.2
 */
KaaChannel *
kaa_channel_new_for_lines (GInputStream *stream,
                           guint         capacity)
{
  KaaChannel *self = kaa_channel_new_full (capacity, g_free);
  LineStream *lines;

  g_return_val_if_fail (G_IS_INPUT_STREAM (stream), self);

  lines = g_new0 (LineStream, 1);
  lines->channel = kaa_channel_hold (self);
  lines->input = g_data_input_stream_new (stream);
  g_data_input_stream_set_newline_type (lines->input, G_DATA_STREAM_NEWLINE_TYPE_ANY);
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (lines->input), FALSE);
  lines->cancellable = g_cancellable_new ();
  kaa_channel_set_close_notify (self, line_stream_stop, g_object_ref (lines->cancellable));
  line_stream_read (lines);
  return self;
}

/* ---------------------------------------------------------- fd streams */

typedef struct
{
  KaaRefCount    ref_count;   /* the loop's, and the close notify's */
  KaaChannel    *channel;     /* owned */
  int            fd;
  GIOCondition   condition;
  GMutex         lock;
  KaaInProgress *wait;        /* under the lock: the readiness awaited now */
  gboolean       stopped;     /* under the lock: the channel was closed */
} FdStream;

static void fd_stream_watch (FdStream *stream);

static void
fd_stream_unref (FdStream *stream)
{
  if (!kaa_ref_count_dec (&stream->ref_count))
    return;
  kaa_channel_release (stream->channel);
  g_mutex_clear (&stream->lock);
  g_free (stream);
}

static void
fd_stream_sent (KaaInProgress *send,
                gpointer       data)
{
  FdStream *stream = data;

  if (kaa_in_progress_get_state (send) == KAA_STATE_FINISHED)
    fd_stream_watch (stream);
  else
    {
      (void) kaa_in_progress_get_error (send);   /* closed: the end */
      fd_stream_unref (stream);
    }
  kaa_in_progress_unref (send);   /* the one fd_stream_ready() handed over */
}

static void
fd_stream_ready (KaaInProgress *wait,
                 gpointer       data)
{
  FdStream *stream = data;
  KaaInProgress *send;

  g_mutex_lock (&stream->lock);
  g_clear_pointer (&stream->wait, kaa_in_progress_unref);
  g_mutex_unlock (&stream->lock);
  if (kaa_in_progress_get_state (wait) != KAA_STATE_FINISHED)
    {
      /* Cancelled by the close, or the fd went away: the end, with why. */
      const GError *error = kaa_in_progress_get_error (wait);

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        kaa_channel_close (stream->channel);
      else
        kaa_channel_close_with_error (stream->channel, error);
      fd_stream_unref (stream);
      return;
    }
  /* A rendezvous: the next watch starts once a receiver took this one. */
  send = kaa_channel_send (stream->channel,
                           GUINT_TO_POINTER ((guint) kaa_in_progress_get_int64 (wait)));
  /* Its reference goes to the callback, as for a line stream's. */
  kaa_in_progress_connect (send, fd_stream_sent, stream, NULL);
}

static void
fd_stream_watch (FdStream *stream)
{
  KaaInProgress *wait = kaa_io_wait (stream->fd, stream->condition);

  g_mutex_lock (&stream->lock);
  if (stream->stopped)
    kaa_in_progress_cancel (wait);
  else
    stream->wait = kaa_in_progress_ref (wait);
  g_mutex_unlock (&stream->lock);
  kaa_in_progress_connect (wait, fd_stream_ready, stream, NULL);
  kaa_in_progress_unref (wait);
}

/* The close notify, on the closing thread: the watch goes at once. */
static void
fd_stream_stop (gpointer data)
{
  FdStream *stream = data;
  KaaInProgress *wait;

  g_mutex_lock (&stream->lock);
  stream->stopped = TRUE;
  wait = stream->wait != NULL ? kaa_in_progress_ref (stream->wait) : NULL;
  g_mutex_unlock (&stream->lock);
  if (wait != NULL)
    {
      kaa_in_progress_cancel (wait);
      kaa_in_progress_unref (wait);
    }
  fd_stream_unref (stream);
}

/**
 * kaa_channel_new_for_fd: (skip)
 * @fd: a file descriptor
 * @condition: what to watch for, %G_IO_IN, %G_IO_OUT, …
 *
 * A stream of @fd's readiness: each item is the #GIOCondition met, as
 * `GUINT_TO_POINTER (condition)`, for code driving a non-blocking
 * protocol in a loop. A rendezvous channel: @fd is watched again only
 * once a receiver took the last item, so a level-triggered readiness that
 * the consumer has not acted on yet does not pile up; the consumer reads
 * or writes without blocking until `EAGAIN`, then awaits the next item.
 * The watch runs on the calling thread's thread-default context.
 *
 * The stream ends when [method@Kaa.Channel.close] is called, or its last
 * reference dropped, which removes the watch, or fails with `G_IO_ERROR_CLOSED` when @fd is not
 * open.
 *
 * Returns: (transfer full): the stream
 * Since: 0.2
 */
KaaChannel *
kaa_channel_new_for_fd (int          fd,
                        GIOCondition condition)
{
  KaaChannel *self = kaa_channel_new (0);
  FdStream *stream = g_new0 (FdStream, 1);

  kaa_ref_count_init (&stream->ref_count);    /* the close notify's */
  kaa_ref_count_inc (&stream->ref_count);     /* the loop's */
  stream->channel = kaa_channel_hold (self);
  stream->fd = fd;
  stream->condition = condition;
  g_mutex_init (&stream->lock);
  kaa_channel_set_close_notify (self, fd_stream_stop, stream);
  fd_stream_watch (stream);
  return self;
}
