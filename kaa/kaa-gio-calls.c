/* kaa-gio-calls.c: InProgress forms of the GIO calls applications await
 * most (DESIGN §7)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each function starts the `_async()` call with the InProgress's
 * GCancellable, so that a cancel reaches the I/O, and its callback holds
 * the only extra reference: it settles the InProgress with the `_finish()`
 * result, or its GError unchanged. A result that arrives after a cancel
 * is dropped quietly.
 */
#include "config.h"

#include "kaa-gio.h"
#include "kaa-in-progress-private.h"

/* Takes @error, or @value (with @destroy) when @error is NULL. */
static void
settle (KaaInProgress  *self,
        GError         *error,
        gpointer        value,
        GDestroyNotify  destroy)
{
  if (error != NULL)
    kaa_in_progress_fail (self, error);
  else
    kaa_in_progress_finish_pointer (self, value, destroy);
  kaa_in_progress_unref (self);
}

static KaaInProgress *
call_new (const char *name)
{
  KaaInProgress *self = kaa_in_progress_new ();

  kaa_in_progress_set_name (self, name);
  return self;
}

static GCancellable *
call_cancellable (KaaInProgress *self)
{
  return kaa_in_progress_get_cancellable (self);
}

/* For the calls that write from caller memory: the bytes stay alive
 * until the write is done. */
typedef struct
{
  KaaInProgress *self;    /* owned */
  GBytes        *bytes;   /* owned */
} BytesCall;

static BytesCall *
bytes_call_new (KaaInProgress *self,
                GBytes        *bytes)
{
  BytesCall *call = g_new (BytesCall, 1);

  call->self = kaa_in_progress_ref (self);
  call->bytes = g_bytes_ref (bytes);
  return call;
}

static void
bytes_call_free (BytesCall *call)
{
  kaa_in_progress_unref (call->self);
  g_bytes_unref (call->bytes);
  g_free (call);
}

/* ------------------------------------------------------------------ files */

static void
file_loaded (GObject      *source,
             GAsyncResult *result,
             gpointer      data)
{
  GError *error = NULL;
  char *contents = NULL;
  gsize length = 0;

  if (!g_file_load_contents_finish (G_FILE (source), result, &contents, &length, NULL, &error))
    {
      settle (data, error, NULL, NULL);
      return;
    }
  settle (data, NULL, g_bytes_new_take (contents, length), (GDestroyNotify) g_bytes_unref);
}

/**
 * kaa_file_load_contents:
 * @file: the file to read
 *
 * g_file_load_contents_async() as an InProgress.
 *
 * Language bindings read the #GBytes with
 * [method@Kaa.InProgress.get_value].
 *
 * Returns: (transfer full): an InProgress finishing with the contents as
 *   a #GBytes pointer result
 * Since: 0.1
 */
KaaInProgress *
kaa_file_load_contents (GFile *file)
{
  KaaInProgress *self;

  kaa_return_failed_if_fail (G_IS_FILE (file));

  self = call_new ("kaa_file_load_contents");
  g_file_load_contents_async (file, call_cancellable (self), file_loaded,
                              kaa_in_progress_ref (self));
  return self;
}

static void
file_replaced (GObject      *source,
               GAsyncResult *result,
               gpointer      data)
{
  BytesCall *call = data;
  GError *error = NULL;

  g_file_replace_contents_finish (G_FILE (source), result, NULL, &error);
  if (error != NULL)
    kaa_in_progress_fail (call->self, error);
  else
    kaa_in_progress_finish_boolean (call->self, TRUE);
  bytes_call_free (call);
}

/**
 * kaa_file_replace_contents:
 * @file: the file to write
 * @contents: what it is to hold
 *
 * g_file_replace_contents_bytes_async() as an InProgress, with no etag,
 * no backup and no flags: the file is replaced atomically.
 *
 * Returns: (transfer full): an InProgress finishing with %TRUE
 * Since: 0.1
 */
