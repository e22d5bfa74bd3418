/* test-gio.c: awaiting GIO calls, signals, fds, children, Unix signals
 * (DESIGN §7)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <unistd.h>

#include <gio/gunixinputstream.h>
#include <glib/gstdio.h>
#include <sys/socket.h>

#include "kaa-test-util.h"

typedef KaaTestFixture Fixture;

#define KAA_TEST_AREA "gio"

/* ------------------------------------------------------------ async calls */

typedef struct
{
  GFile  *file;
  char   *contents;
  GError *error;
} Load;

static void
body_loads (KaaCoroutine *co,
            gpointer      data)
{
  Load *load = data;
  KaaInProgress *ip = kaa_in_progress_new ();
  g_autoptr(GAsyncResult) res = NULL;

  g_file_load_contents_async (load->file, kaa_in_progress_get_cancellable (ip),
                              kaa_async_ready, kaa_async_data (ip));
  res = kaa_await_object (ip, &load->error);
  if (res != NULL)
    g_file_load_contents_finish (load->file, res, &load->contents, NULL, NULL, &load->error);
}

static void
test_async_ready (Fixture       *f,
                  gconstpointer  data)
{
  g_autofree char *path = g_build_filename (g_get_tmp_dir (), "kaa-test-gio-XXXXXX", NULL);
  int fd = g_mkstemp (path);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFile) missing = g_file_new_for_path ("/nonexistent/kaa-test");
  Load good = { file, NULL, NULL }, bad = { missing, NULL, NULL };
  g_autoptr(KaaInProgress) a = NULL;
  g_autoptr(KaaInProgress) b = NULL;

  g_test_summary ("DESIGN §7: any g_*_async call finishes an InProgress through "
                  "kaa_async_ready; its GError passes through unchanged");

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (write (fd, "hello", 5), ==, 5);
  close (fd);
  a = kaa_coroutine_spawn (body_loads, &good, NULL);
  b = kaa_coroutine_spawn (body_loads, &bad, NULL);
  g_assert_true (kaa_in_progress_wait (a, NULL));
  g_assert_true (kaa_in_progress_wait (b, NULL));
  g_assert_no_error (good.error);
  g_assert_cmpstr (good.contents, ==, "hello");
  g_assert_error (bad.error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_free (good.contents);
  g_clear_error (&bad.error);
  g_unlink (path);
}

typedef struct
{
  GInputStream *stream;
  GError       *error;
} Read;

static void
body_reads (KaaCoroutine *co,
            gpointer      data)
{
  Read *read = data;
  KaaInProgress *ip = kaa_in_progress_new ();
  g_autoptr(GAsyncResult) res = NULL;

  g_input_stream_read_bytes_async (read->stream, 16, G_PRIORITY_DEFAULT,
                                   kaa_in_progress_get_cancellable (ip),
                                   kaa_async_ready, kaa_async_data (ip));
  res = kaa_await_object (ip, &read->error);
}

static void
test_async_cancel (Fixture       *f,
                   gconstpointer  data)
{
  int fds[2];
  g_autoptr(GInputStream) stream = NULL;
  g_autoptr(GBytes) bytes = NULL;
  Read read = { NULL, NULL };
  g_autoptr(KaaInProgress) ip = NULL;

  g_test_summary ("DESIGN §7: cancelling a coroutine awaiting a GIO call cancels the "
                  "call itself: the stream is free for the next read");

  g_assert_no_errno (pipe (fds));
  stream = g_unix_input_stream_new (fds[0], TRUE);
  read.stream = stream;
  ip = kaa_coroutine_spawn (body_reads, &read, NULL);
  kaa_test_drain (f->context);
  g_assert_true (g_input_stream_has_pending (stream));

  kaa_in_progress_cancel (ip);
  g_assert_error (read.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  /* The read's own completion comes back with CANCELLED, and is dropped. */
  while (g_input_stream_has_pending (stream))
    g_main_context_iteration (f->context, TRUE);

  g_assert_cmpint (write (fds[1], "x", 1), ==, 1);
  bytes = g_input_stream_read_bytes (stream, 16, NULL, NULL);
  g_assert_cmpuint (g_bytes_get_size (bytes), ==, 1);
  close (fds[1]);
  g_clear_error (&read.error);
}

/* A coroutine offered as an _async()/_finish() pair. */
static void
body_answers (KaaCoroutine *co,
              gpointer      data)
{
  if (kaa_await (kaa_sleep (GPOINTER_TO_UINT (data)), NULL))
    kaa_coroutine_return_string (co, "answer");
}

static void
answer_async (GObject             *self,
              guint                msec,
              GCancellable        *cancellable,
              GAsyncReadyCallback  callback,
              gpointer             user_data)
{
  g_autoptr(KaaInProgress) ip = kaa_coroutine_spawn (body_answers, GUINT_TO_POINTER (msec), NULL);

  kaa_in_progress_to_task (ip, self, cancellable, callback, user_data, answer_async);
}

static char *
answer_finish (GObject       *self,
               GAsyncResult  *result,
               GError       **error)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_from_task (result, self, answer_async, error);

  return ip != NULL ? kaa_in_progress_dup_string (ip) : NULL;
}

