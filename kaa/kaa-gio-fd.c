/* kaa-gio-fd.c: awaiting file descriptors, sockets, children and Unix
 * signals through a GSource (DESIGN §7)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A source wait is the producer of its InProgress, which owns it; each
 * GSource armed for it holds a reference to the wait (not to the
 * InProgress), so the wait outlives any dispatch of its sources. The
 * sources are attached to, and dispatched on, the owner context, but the
 * last reference to the InProgress may go on any thread, and with it the
 * release hook, which destroys the armed source there, guarded against
 * the context dying meanwhile (kaa_scheduler_destroy_source()). A
 * callback reaches the InProgress through the KaaWeakLink only
 * (kaa-in-progress-private.h says why), and touches the wait's fields
 * only once it holds a reference to the InProgress: until then the
 * release hook may be running on another thread.
 */
#include "config.h"

#include <glib-unix.h>

#include "kaa-i18n-private.h"
#include "kaa-error.h"
#include "kaa-gio.h"
#include "kaa-in-progress-private.h"
#include "kaa-refcount-private.h"
#include "kaa-unix-signal-private.h"

typedef struct _SourceWait SourceWait;

struct _SourceWait
{
  KaaProducer    producer;
  KaaRefCount    ref_count;               /* the producer slot, each armed source */
  KaaWeakLink    link;
  KaaDeathWatch *death;                   /* owned; set before it is shared */
  KaaScheduler  *scheduler;               /* owned: where the sources are attached */

  /* By whoever holds a reference to the InProgress (the owner, mostly),
   * and by the release hook, which comes after all of them. */
  GSource       *source;                  /* owned while armed */
  /* Paused, a source that can be made again goes (a ready fd would fire
   * on every iteration); one that cannot holds what it saw instead. */
  gboolean       paused;
  gboolean       held;
  gint64         result;

  /* Immutable. */
  GSource     *(*source_new) (SourceWait *wait);
  GSourceFunc    callback;                /* what the source calls, cast */
  gboolean       remake_on_resume;
  int            fd;
  GIOCondition   condition;
  GSocket       *socket;                  /* owned */
  GPid           pid;
  int            signum;
};

static SourceWait *
source_wait_ref (SourceWait *wait)
{
  kaa_ref_count_inc (&wait->ref_count);
  return wait;
}

static void
source_wait_unref (gpointer data)
{
  SourceWait *wait = data;

  if (!kaa_ref_count_dec (&wait->ref_count))
    return;
  g_clear_object (&wait->socket);
  g_clear_pointer (&wait->scheduler, kaa_scheduler_unref);
  g_free (wait);
}

/* The armed source's callback data is the wait itself, counted with the
 * wait's own reference count (g_source_set_callback_indirect(): the
 * source holds one reference, and GLib takes another around each
 * dispatch, on the dispatching thread). So the wait outlives a dispatch
 * that the release hook races, and whichever thread frees it does so
 * after its own atomic decrement, which orders every access the dispatch
 * made before the free. With g_source_set_callback() that order would
 * go through GLib's uninstrumented counts, invisible to TSan. */
static void
source_wait_cb_ref (gpointer data)
{
  source_wait_ref (data);
}

static void
source_wait_cb_get (gpointer     data,
                    GSource     *source,
                    GSourceFunc *func,
                    gpointer    *user_data)
{
  SourceWait *wait = data;

  *func = wait->callback;
  *user_data = wait;
}

static gboolean source_wait_deliver_held (gpointer data);

static void
source_wait_cb_get_held (gpointer     data,
                         GSource     *source,
                         GSourceFunc *func,
                         gpointer    *user_data)
{
  *func = source_wait_deliver_held;
  *user_data = data;
}

static GSourceCallbackFuncs source_wait_fire_funcs = {
  source_wait_cb_ref, source_wait_unref, source_wait_cb_get,
};

static GSourceCallbackFuncs source_wait_held_funcs = {
  source_wait_cb_ref, source_wait_unref, source_wait_cb_get_held,
};

static int
source_wait_get_fd (SourceWait *wait)
{
  return wait->socket != NULL ? g_socket_get_fd (wait->socket) : wait->fd;
}

/* Issue 17 §6: poll() reports an fd that is not open (never opened, or
 * closed while watched) as G_IO_NVAL; that is no readiness. */
