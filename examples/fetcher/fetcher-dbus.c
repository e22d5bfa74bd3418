/* fetcher-dbus.c: the engine on D-Bus, as org.libkaa.Fetcher
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   Add (s url) → (u id)      starts a download, as the URL entry does
 *   Pause (u id), Resume (u id), Cancel (u id)
 *   List () → (a(ussxx))      id, url, state, bytes received, total (-1)
 *
 * Each method call is handled by a coroutine of its own, spawned by the
 * vtable, which owns the invocation and answers it exactly once. The
 * coroutines are not in the engine's scope: a download that Add starts
 * belongs to the engine's scope alone, and does not end with the call.
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
  "  </interface>"
  "</node>";

typedef struct
{
  FetcherEngine         *engine;
  GDBusMethodInvocation *invocation;   /* answered once, which lets go of it */
} Call;

static void
call_free (gpointer data)
{
  Call *call = data;

  g_object_unref (call->engine);
  g_free (call);
}

static const char *
state_name (FetcherDownload *d)
{
  static const char * const names[] = {
    [FETCHER_STATE_QUEUED] = "queued",
    [FETCHER_STATE_RUNNING] = "running",
    [FETCHER_STATE_RETRYING] = "retrying",
    [FETCHER_STATE_DONE] = "done",
    [FETCHER_STATE_FAILED] = "failed",
    [FETCHER_STATE_CANCELLED] = "cancelled",
  };

  return fetcher_download_is_paused (d) ? "paused" : names[fetcher_download_get_state (d)];
}

static GVariant *
list_downloads (FetcherEngine *engine)
{
  GPtrArray *downloads = fetcher_engine_get_downloads (engine);
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(ussxx)"));
  for (guint i = 0; i < downloads->len; i++)
    {
      FetcherDownload *d = g_ptr_array_index (downloads, i);

      g_variant_builder_add (&builder, "(ussxx)", fetcher_download_get_id (d),
                             fetcher_download_get_url (d), state_name (d),
                             fetcher_download_get_received (d), fetcher_download_get_total (d));
    }
  return g_variant_new ("(a(ussxx))", &builder);
}

static void
handle_add (Call *call)
{
  const char *url = NULL;
  FetcherDownload *d;

  g_variant_get (g_dbus_method_invocation_get_parameters (call->invocation), "(&s)", &url);
  if (!g_str_has_prefix (url, "http://") && !g_str_has_prefix (url, "https://"))
    g_dbus_method_invocation_return_error (call->invocation, G_DBUS_ERROR,
                                           G_DBUS_ERROR_INVALID_ARGS, "Not an http URL: %s", url);
  else if ((d = fetcher_engine_add (call->engine, url)) == NULL)
    g_dbus_method_invocation_return_error_literal (call->invocation, G_DBUS_ERROR,
                                                   G_DBUS_ERROR_FAILED, "The fetcher is closing");
  else
    g_dbus_method_invocation_return_value (call->invocation,
                                           g_variant_new ("(u)", fetcher_download_get_id (d)));
}

/* Pause, Resume and Cancel: one download, named by its id. */
static void
handle_control (Call       *call,
                const char *method)
{
  guint id = 0;
  FetcherDownload *d;

  g_variant_get (g_dbus_method_invocation_get_parameters (call->invocation), "(u)", &id);
  d = fetcher_engine_find (call->engine, id);
  if (d == NULL)
    {
      g_dbus_method_invocation_return_error (call->invocation, G_DBUS_ERROR,
                                             G_DBUS_ERROR_INVALID_ARGS, "No download %u", id);
      return;
    }
  if (strcmp (method, "Pause") == 0)
    fetcher_download_pause (d);
  else if (strcmp (method, "Resume") == 0)
    fetcher_download_resume (d);
  else
    fetcher_download_cancel (d);     /* returns with the download unwound */
  g_dbus_method_invocation_return_value (call->invocation, NULL);
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
    g_dbus_method_invocation_return_value (call->invocation, list_downloads (call->engine));
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
             gpointer               engine)
{
  Call *call = g_new0 (Call, 1);
  KaaInProgress *ip;

  call->engine = g_object_ref (engine);
  call->invocation = invocation;
  ip = kaa_coroutine_spawn (call_body, call, call_free);
  kaa_in_progress_set_name (ip, method_name);
  kaa_in_progress_unref (ip);     /* a running coroutine keeps itself alive */
}

static const GDBusInterfaceVTable vtable = {
  .method_call = method_call,
};

/* Exports @engine at @object_path; the registration holds a reference to
 * the engine until g_dbus_connection_unregister_object(). */
guint
fetcher_dbus_export (FetcherEngine    *engine,
                     GDBusConnection  *connection,
                     const char       *object_path,
                     GError          **error)
{
  g_autoptr(GDBusNodeInfo) info = g_dbus_node_info_new_for_xml (introspection_xml, error);

  if (info == NULL)
    return 0;
  return g_dbus_connection_register_object (connection, object_path, info->interfaces[0],
                                            &vtable, g_object_ref (engine), g_object_unref,
                                            error);
}