typedef struct
{
  char   *answer;
  GError *error;
  gboolean done;
} Answer;

static void
answered (GObject      *source,
          GAsyncResult *result,
          gpointer      data)
{
  Answer *answer = data;

  answer->answer = answer_finish (source, result, &answer->error);
  answer->done = TRUE;
}

static void
test_to_task (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GObject) object = g_object_new (G_TYPE_OBJECT, NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  Answer ok = { NULL, NULL, FALSE }, cancelled = { NULL, NULL, FALSE };

  g_test_summary ("DESIGN §7: a coroutine offered as a standard _async/_finish pair; "
                  "the caller's cancellable cancels it");

  answer_async (object, 1, NULL, answered, &ok);
  answer_async (object, 10000, cancellable, answered, &cancelled);
  while (!ok.done)
    g_main_context_iteration (f->context, TRUE);
  g_assert_no_error (ok.error);
  g_assert_cmpstr (ok.answer, ==, "answer");

  g_cancellable_cancel (cancellable);
  while (!cancelled.done)
    g_main_context_iteration (f->context, TRUE);
  g_assert_null (cancelled.answer);
  g_assert_error (cancelled.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (kaa_test_next_wakeup_msec (f->context), ==, -1);
  g_free (ok.answer);
  g_clear_error (&cancelled.error);
}

/* ---------------------------------------------------------------- signals */

static void
test_signal (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GSimpleAction) action = g_simple_action_new ("go", G_VARIANT_TYPE_INT32);
  guint signal_id = g_signal_lookup ("activate", G_TYPE_SIMPLE_ACTION);
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new_for_signal (action, "activate");
  GArray *args;

  g_test_summary ("DESIGN §7: an InProgress for the next emission of a signal "
                  "carries its arguments, and its handler is gone afterwards");

  g_assert_true (g_signal_has_handler_pending (action, signal_id, 0, FALSE));
  g_action_activate (G_ACTION (action), g_variant_new_int32 (7));
  g_assert_true (kaa_in_progress_is_done (ip));
  g_assert_false (g_signal_has_handler_pending (action, signal_id, 0, FALSE));

  args = kaa_in_progress_get_pointer (ip);
  g_assert_cmpuint (args->len, ==, 1);
  g_assert_cmpint (g_variant_get_int32 (g_value_get_variant (&g_array_index (args, GValue, 0))),
                   ==, 7);
  /* One-shot: a second emission changes nothing. */
  g_action_activate (G_ACTION (action), g_variant_new_int32 (8));
}

static void
test_signal_cancel_pause_finalize (Fixture       *f,
                                   gconstpointer  data)
{
  GSimpleAction *action = g_simple_action_new ("go", NULL);
  guint signal_id = g_signal_lookup ("activate", G_TYPE_SIMPLE_ACTION);
  g_autoptr(KaaInProgress) cancelled = kaa_in_progress_new_for_signal (action, "activate");
  g_autoptr(KaaInProgress) paused = NULL;
  g_autoptr(KaaInProgress) orphan = NULL;

  g_test_summary ("DESIGN §7: a signal wait's handler goes on cancel; paused it lets "
                  "emissions pass; the instance's finalization fails it");

  kaa_in_progress_cancel (cancelled);
  g_assert_false (g_signal_has_handler_pending (action, signal_id, 0, FALSE));

  paused = kaa_in_progress_new_for_signal (action, "activate");
  kaa_in_progress_pause (paused);
  g_action_activate (G_ACTION (action), NULL);
  g_assert_false (kaa_in_progress_is_done (paused));
  kaa_in_progress_resume (paused);
  g_action_activate (G_ACTION (action), NULL);
  g_assert_true (kaa_in_progress_is_done (paused));

  orphan = kaa_in_progress_new_for_signal (action, "activate");
  g_object_unref (action);
  g_assert_error (kaa_in_progress_get_error (orphan), KAA_ERROR, KAA_ERROR_FAILED);
}

