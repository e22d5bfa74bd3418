/* fetcher-main.c: the download manager's application
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   kaa-fetcher [--twin] [--dir DIR]
 *   kaa-fetcher [--twin] --self-test [--screenshot PNG]
 *   kaa-fetcher [--twin] --test-server [--dir DIR]   (prints the test server's address)
 *
 * A GtkApplication with one window (fetcher-window.c) on the libkaa
 * engine, or with --twin on the GTask twin, exported on the session bus
 * as org.libkaa.Fetcher (fetcher-dbus.c).
 */
#include <glib/gstdio.h>
#include <glib-unix.h>

#include "fetcher-app.h"
#include "fetcher-dbus.h"
#include "twin-engine.h"
#include "test-fetcher-server.h"

#define APP_ID "org.libkaa.Fetcher"

/* --------------------------------------------------------- application */

static const FetcherConfig app_config = {
  .max_parallel = 4,
  .deadline_msec = 60000,
  .stall_msec = 15000,
  .backoff_msec = 500,
};

/* The self-test's: its server's failing paths give up within seconds,
 * and its history is slow enough to be searched while it is cancelled. */
static const FetcherConfig self_test_config = {
  .max_parallel = 4,
  .deadline_msec = 3000,
  .stall_msec = 400,
  .backoff_msec = 50,
  .search_throttle_usec = 500,
};

static gboolean
engine_new (FetcherApp  *app,
            GError     **error)
{
  g_autofree char *database = NULL;
  const FetcherConfig *config;

  if (app->directory == NULL && app->self_test)
    app->directory = g_dir_make_tmp ("kaa-fetcher-XXXXXX", error);
  else if (app->directory == NULL)
    app->directory = g_build_filename (g_get_user_special_dir (G_USER_DIRECTORY_DOWNLOAD) != NULL
                                       ? g_get_user_special_dir (G_USER_DIRECTORY_DOWNLOAD)
                                       : g_get_home_dir (), "kaa-fetcher", NULL);
  if (app->directory == NULL)
    return FALSE;
  database = g_build_filename (app->directory, "history.db", NULL);
  config = app->self_test ? &self_test_config : &app_config;
  if (app->twin)
    app->backend = twin_backend_new (app->directory, database, config, error);
  else
    app->backend = (FetcherBackend *) fetcher_engine_new (app->directory, database, config, error);
  return app->backend != NULL;
}

/* The window's engine on the session bus, when there is one, beside
 * GApplication's own interfaces. */
static void
export (FetcherApp *app)
{
  GApplication *gtk_app = G_APPLICATION (app->gtk_app);
  GDBusConnection *connection = g_application_get_dbus_connection (gtk_app);
  g_autoptr(GError) error = NULL;

  if (connection == NULL)
    return;
  app->dbus_id = fetcher_dbus_export (app->backend, connection,
                                      g_application_get_dbus_object_path (gtk_app), &error);
  if (app->dbus_id == 0)
    g_printerr ("kaa-fetcher: not on D-Bus: %s\n", error->message);
}

/* --test-server: the test's HTTP server, whose address goes to stdout,
 * for the D-Bus test and for trying the window by hand. */
static void
start_test_server (FetcherApp *app)
{
  g_autofree char *base = NULL;

  app->server = test_server_start ();
  base = test_server_url (app->server, "%s", "");
  g_print ("%s\n", base);
  fflush (stdout);
}

static void
on_activate (GApplication *gtk_app,
             gpointer      data)
{
  FetcherApp *app = data;
  g_autoptr(GError) error = NULL;

  if (app->window != NULL)
    {
      gtk_window_present (app->window);
      return;
    }
  if (app->backend == NULL && !engine_new (app, &error))
    {
      g_printerr ("kaa-fetcher: %s\n", error->message);
      app->status = 1;
      return;
    }
  if (app->test_server && app->server == NULL)
    start_test_server (app);
  app->window = fetcher_app_window_new (app);
  export (app);
  gtk_window_present (app->window);
  if (app->self_test)
    fetcher_app_self_test_start (app);
}

/* Quit (SIGTERM, Ctrl-C) ends the window as closing it does: its scope
 * cancels what it started, and the engine goes. */
static void
on_shutdown (GApplication *gtk_app,
             gpointer      data)
{
  FetcherApp *app = data;

  if (app->window != NULL)
    gtk_window_destroy (app->window);
}

/* A self-test must not hand itself over to a fetcher already running. */
static int
on_handle_local_options (GApplication *gtk_app,
                         GVariantDict *options,
                         gpointer      data)
{
  FetcherApp *app = data;

  if (app->self_test)
    g_application_set_flags (gtk_app, g_application_get_flags (gtk_app) |
                                      G_APPLICATION_NON_UNIQUE);
  return -1;
}

static gboolean
on_quit_signal (gpointer gtk_app)
{
  g_application_quit (gtk_app);
  return G_SOURCE_CONTINUE;
}

static void
app_clear (FetcherApp *app)
{
  g_clear_object (&app->backend);
  /* A twin let go of is freed once its last callback came back. */
  while (twin_engine_get_n_alive () > 0)
    g_main_context_iteration (NULL, TRUE);
  g_clear_pointer (&app->server, test_server_stop);
  g_object_unref (app->gtk_app);
  g_hash_table_unref (app->rows);
  g_free (app->directory);
  g_free (app->screenshot);
  g_free (app->search_text);
  g_clear_pointer (&app->search_rows, g_ptr_array_unref);
}

int
main (int   argc,
      char *argv[])
{
  FetcherApp app = { 0 };
  const GOptionEntry options[] = {
    { "dir", 0, 0, G_OPTION_ARG_FILENAME, &app.directory,
      "Save downloads and the history here (default: ~/Downloads/kaa-fetcher)", "DIR" },
    { "self-test", 0, 0, G_OPTION_ARG_NONE, &app.self_test,
      "Download from a server of its own and check what happens", NULL },
    { "screenshot", 0, 0, G_OPTION_ARG_FILENAME, &app.screenshot,
      "With --self-test: save the window to this PNG file", "PNG" },
    { "twin", 0, 0, G_OPTION_ARG_NONE, &app.twin,
      "Run on the GTask twin instead of the libkaa engine (no pause)", NULL },
    { "test-server", 0, 0, G_OPTION_ARG_NONE, &app.test_server,
      "Start the tests' HTTP server and print its address", NULL },
    { NULL },
  };
  int status;

  app.rows = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  app.gtk_app = gtk_application_new (APP_ID, G_APPLICATION_DEFAULT_FLAGS);
  g_application_add_main_option_entries (G_APPLICATION (app.gtk_app), options);
  g_signal_connect (app.gtk_app, "handle-local-options",
                    G_CALLBACK (on_handle_local_options), &app);
  g_signal_connect (app.gtk_app, "activate", G_CALLBACK (on_activate), &app);
  g_signal_connect (app.gtk_app, "shutdown", G_CALLBACK (on_shutdown), &app);
  g_unix_signal_add (SIGINT, on_quit_signal, app.gtk_app);
  g_unix_signal_add (SIGTERM, on_quit_signal, app.gtk_app);
  status = g_application_run (G_APPLICATION (app.gtk_app), argc, argv);
  app_clear (&app);
  return status != 0 ? status : app.status;
}