KaaInProgress *
kaa_file_replace_contents (GFile  *file,
                           GBytes *contents)
{
  KaaInProgress *self;

  kaa_return_failed_if_fail (G_IS_FILE (file));
  kaa_return_failed_if_fail (contents != NULL);

  self = call_new ("kaa_file_replace_contents");
  g_file_replace_contents_bytes_async (file, contents, NULL, FALSE, G_FILE_CREATE_NONE,
                                       call_cancellable (self), file_replaced,
                                       bytes_call_new (self, contents));
  return self;
}

/* ---------------------------------------------------------------- sockets */

static void
client_connected (GObject      *source,
                  GAsyncResult *result,
                  gpointer      data)
{
  GError *error = NULL;
  g_autoptr(GSocketConnection) connection =
    g_socket_client_connect_to_host_finish (G_SOCKET_CLIENT (source), result, &error);

  if (error != NULL)
    kaa_in_progress_fail (data, error);
  else
    kaa_in_progress_finish_object (data, connection);
  kaa_in_progress_unref (data);
}

/**
 * kaa_socket_client_connect_to_host:
 * @client: the client to connect with
 * @host_and_port: "host", "host:port" or "[ipv6]:port"
 * @default_port: the port when @host_and_port names none
 *
 * g_socket_client_connect_to_host_async() as an InProgress.
 *
 * Returns: (transfer full): an InProgress finishing with the
 *   #GSocketConnection (an object result)
 * Since: 0.1
 */
KaaInProgress *
kaa_socket_client_connect_to_host (GSocketClient *client,
                                   const char    *host_and_port,
                                   guint16        default_port)
{
  KaaInProgress *self;

  kaa_return_failed_if_fail (G_IS_SOCKET_CLIENT (client));
  kaa_return_failed_if_fail (host_and_port != NULL);

  self = call_new ("kaa_socket_client_connect_to_host");
  g_socket_client_connect_to_host_async (client, host_and_port, default_port,
                                         call_cancellable (self), client_connected,
                                         kaa_in_progress_ref (self));
  return self;
}

/* ---------------------------------------------------------------- streams */

static void
bytes_read (GObject      *source,
            GAsyncResult *result,
            gpointer      data)
{
  GError *error = NULL;
  GBytes *bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);

  settle (data, error, bytes, (GDestroyNotify) g_bytes_unref);
}

/**
 * kaa_input_stream_read_bytes:
 * @stream: the stream to read
 * @count: the most bytes to read
 *
 * g_input_stream_read_bytes_async() as an InProgress. A cancel during
 * the read leaves the stream free for the next one.
 *
 * Language bindings read the #GBytes with
 * [method@Kaa.InProgress.get_value].
 *
 * Returns: (transfer full): an InProgress finishing with a #GBytes
 *   pointer result, empty at the end of the stream
 * Since: 0.1
 */
KaaInProgress *
kaa_input_stream_read_bytes (GInputStream *stream,
                             gsize         count)
{
  KaaInProgress *self;

  kaa_return_failed_if_fail (G_IS_INPUT_STREAM (stream));

  self = call_new ("kaa_input_stream_read_bytes");
  g_input_stream_read_bytes_async (stream, count, G_PRIORITY_DEFAULT, call_cancellable (self),
                                   bytes_read, kaa_in_progress_ref (self));
  return self;
}

static void
all_written (GObject      *source,
             GAsyncResult *result,
             gpointer      data)
{
  BytesCall *call = data;
  GError *error = NULL;
  gsize written = 0;

  if (g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, &written, &error))
    kaa_in_progress_finish_int64 (call->self, (gint64) written);
  else
    kaa_in_progress_fail (call->self, error);
  bytes_call_free (call);
}

/**
 * kaa_output_stream_write_all:
 * @stream: the stream to write to
 * @bytes: what to write
 *
 * g_output_stream_write_all_async() as an InProgress.
 *
 * Returns: (transfer full): an InProgress finishing with the number of
 *   bytes written (an integer result)
 * Since: 0.1
 */