/* -------------------------------------------------------- fds and children */

static void
test_io_wait (Fixture       *f,
              gconstpointer  data)
{
  int fds[2];
  g_autoptr(KaaInProgress) ip = NULL;
  g_autoptr(KaaInProgress) cancelled = NULL;

  g_test_summary ("DESIGN §7: kaa_io_wait finishes when the fd is ready; paused it "
                  "does not watch; cancelled, its watch is gone");

  g_assert_no_errno (pipe (fds));
  cancelled = kaa_io_wait (fds[0], G_IO_IN);
  kaa_in_progress_cancel (cancelled);

  ip = kaa_io_wait (fds[0], G_IO_IN);
  kaa_in_progress_pause (ip);
  g_assert_cmpint (write (fds[1], "x", 1), ==, 1);
  kaa_test_drain (f->context);
  g_assert_false (kaa_in_progress_is_done (ip));
  kaa_in_progress_resume (ip);
  g_assert_true (kaa_in_progress_wait (ip, NULL));
  g_assert_cmpint (kaa_in_progress_get_int64 (ip) & G_IO_IN, ==, G_IO_IN);
  close (fds[0]);
  close (fds[1]);
}

static void
test_socket_wait (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  int fds[2];
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(KaaInProgress) ip = NULL;

  g_test_summary ("DESIGN §7: kaa_socket_wait finishes when a GSocket is readable");

  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM, 0, fds));
  socket = g_socket_new_from_fd (fds[0], &error);
  g_assert_no_error (error);
  ip = kaa_socket_wait (socket, G_IO_IN);
  kaa_test_drain (f->context);
  g_assert_false (kaa_in_progress_is_done (ip));
  g_assert_cmpint (write (fds[1], "x", 1), ==, 1);
  g_assert_true (kaa_in_progress_wait (ip, NULL));
  g_assert_cmpint (kaa_in_progress_get_int64 (ip) & G_IO_IN, ==, G_IO_IN);
  close (fds[1]);
}

