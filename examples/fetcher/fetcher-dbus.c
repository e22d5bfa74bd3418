/* fetcher-dbus.c: a backend on D-Bus, as org.libkaa.Fetcher
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   Add (s url) → (u id)      starts a download, as the URL entry does
 *   Pause (u id), Resume (u id), Cancel (u id)
 *                             Pause and Resume fail with NotSupported on
 *                             the twin
 *   List () → (a(ussxx))      id, url, state, bytes received, total (-1)
 *   Wait (u id) → (s state)   answers once the download has ended
 *   History (s text) → (a(ssxs))
 *                             url, state, bytes, SHA-256 ("" unless done) of
 *                             the history rows whose URL holds @text
 *
 * Each method call is handled by a coroutine of its own, spawned by the
 * vtable, which owns the invocation and answers it exactly once. Wait
 * and History await: Wait the backend's "row-changed" signal until the
 * download has ended, History the history's search (a SQLite query on
 * a thread) through the GAsyncResult bridge. History is the window's
 * type-ahead search: a newer search, typed or called, cancels it, and
 * the call fails with G_IO_ERROR_CANCELLED's D-Bus error. The coroutines
 * are not in the backend's scope: a download that Add starts belongs to
 * the backend, and does not end with the call; a call holds a reference
 * to the backend until it answered.
 */
#include <string.h>

#include "fetcher-dbus.h"

static const char introspection_xml[] =
  "<node>"
  "  <interface name='org.libkaa.Fetcher'>"
  "    <method name='Add'>"
  "      <arg type='s' name='url' direction='in'/>"
  "      <arg type='u' name='id' direction='out'/>"
  "    </method>"
  "    <method name='Pause'><arg type='u' name='id' direction='in'/></method>"
  "    <method name='Resume'><arg type='u' name='id' direction='in'/></method>"
  "    <method name='Cancel'><arg type='u' name='id' direction='in'/></method>"
  "    <method name='List'>"
  "      <arg type='a(ussxx)' name='downloads' direction='out'/>"
  "    </method>"
  "    <method name='Wait'>"
  "      <arg type='u' name='id' direction='in'/>"
  "      <arg type='s' name='state' direction='out'/>"
  "    </method>"
  "    <method name='History'>"
  "      <arg type='s' name='text' direction='in'/>"
  "      <arg type='a(ssxs)' name='rows' direction='out'/>"
  "    </method>"
  "  </interface>"
  "</node>";

typedef struct
{
  FetcherBackend        *backend;
  GDBusMethodInvocation *invocation;   /* answered once, which lets go of it */
} Call;

static void
call_free (gpointer data)
{
  Call *call = data;

  g_object_unref (call->backend);
  g_free (call);
}

static GVariant *
list_downloads (FetcherBackend *backend)
{
  guint n = fetcher_backend_get_n_rows (backend);
  GVariantBuilder builder;
  FetcherRowInfo info;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(ussxx)"));
  for (guint id = 1; id <= n; id++)
    if (fetcher_backend_get_row (backend, id, &info))
      g_variant_builder_add (&builder, "(ussxx)", id, info.url,
                             info.paused ? "paused" : fetcher_state_name (info.state),
                             info.received, info.total);
  return g_variant_new ("(a(ussxx))", &builder);
}

static void
handle_add (Call *call)
{
  const char *url = NULL;
  guint id;

  g_variant_get (g_dbus_method_invocation_get_parameters (call->invocation), "(&s)", &url);
  if (!g_str_has_prefix (url, "http://") && !g_str_has_prefix (url, "https://"))
    g_dbus_method_invocation_return_error (call->invocation, G_DBUS_ERROR,
                                           G_DBUS_ERROR_INVALID_ARGS, "Not an http URL: %s", url);
  else if ((id = fetcher_backend_add (call->backend, url)) == 0)
    g_dbus_method_invocation_return_error_literal (call->invocation, G_DBUS_ERROR,
                                                   G_DBUS_ERROR_FAILED, "The fetcher is closing");
  else
    g_dbus_method_invocation_return_value (call->invocation, g_variant_new ("(u)", id));
}

/* The id of Pause, Resume, Cancel and Wait; 0 after an error reply. */
static guint
call_id (Call *call)
{
  FetcherRowInfo info;
  guint id = 0;

  g_variant_get (g_dbus_method_invocation_get_parameters (call->invocation), "(u)", &id);
  if (fetcher_backend_get_row (call->backend, id, &info))
    return id;
  g_dbus_method_invocation_return_error (call->invocation, G_DBUS_ERROR,
                                         G_DBUS_ERROR_INVALID_ARGS, "No download %u", id);
  return 0;
}