KaaInProgress *
kaa_output_stream_write_all (GOutputStream *stream,
                             GBytes        *bytes)
{
  KaaInProgress *self;
  gsize size;
  gconstpointer data;

  kaa_return_failed_if_fail (G_IS_OUTPUT_STREAM (stream));
  kaa_return_failed_if_fail (bytes != NULL);

  self = call_new ("kaa_output_stream_write_all");
  data = g_bytes_get_data (bytes, &size);
  g_output_stream_write_all_async (stream, data, size, G_PRIORITY_DEFAULT,
                                   call_cancellable (self), all_written,
                                   bytes_call_new (self, bytes));
  return self;
}

static void
stream_closed (GObject      *source,
               GAsyncResult *result,
               gpointer      data)
{
  GError *error = NULL;

  g_io_stream_close_finish (G_IO_STREAM (source), result, &error);
  settle (data, error, NULL, NULL);
}

/**
 * kaa_io_stream_close:
 * @stream: the stream (a socket connection, say) to close
 *
 * g_io_stream_close_async() as an InProgress.
 *
 * Returns: (transfer full): an InProgress finishing with %NULL
 * Since: 0.1
 */
KaaInProgress *
kaa_io_stream_close (GIOStream *stream)
{
  KaaInProgress *self;

  kaa_return_failed_if_fail (G_IS_IO_STREAM (stream));

  self = call_new ("kaa_io_stream_close");
  g_io_stream_close_async (stream, G_PRIORITY_DEFAULT, call_cancellable (self),
                           stream_closed, kaa_in_progress_ref (self));
  return self;
}

/* ----------------------------------------------------------- subprocesses */

static void
subprocess_checked (GObject      *source,
                    GAsyncResult *result,
                    gpointer      data)
{
  GError *error = NULL;

  g_subprocess_wait_check_finish (G_SUBPROCESS (source), result, &error);
  if (error != NULL)
    kaa_in_progress_fail (data, error);
  else
    kaa_in_progress_finish_boolean (data, TRUE);
  kaa_in_progress_unref (data);
}

/**
 * kaa_subprocess_wait_check:
 * @subprocess: a subprocess
 *
 * g_subprocess_wait_check_async() as an InProgress. Cancelling it stops
 * the wait, not the subprocess.
 *
 * Returns: (transfer full): an InProgress finishing with %TRUE when the
 *   subprocess exited successfully, failing with its exit error otherwise
 * Since: 0.1
 */
KaaInProgress *
kaa_subprocess_wait_check (GSubprocess *subprocess)
{
  KaaInProgress *self;

  kaa_return_failed_if_fail (G_IS_SUBPROCESS (subprocess));

  self = call_new ("kaa_subprocess_wait_check");
  g_subprocess_wait_check_async (subprocess, call_cancellable (self), subprocess_checked,
                                 kaa_in_progress_ref (self));
  return self;
}

static void
subprocess_communicated (GObject      *source,
                         GAsyncResult *result,
                         gpointer      data)
{
  GError *error = NULL;
  char *out = NULL;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result, &out, NULL, &error);
  if (error != NULL)
    {
      settle (data, error, NULL, NULL);
      return;
    }
  /* A string result, which get_pointer() reads as before and a binding
   * reads with get_string() or get_value(). */
  kaa_in_progress_finish_string (data, out);
  g_free (out);
  kaa_in_progress_unref (data);
}

/**
 * kaa_subprocess_communicate_utf8:
 * @subprocess: a subprocess started with %G_SUBPROCESS_FLAGS_STDOUT_PIPE
 *   (and %G_SUBPROCESS_FLAGS_STDIN_PIPE when @stdin_buf is given)
 * @stdin_buf: (nullable): what to write to its standard input
 *
 * g_subprocess_communicate_utf8_async() as an InProgress.
 *
 * Returns: (transfer full): an InProgress finishing with its standard
 *   output as a string result (read with get_string() or get_pointer())
 * Since: 0.1
 */