static void
test_child_wait (Fixture       *f,
                 gconstpointer  data)
{
  char *argv[] = { (char *) "/bin/sh", (char *) "-c", (char *) "exit 3", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(KaaInProgress) ip = NULL;
  GPid pid;

  g_test_summary ("DESIGN §7: kaa_child_wait finishes with the child's wait status");

  g_assert_true (g_spawn_async (NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                &pid, &error));
  g_assert_no_error (error);
  ip = kaa_child_wait (pid);
  g_assert_true (kaa_in_progress_wait (ip, NULL));
  g_assert_false (g_spawn_check_wait_status ((gint) kaa_in_progress_get_int64 (ip), &error));
  g_assert_error (error, G_SPAWN_EXIT_ERROR, 3);
}

static void
test_unix_signal (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(KaaInProgress) ip = kaa_unix_signal (SIGUSR1);
  g_autoptr(KaaInProgress) held = NULL;

  g_test_summary ("DESIGN §7: kaa_unix_signal finishes at the next delivery; one "
                  "that arrives while paused is held until resumed");

  g_assert_no_errno (kill (getpid (), SIGUSR1));
  g_assert_true (kaa_in_progress_wait (ip, NULL));
  g_assert_cmpint (kaa_in_progress_get_int64 (ip), ==, SIGUSR1);

  held = kaa_unix_signal (SIGUSR2);
  kaa_in_progress_pause (held);
  g_assert_no_errno (kill (getpid (), SIGUSR2));
  kaa_test_pump_for (50);
  g_assert_false (kaa_in_progress_is_done (held));
  kaa_in_progress_resume (held);
  g_assert_false (kaa_in_progress_is_done (held));   /* not inside resume */
  g_assert_true (kaa_in_progress_wait (held, NULL));
  g_assert_cmpint (kaa_in_progress_get_int64 (held), ==, SIGUSR2);
}

/* ------------------------------------------------------- wrapped calls */

static void
test_file_calls (Fixture       *f,
                 gconstpointer  data)
{
  g_autofree char *dir = g_dir_make_tmp ("kaa-test-gio-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "file", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GBytes) hello = g_bytes_new_static ("hello", 5);
  g_autoptr(KaaInProgress) replace = kaa_file_replace_contents (file, hello);
  g_autoptr(KaaInProgress) load = NULL;
  g_autoptr(KaaInProgress) missing = NULL;
  g_autoptr(GFile) nowhere = g_file_new_for_path ("/nonexistent/kaa-test");

  g_test_summary ("DESIGN §7: file contents replaced and loaded through InProgresses");

  g_assert_true (kaa_in_progress_wait (replace, NULL));
  g_assert_true (kaa_in_progress_get_boolean (replace));
  load = kaa_file_load_contents (file);
  g_assert_true (kaa_in_progress_wait (load, NULL));
  g_assert_true (g_bytes_equal (kaa_in_progress_get_pointer (load), hello));

  missing = kaa_file_load_contents (nowhere);
  g_assert_false (kaa_in_progress_wait (missing, NULL));
  g_assert_error (kaa_in_progress_get_error (missing), G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_unlink (path);
  g_rmdir (dir);
}

/* A server on 127.0.0.1 that greets each connection and keeps it open. */
static gboolean
greet (GSocketService    *service,
       GSocketConnection *connection,
       GObject           *source,
       gpointer           data)
{
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (connection));

  g_output_stream_write_all (out, "hello", 5, NULL, NULL, NULL);
  g_ptr_array_add (data, g_object_ref (connection));
  return TRUE;
}

typedef struct
{
  guint16  port;
  GString *log;
} Client;

static void
body_client (KaaCoroutine *co,
             gpointer      data)
{
  Client *client = data;
  g_autoptr(GSocketClient) socket_client = g_socket_client_new ();
  g_autofree char *address = g_strdup_printf ("127.0.0.1:%u", client->port);
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GBytes) greeting = NULL;
  g_autoptr(GBytes) ping = g_bytes_new_static ("ping", 4);
  g_autoptr(GError) error = NULL;
  GIOStream *stream;
  KaaInProgress *read;

  connection = kaa_await_object (kaa_socket_client_connect_to_host (socket_client, address, 0),
                                 &error);
  g_assert_no_error (error);
  stream = G_IO_STREAM (connection);
  read = kaa_input_stream_read_bytes (g_io_stream_get_input_stream (stream), 16);
  g_assert_true (kaa_await (kaa_in_progress_ref (read), &error));
  greeting = g_bytes_ref (kaa_in_progress_get_pointer (read));
  kaa_in_progress_unref (read);
  g_string_append_len (client->log, g_bytes_get_data (greeting, NULL), g_bytes_get_size (greeting));

  g_assert_cmpint (kaa_await_int64 (kaa_output_stream_write_all (
                     g_io_stream_get_output_stream (stream), ping), &error), ==, 4);
  /* The server never sends more: this read waits until it is cancelled. */
  if (!kaa_await (kaa_input_stream_read_bytes (g_io_stream_get_input_stream (stream), 16),
                  &error))
    g_string_append (client->log, " cancelled");
  g_clear_error (&error);
}

static void
test_socket_calls (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GSocketService) service = g_socket_service_new ();
  g_autoptr(GPtrArray) connections = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  Client client = { 0, log };
  g_autoptr(KaaInProgress) ip = NULL;

  g_test_summary ("DESIGN §7: connect, read, write through InProgresses against a "
                  "local server; cancelling the coroutine cancels its pending read");

  client.port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER (service), NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (service, "incoming", G_CALLBACK (greet), connections);
  g_socket_service_start (service);

  ip = kaa_coroutine_spawn (body_client, &client, NULL);
  while (!g_str_has_suffix (log->str, "hello"))
    g_main_context_iteration (f->context, TRUE);
  kaa_test_pump_for (20);
  g_assert_false (kaa_in_progress_is_done (ip));
  kaa_in_progress_cancel (ip);
  g_assert_cmpstr (log->str, ==, "hello cancelled");
  g_assert_cmpuint (connections->len, ==, 1);
  g_socket_service_stop (service);
  g_socket_listener_close (G_SOCKET_LISTENER (service));
  kaa_test_drain (f->context);
}