/* Pause, Resume and Cancel: one download, named by its id. */
static void
handle_control (Call       *call,
                const char *method)
{
  guint id = call_id (call);
  gboolean done;

  if (id == 0)
    return;
  if (strcmp (method, "Pause") == 0)
    done = fetcher_backend_pause (call->backend, id);
  else if (strcmp (method, "Resume") == 0)
    done = fetcher_backend_resume (call->backend, id);
  else
    done = fetcher_backend_cancel (call->backend, id);
  if (done)
    g_dbus_method_invocation_return_value (call->invocation, NULL);
  else
    g_dbus_method_invocation_return_error (call->invocation, G_DBUS_ERROR,
                                           G_DBUS_ERROR_NOT_SUPPORTED,
                                           "The %s backend cannot pause",
                                           fetcher_backend_get_name (call->backend));
}

/* Awaits the backend's changes until the download has ended. */
static void
handle_wait (Call *call)
{
  guint id = call_id (call);
  FetcherRowInfo info = { 0 };

  if (id == 0)
    return;
  while (fetcher_backend_get_row (call->backend, id, &info) &&
         info.state < FETCHER_STATE_DONE)
    {
      g_autoptr(GError) error = NULL;

      if (!kaa_await (kaa_in_progress_new_for_signal (call->backend, "row-changed"), &error))
        {
          g_dbus_method_invocation_return_gerror (call->invocation, error);
          return;
        }
    }
  g_dbus_method_invocation_return_value (call->invocation,
                                         g_variant_new ("(s)", fetcher_state_name (info.state)));
}

static GVariant *
history_rows (GPtrArray *rows)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(ssxs)"));
  for (guint i = 0; i < rows->len; i++)
    {
      FetcherRecord *record = g_ptr_array_index (rows, i);

      g_variant_builder_add (&builder, "(ssxs)", record->url, record->state, record->bytes,
                             record->sha256 != NULL ? record->sha256 : "");
    }
  return g_variant_new ("(a(ssxs))", &builder);
}

/* Awaits the history's search, a query on a thread, as a GIO call. */
static void
handle_history (Call *call)
{
  const char *text = NULL;
  KaaInProgress *search = kaa_in_progress_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) rows = NULL;
  g_autoptr(GError) error = NULL;

  g_variant_get (g_dbus_method_invocation_get_parameters (call->invocation), "(&s)", &text);
  fetcher_backend_search_async (call->backend, text, kaa_async_ready, kaa_async_data (search));
  result = kaa_await_object (search, &error);
  if (result != NULL)
    rows = fetcher_backend_search_finish (call->backend, result, &error);
  if (rows != NULL)
    g_dbus_method_invocation_return_value (call->invocation, history_rows (rows));
  else
    g_dbus_method_invocation_return_gerror (call->invocation, error);
}

static void
call_body (KaaCoroutine *co,
           gpointer      data)
{
  Call *call = data;
  const char *method = g_dbus_method_invocation_get_method_name (call->invocation);

  if (strcmp (method, "Add") == 0)
    handle_add (call);
  else if (strcmp (method, "List") == 0)
    g_dbus_method_invocation_return_value (call->invocation, list_downloads (call->backend));
  else if (strcmp (method, "Wait") == 0)
    handle_wait (call);
  else if (strcmp (method, "History") == 0)
    handle_history (call);
  else
    handle_control (call, method);
}

static void
method_call (GDBusConnection       *connection,
             const char            *sender,
             const char            *object_path,
             const char            *interface_name,
             const char            *method_name,
             GVariant              *parameters,
             GDBusMethodInvocation *invocation,
             gpointer               backend)
{
  Call *call = g_new0 (Call, 1);
  KaaInProgress *ip;

  call->backend = g_object_ref (backend);
  call->invocation = invocation;
  ip = kaa_coroutine_spawn (call_body, call, call_free);
  kaa_in_progress_set_name (ip, method_name);
  kaa_in_progress_unref (ip);     /* a running coroutine keeps itself alive */
}

static const GDBusInterfaceVTable vtable = {
  .method_call = method_call,
};

/* Exports @backend at @object_path; the registration holds a reference
 * to it until g_dbus_connection_unregister_object(). */
guint
fetcher_dbus_export (FetcherBackend   *backend,
                     GDBusConnection  *connection,
                     const char       *object_path,
                     GError          **error)
{
  g_autoptr(GDBusNodeInfo) info = g_dbus_node_info_new_for_xml (introspection_xml, error);

  if (info == NULL)
    return 0;
  return g_dbus_connection_register_object (connection, object_path, info->interfaces[0],
                                            &vtable, g_object_ref (backend), g_object_unref,
                                            error);
}