KaaInProgress *
kaa_subprocess_communicate_utf8 (GSubprocess *subprocess,
                                 const char  *stdin_buf)
{
  KaaInProgress *self;

  kaa_return_failed_if_fail (G_IS_SUBPROCESS (subprocess));

  self = call_new ("kaa_subprocess_communicate_utf8");
  g_subprocess_communicate_utf8_async (subprocess, stdin_buf, call_cancellable (self),
                                       subprocess_communicated, kaa_in_progress_ref (self));
  return self;
}

/* ---------------------------------------------------------- D-Bus, DNS */

static void
dbus_returned (GObject      *source,
               GAsyncResult *result,
               gpointer      data)
{
  GError *error = NULL;
  GVariant *reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);

  settle (data, error, reply, (GDestroyNotify) g_variant_unref);
}

/**
 * kaa_dbus_connection_call:
 * @connection: a D-Bus connection
 * @bus_name: (nullable): the unique or well-known name of the peer
 * @object_path: the object to call
 * @interface_name: its interface
 * @method_name: the method
 * @parameters: (nullable): the arguments; floating references are sunk
 * @reply_type: (nullable): the expected reply type
 * @flags: call flags
 * @timeout_msec: as for g_dbus_connection_call()
 *
 * g_dbus_connection_call() as an InProgress.
 *
 * Returns: (transfer full): an InProgress finishing with the reply
 *   #GVariant tuple as a pointer result, which language bindings read
 *   with [method@Kaa.InProgress.get_value]
 * Since: 0.1
 */
KaaInProgress *
kaa_dbus_connection_call (GDBusConnection *connection,
                          const char      *bus_name,
                          const char      *object_path,
                          const char      *interface_name,
                          const char      *method_name,
                          GVariant        *parameters,
                          const GVariantType *reply_type,
                          GDBusCallFlags   flags,
                          int              timeout_msec)
{
  KaaInProgress *self;

  kaa_return_failed_if_fail (G_IS_DBUS_CONNECTION (connection));
  kaa_return_failed_if_fail (object_path != NULL);
  kaa_return_failed_if_fail (interface_name != NULL);
  kaa_return_failed_if_fail (method_name != NULL);

  self = call_new (method_name);
  g_dbus_connection_call (connection, bus_name, object_path, interface_name, method_name,
                          parameters, reply_type, flags, timeout_msec, call_cancellable (self),
                          dbus_returned, kaa_in_progress_ref (self));
  return self;
}

static void
name_resolved (GObject      *source,
               GAsyncResult *result,
               gpointer      data)
{
  GError *error = NULL;
  GList *addresses = g_resolver_lookup_by_name_finish (G_RESOLVER (source), result, &error);

  settle (data, error, addresses, (GDestroyNotify) g_resolver_free_addresses);
}

/**
 * kaa_resolver_lookup_by_name:
 * @resolver: (nullable): a resolver, or %NULL for the default one
 * @hostname: the name to look up
 *
 * g_resolver_lookup_by_name_async() as an InProgress.
 *
 * Returns: (transfer full): an InProgress finishing with a #GList of
 *   #GInetAddress as a pointer result
 * Since: 0.1
 */
KaaInProgress *
kaa_resolver_lookup_by_name (GResolver  *resolver,
                             const char *hostname)
{
  g_autoptr(GResolver) owned = NULL;
  KaaInProgress *self;

  kaa_return_failed_if_fail (resolver == NULL || G_IS_RESOLVER (resolver));
  kaa_return_failed_if_fail (hostname != NULL);

  if (resolver == NULL)
    resolver = owned = g_resolver_get_default ();
  self = call_new ("kaa_resolver_lookup_by_name");
  g_resolver_lookup_by_name_async (resolver, hostname, call_cancellable (self),
                                   name_resolved, kaa_in_progress_ref (self));
  return self;
}