static void
test_subprocess_calls (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) cat = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                                 G_SUBPROCESS_FLAGS_STDOUT_PIPE,
                                                 &error, "cat", NULL);
  g_autoptr(GSubprocess) failing = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error,
                                                     "sh", "-c", "exit 2", NULL);
  g_autoptr(KaaInProgress) echoed = kaa_subprocess_communicate_utf8 (cat, "abc");
  g_autoptr(KaaInProgress) checked = kaa_subprocess_wait_check (failing);

  g_test_summary ("DESIGN §7: a subprocess's output and exit status through "
                  "InProgresses; its exit error passes through unchanged");

  g_assert_no_error (error);
  g_assert_true (kaa_in_progress_wait (echoed, NULL));
  g_assert_cmpstr (kaa_in_progress_get_pointer (echoed), ==, "abc");
  g_assert_false (kaa_in_progress_wait (checked, NULL));
  g_assert_error (kaa_in_progress_get_error (checked), G_SPAWN_EXIT_ERROR, 2);
}

static void
test_resolver (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(KaaInProgress) ip = kaa_resolver_lookup_by_name (NULL, "localhost");

  g_test_summary ("DESIGN §7: a name lookup through an InProgress");

  g_assert_true (kaa_in_progress_wait (ip, NULL));
  g_assert_nonnull (kaa_in_progress_get_pointer (ip));
}

/* D-Bus between two ends of a socket pair: no bus needed. */
static void
echo_call (GDBusConnection       *connection,
           const char            *sender,
           const char            *object_path,
           const char            *interface_name,
           const char            *method_name,
           GVariant              *parameters,
           GDBusMethodInvocation *invocation,
           gpointer               data)
{
  const char *text;

  g_variant_get (parameters, "(&s)", &text);
  if (g_str_equal (text, "fail"))
    g_dbus_method_invocation_return_error_literal (invocation, G_IO_ERROR,
                                                   G_IO_ERROR_PERMISSION_DENIED, "no");
  else
    g_dbus_method_invocation_return_value (invocation, g_variant_new ("(s)", text));
}

static const GDBusInterfaceVTable echo_vtable = { echo_call, NULL, NULL, { NULL } };

static GDBusConnection *
dbus_end (GSocket               *socket,
          const char            *guid,
          GDBusConnectionFlags   flags)
{
  g_autoptr(GSocketConnection) stream = g_socket_connection_factory_create_connection (socket);
  KaaInProgress *ip = kaa_in_progress_new ();
  g_autoptr(GAsyncResult) res = NULL;

  g_dbus_connection_new (G_IO_STREAM (stream), guid, flags, NULL,
                         kaa_in_progress_get_cancellable (ip), kaa_async_ready,
                         kaa_async_data (ip));
  g_assert_true (kaa_in_progress_wait (ip, NULL));
  res = kaa_in_progress_dup_object (ip);
  kaa_in_progress_unref (ip);
  return g_dbus_connection_new_finish (res, NULL);
}

typedef struct
{
  GSocket         *socket;
  GDBusConnection *connection;
} ServerEnd;

static gpointer
server_end_thread (gpointer data)
{
  ServerEnd *end = data;
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autofree char *guid = g_dbus_generate_guid ();

  g_main_context_push_thread_default (context);
  end->connection = dbus_end (end->socket, guid,
                              G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_SERVER |
                              G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_ALLOW_ANONYMOUS);
  g_main_context_pop_thread_default (context);
  return NULL;
}