static void
source_wait_settle (SourceWait    *wait,
                    KaaInProgress *self)
{
  if (wait->condition != 0 && (wait->result & G_IO_NVAL))
    kaa_in_progress_try_fail (self, g_error_new (G_IO_ERROR, G_IO_ERROR_CLOSED,
                                                 _("File descriptor %d is not open"),
                                                 source_wait_get_fd (wait)));
  else
    kaa_in_progress_try_finish_int64 (self, wait->result);
}

/* The result, unless paused: then it waits for the resume. */
static gboolean
source_wait_fire (SourceWait *wait,
                  gint64      result)
{
  KaaInProgress *self = kaa_weak_link_ref (&wait->link);

  /* Released, or being finalized on another thread: nobody to tell. */
  if (self == NULL)
    return G_SOURCE_REMOVE;
  wait->result = result;
  if (wait->paused)
    {
      wait->held = TRUE;
      g_clear_pointer (&wait->source, g_source_unref);
    }
  else
    source_wait_settle (wait, self);
  kaa_in_progress_unref (self);
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
  return g_unix_fd_source_new (wait->fd, wait->condition);
}

static GSource *
socket_source_new (SourceWait *wait)
{
  return g_socket_create_source (wait->socket, wait->condition, NULL);
}

static GSource *
child_source_new (SourceWait *wait)
{
  return g_child_watch_source_new (wait->pid);
}

static GSource *
signal_source_new (SourceWait *wait)
{
  return g_unix_signal_source_new (wait->signum);
}

static void
source_wait_attach (SourceWait    *wait,
                    KaaInProgress *self)
{
  wait->source = wait->source_new (wait);
  g_source_set_callback_indirect (wait->source, source_wait_ref (wait), &source_wait_fire_funcs);
  g_source_attach (wait->source, kaa_in_progress_get_context (self));
}

/* Any thread (the release hook's may be any): see
 * kaa_scheduler_destroy_source() for why not g_source_destroy(). */
static void
source_wait_detach (SourceWait *wait)
{
  if (wait->source == NULL)
    return;
  kaa_scheduler_destroy_source (wait->scheduler, g_steal_pointer (&wait->source));
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
  KaaInProgress *self = kaa_weak_link_ref (&wait->link);

  if (self == NULL)
    return G_SOURCE_REMOVE;
  g_clear_pointer (&wait->source, g_source_unref);
  source_wait_settle (wait, self);
  kaa_in_progress_unref (self);
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
      g_source_set_callback_indirect (wait->source, source_wait_ref (wait),
                                      &source_wait_held_funcs);
      g_source_attach (wait->source, kaa_in_progress_get_context (self));
    }
  else if (wait->source == NULL)
    source_wait_attach (wait, self);
}

/* Any thread: where the InProgress settles, or where its last reference
 * goes. A dispatch of the armed source running on the owner meanwhile
 * finds the link released, or the InProgress's count at zero. */
static void
source_wait_release (KaaProducer *producer)
{
  SourceWait *wait = (SourceWait *) producer;

  kaa_death_watch_release (g_steal_pointer (&wait->death));
  kaa_weak_link_release (&wait->link);
  source_wait_detach (wait);
  source_wait_unref (wait);
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

  kaa_in_progress_set_static_name (self, name);
  wait->producer.ops = &source_wait_ops;
  kaa_ref_count_init (&wait->ref_count);      /* the producer slot */
  kaa_weak_link_init (&wait->link, self);
  wait->scheduler = kaa_scheduler_ref (kaa_in_progress_get_scheduler (self));
  kaa_in_progress_set_producer (self, &wait->producer);
  wait->death = kaa_death_watch_new (self);
  source_wait_attach (wait, self);
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
 * Cancelling it removes the watch; paused, it does not watch. If @fd is
 * not open (never opened, or closed while watched), it fails with
 * %G_IO_ERROR_CLOSED.
 *
 * The watch runs on the owner context; the last reference may be
 * dropped on any thread, which removes the watch.
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
  wait->callback = G_SOURCE_FUNC (fd_ready);
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
 * so that it also works where a socket is not a plain file descriptor. A
 * socket whose descriptor is not open fails it with %G_IO_ERROR_CLOSED.
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
  wait->callback = G_SOURCE_FUNC (socket_ready);
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
  wait->callback = G_SOURCE_FUNC (child_exited);
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

  kaa_return_failed_if_fail (kaa_unix_signal_is_supported (signum));

  wait = g_new0 (SourceWait, 1);
  wait->source_new = signal_source_new;
  wait->callback = signal_received;
  wait->signum = signum;
  return source_wait_start (wait, "kaa_unix_signal");
}
