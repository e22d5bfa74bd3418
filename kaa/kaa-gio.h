/* kaa-gio.h: awaiting GIO calls, signals, file descriptors, children and
 * Unix signals
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined (KAA_INSIDE) && !defined (KAA_COMPILATION)
# error "Include <kaa/kaa.h>, not individual libkaa headers."
#endif

#include <gio/gio.h>

#include "kaa-in-progress.h"

G_BEGIN_DECLS

KAA_AVAILABLE_IN_ALL
void           kaa_async_ready                 (GObject        *source_object,
                                                GAsyncResult   *result,
                                                gpointer        in_progress);
KAA_AVAILABLE_IN_ALL
gpointer       kaa_async_data                  (KaaInProgress  *self);

KAA_AVAILABLE_IN_ALL
void           kaa_in_progress_to_task         (KaaInProgress  *self,
                                                gpointer        source_object,
                                                GCancellable   *cancellable,
                                                GAsyncReadyCallback callback,
                                                gpointer        user_data,
                                                gpointer        source_tag);
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_in_progress_from_task       (GAsyncResult   *result,
                                                gpointer        source_object,
                                                gpointer        source_tag,
                                                GError        **error) G_GNUC_WARN_UNUSED_RESULT;

/* kaa-gio-calls.c */
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_file_load_contents          (GFile          *file) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_file_replace_contents       (GFile          *file,
                                                GBytes         *contents) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_socket_client_connect_to_host (GSocketClient *client,
                                                const char     *host_and_port,
                                                guint16         default_port)
                                                G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_input_stream_read_bytes     (GInputStream   *stream,
                                                gsize           count) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_output_stream_write_all     (GOutputStream  *stream,
                                                GBytes         *bytes) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_io_stream_close             (GIOStream      *stream) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_subprocess_wait_check       (GSubprocess    *subprocess)
                                                G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_subprocess_communicate_utf8 (GSubprocess    *subprocess,
                                                const char     *stdin_buf)
                                                G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_dbus_connection_call        (GDBusConnection *connection,
                                                const char     *bus_name,
                                                const char     *object_path,
                                                const char     *interface_name,
                                                const char     *method_name,
                                                GVariant       *parameters,
                                                const GVariantType *reply_type,
                                                GDBusCallFlags  flags,
                                                int             timeout_msec)
                                                G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_resolver_lookup_by_name     (GResolver      *resolver,
                                                const char     *hostname) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_file_read                   (GFile          *file) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_file_query_info             (GFile          *file,
                                                const char     *attributes,
                                                GFileQueryInfoFlags flags)
                                                G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_bus_get                     (GBusType        bus_type) G_GNUC_WARN_UNUSED_RESULT;

/* kaa-gio.c */
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_in_progress_new_for_signal  (gpointer        instance,
                                                const char     *detailed_signal)
                                                G_GNUC_WARN_UNUSED_RESULT;

/* kaa-gio-fd.c */
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_io_wait                     (int             fd,
                                                GIOCondition    condition)
                                                G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_socket_wait                 (GSocket        *socket,
                                                GIOCondition    condition)
                                                G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_child_wait                  (GPid            pid) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_unix_signal                 (int             signum) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