static void
test_dbus_call (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusNodeInfo) node = g_dbus_node_info_new_for_xml (
    "<node><interface name='org.libkaa.Echo'><method name='Echo'>"
    "<arg type='s' direction='in'/><arg type='s' direction='out'/>"
    "</method></interface></node>", &error);
  int fds[2];
  ServerEnd server = { NULL, NULL };
  g_autoptr(GSocket) client_socket = NULL;
  g_autoptr(GDBusConnection) client = NULL;
  g_autoptr(KaaInProgress) reply = NULL;
  g_autoptr(KaaInProgress) refused = NULL;
  const char *text = NULL;
  GThread *thread;

  g_test_summary ("DESIGN §7: a D-Bus method call through an InProgress, its "
                  "reply and its error");

  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM, 0, fds));
  server.socket = g_socket_new_from_fd (fds[0], &error);
  client_socket = g_socket_new_from_fd (fds[1], &error);
  g_assert_no_error (error);
  /* Both ends authenticate at once: the server's on a thread of its own. */
  thread = g_thread_new ("dbus-server", server_end_thread, &server);
  client = dbus_end (client_socket, NULL, G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT);
  g_thread_join (thread);
  g_assert_nonnull (client);
  g_assert_nonnull (server.connection);
  g_dbus_connection_register_object (server.connection, "/echo", node->interfaces[0],
                                     &echo_vtable, NULL, NULL, &error);
  g_assert_no_error (error);

  reply = kaa_dbus_connection_call (client, NULL, "/echo", "org.libkaa.Echo", "Echo",
                                    g_variant_new ("(s)", "hi"), G_VARIANT_TYPE ("(s)"),
                                    G_DBUS_CALL_FLAGS_NONE, -1);
  refused = kaa_dbus_connection_call (client, NULL, "/echo", "org.libkaa.Echo", "Echo",
                                      g_variant_new ("(s)", "fail"), G_VARIANT_TYPE ("(s)"),
                                      G_DBUS_CALL_FLAGS_NONE, -1);
  g_assert_true (kaa_in_progress_wait (reply, NULL));
  g_variant_get (kaa_in_progress_get_pointer (reply), "(&s)", &text);
  g_assert_cmpstr (text, ==, "hi");
  g_assert_false (kaa_in_progress_wait (refused, NULL));
  g_assert_error (kaa_in_progress_get_error (refused), G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);

  g_dbus_connection_close_sync (client, NULL, NULL);
  g_object_unref (server.connection);
  g_object_unref (server.socket);
}

static void
test_bad_input (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GObject) object = g_object_new (G_TYPE_OBJECT, NULL);
  KaaInProgress *ip;

  g_test_summary ("DESIGN §8: bad arguments to the bridges are a critical and a "
                  "failed InProgress, never a crash");

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*has no signal*no-such-signal*");
  ip = kaa_in_progress_new_for_signal (object, "no-such-signal");
  g_test_assert_expected_messages ();
  g_assert_error (kaa_in_progress_get_error (ip), KAA_ERROR, KAA_ERROR_INVALID_ARGUMENT);
  kaa_in_progress_unref (ip);

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*fd >= 0*");
  ip = kaa_io_wait (-1, G_IO_IN);
  g_test_assert_expected_messages ();
  kaa_in_progress_unref (ip);

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*signum*");
  ip = kaa_unix_signal (SIGKILL);
  g_test_assert_expected_messages ();
  kaa_in_progress_unref (ip);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);


  KAA_TEST_ADD ("async-ready", test_async_ready);
  KAA_TEST_ADD ("async-cancel", test_async_cancel);
  KAA_TEST_ADD ("to-task", test_to_task);
  KAA_TEST_ADD ("signal", test_signal);
  KAA_TEST_ADD ("signal-cancel-pause-finalize", test_signal_cancel_pause_finalize);
  KAA_TEST_ADD ("io-wait", test_io_wait);
  KAA_TEST_ADD ("socket-wait", test_socket_wait);
  KAA_TEST_ADD ("child-wait", test_child_wait);
  KAA_TEST_ADD ("unix-signal", test_unix_signal);
  KAA_TEST_ADD ("file-calls", test_file_calls);
  KAA_TEST_ADD ("socket-calls", test_socket_calls);
  KAA_TEST_ADD ("gsubprocess-calls", test_subprocess_calls);
  KAA_TEST_ADD ("resolver", test_resolver);
  KAA_TEST_ADD ("dbus-call", test_dbus_call);
  KAA_TEST_ADD ("bad-input", test_bad_input);

  return g_test_run ();
}