/* ----------------------------------------------- more files, and the bus */

/* Settles @data with the object a _finish() returned, or its error. */
static void
settle_object (KaaInProgress *self,
               GError        *error,
               gpointer       object)
{
  if (error != NULL)
    kaa_in_progress_fail (self, error);
  else
    kaa_in_progress_finish_object (self, object);
  g_clear_object (&object);
  kaa_in_progress_unref (self);
}

static void
file_opened (GObject      *source,
             GAsyncResult *result,
             gpointer      data)
{
  GError *error = NULL;
  GFileInputStream *stream = g_file_read_finish (G_FILE (source), result, &error);

  settle_object (data, error, stream);
}

/**
 * kaa_file_read:
 * @file: the file to open
 *
 * g_file_read_async() as an InProgress, at the default I/O priority.
 *
 * Returns: (transfer full): an InProgress finishing with the
 *   #GFileInputStream (an object result)
 * Since: 0.2
 */
KaaInProgress *
kaa_file_read (GFile *file)
{
  KaaInProgress *self;

  kaa_return_failed_if_fail (G_IS_FILE (file));

  self = call_new ("kaa_file_read");
  g_file_read_async (file, G_PRIORITY_DEFAULT, call_cancellable (self), file_opened,
                     kaa_in_progress_ref (self));
  return self;
}

static void
file_queried (GObject      *source,
              GAsyncResult *result,
              gpointer      data)
{
  GError *error = NULL;
  GFileInfo *info = g_file_query_info_finish (G_FILE (source), result, &error);

  settle_object (data, error, info);
}

/**
 * kaa_file_query_info:
 * @file: the file to ask about
 * @attributes: the attributes to fetch, as for g_file_query_info()
 * @flags: as for g_file_query_info()
 *
 * g_file_query_info_async() as an InProgress, at the default I/O
 * priority.
 *
 * Returns: (transfer full): an InProgress finishing with the #GFileInfo
 *   (an object result)
 * Since: 0.2
 */
KaaInProgress *
kaa_file_query_info (GFile               *file,
                     const char          *attributes,
                     GFileQueryInfoFlags  flags)
{
  KaaInProgress *self;

  kaa_return_failed_if_fail (G_IS_FILE (file));
  kaa_return_failed_if_fail (attributes != NULL);

  self = call_new ("kaa_file_query_info");
  g_file_query_info_async (file, attributes, flags, G_PRIORITY_DEFAULT,
                           call_cancellable (self), file_queried, kaa_in_progress_ref (self));
  return self;
}

static void
bus_got (GObject      *source,
         GAsyncResult *result,
         gpointer      data)
{
  GError *error = NULL;
  GDBusConnection *connection = g_bus_get_finish (result, &error);

  settle_object (data, error, connection);
}

/**
 * kaa_bus_get:
 * @bus_type: which bus: %G_BUS_TYPE_SESSION, %G_BUS_TYPE_SYSTEM or
 *   %G_BUS_TYPE_STARTER
 *
 * g_bus_get() as an InProgress: the shared connection to @bus_type.
 * Any other @bus_type is a programming error: a critical and an
 * InProgress already failed with `KAA_ERROR_INVALID_ARGUMENT`.
 *
 * Returns: (transfer full): an InProgress finishing with the
 *   #GDBusConnection (an object result)
 * Since: 0.2
 */
KaaInProgress *
kaa_bus_get (GBusType bus_type)
{
  KaaInProgress *self;

  /* GIO itself aborts on any other value, G_BUS_TYPE_NONE included. */
  kaa_return_failed_if_fail (bus_type == G_BUS_TYPE_SESSION || bus_type == G_BUS_TYPE_SYSTEM ||
                             bus_type == G_BUS_TYPE_STARTER);

  self = call_new ("kaa_bus_get");
  g_bus_get (bus_type, call_cancellable (self), bus_got, kaa_in_progress_ref (self));
  return self;
}
