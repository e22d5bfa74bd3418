/* fetcher-window.c: the download manager's GTK 4 window
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   kaa-fetcher [--dir DIR]
 *   kaa-fetcher --self-test [--screenshot PNG]
 *   kaa-fetcher --test-server [--dir DIR]   (prints the test server's address)
 *
 * The window only follows the engine: a row per download, updated from
 * the engine's "changed" signal and from the download's InProgress
 * progress callbacks (at most ten a second, whatever the byte rate).
 * The engine's scope is bound to the window, so closing it cancels
 * every download and search it started, before the window is gone.
 */
#include <glib/gstdio.h>
#include <glib-unix.h>

#include "fetcher-app.h"
#include "fetcher-dbus.h"
#include "test-fetcher-server.h"

#define APP_ID "org.libkaa.Fetcher"

static const char *
state_label (FetcherDownload *d)
{
  static const char * const labels[] = {
    [FETCHER_STATE_QUEUED] = "queued",
    [FETCHER_STATE_RUNNING] = "running",
    [FETCHER_STATE_RETRYING] = "retrying",
    [FETCHER_STATE_DONE] = "done",
    [FETCHER_STATE_FAILED] = "failed",
    [FETCHER_STATE_CANCELLED] = "cancelled",
  };

  if (fetcher_download_is_paused (d))
    return "paused";
  return labels[fetcher_download_get_state (d)];
}

/* "running · 1.2 of 4.0 MiB · 800 KiB/s · 3 s left", or the error. */
static char *
status_text (FetcherDownload *d)
{
  KaaInProgress *ip = fetcher_download_get_in_progress (d);
  const GError *error = fetcher_download_get_error (d);
  FetcherState state = fetcher_download_get_state (d);
  double mib = fetcher_download_get_received (d) / 1048576.0;
  double total = fetcher_download_get_total (d) / 1048576.0;
  g_autofree char *size = fetcher_download_get_total (d) > 0
                          ? g_strdup_printf ("%.1f of %.1f MiB", mib, total)
                          : g_strdup_printf ("%.1f MiB", mib);

  if (state == FETCHER_STATE_FAILED && error != NULL)
    return g_strdup_printf ("failed · %s", error->message);
  if (state != FETCHER_STATE_RUNNING || fetcher_download_is_paused (d))
    return g_strdup_printf ("%s · %s · attempt %u", state_label (d), size,
                            fetcher_download_get_attempts (d));
  return g_strdup_printf ("running · %s · %.0f KiB/s · %.0f s left", size,
                          kaa_in_progress_get_rate (ip) / 1024.0,
                          MAX (kaa_in_progress_get_eta (ip), 0.0));
}

static void
row_update (FetcherRow *row)
{
  FetcherDownload *d = row->download;
  gboolean ended = fetcher_download_get_state (d) >= FETCHER_STATE_DONE;
  gint64 total = fetcher_download_get_total (d);
  g_autofree char *text = status_text (d);

  if (total > 0)
    gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (row->bar),
                                   (double) fetcher_download_get_received (d) / total);
  if (fetcher_download_get_state (d) == FETCHER_STATE_DONE)
    gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (row->bar), 1.0);
  gtk_label_set_text (GTK_LABEL (row->status), text);
  gtk_widget_set_sensitive (row->pause, !ended && !fetcher_download_is_paused (d));
  gtk_widget_set_sensitive (row->resume, !ended && fetcher_download_is_paused (d));
  gtk_widget_set_sensitive (row->cancel, !ended);
}

static void
on_row_progress (KaaInProgress *ip,
                 gpointer       data)
{
  row_update (data);
}

static void
row_free (gpointer data)
{
  FetcherRow *row = data;
  KaaInProgress *ip = fetcher_download_get_in_progress (row->download);

  if (row->progress_id != 0 && ip != NULL)
    kaa_in_progress_disconnect_progress (ip, row->progress_id);
  g_free (row);
}

static void
on_pause_clicked (GtkButton *button,
                  gpointer   data)
{
  fetcher_download_pause (((FetcherRow *) data)->download);
}

static void
on_resume_clicked (GtkButton *button,
                   gpointer   data)
{
  fetcher_download_resume (((FetcherRow *) data)->download);
}

static void
on_cancel_clicked (GtkButton *button,
                   gpointer   data)
{
  fetcher_download_cancel (((FetcherRow *) data)->download);
}

static GtkWidget *
row_button (FetcherRow *row,
            const char *label,
            GCallback   clicked)
{
  GtkWidget *button = gtk_button_new_with_mnemonic (label);

  g_signal_connect (button, "clicked", clicked, row);
  return button;
}

static FetcherRow *
row_new (FetcherApp      *app,
         FetcherDownload *d)
{
  FetcherRow *row = g_new0 (FetcherRow, 1);
  GtkWidget *grid = gtk_grid_new ();
  GtkWidget *title = gtk_label_new (fetcher_download_get_url (d));
  GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);

  row->app = app;
  row->download = d;
  row->bar = gtk_progress_bar_new ();
  row->status = gtk_label_new (NULL);
  row->pause = row_button (row, "_Pause", G_CALLBACK (on_pause_clicked));
  row->resume = row_button (row, "_Resume", G_CALLBACK (on_resume_clicked));
  row->cancel = row_button (row, "_Cancel", G_CALLBACK (on_cancel_clicked));
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_label_set_ellipsize (GTK_LABEL (title), PANGO_ELLIPSIZE_MIDDLE);
  gtk_label_set_xalign (GTK_LABEL (row->status), 0);
  gtk_widget_set_hexpand (row->bar, TRUE);
  gtk_widget_set_valign (row->bar, GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (buttons), row->pause);
  gtk_box_append (GTK_BOX (buttons), row->resume);
  gtk_box_append (GTK_BOX (buttons), row->cancel);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 12);
  g_object_set (grid, "margin-top", 6, "margin-bottom", 6, "margin-start", 6,
                "margin-end", 6, NULL);
  gtk_grid_attach (GTK_GRID (grid), title, 0, 0, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), row->bar, 0, 1, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), row->status, 0, 2, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), buttons, 1, 0, 1, 3);
  row->row = gtk_list_box_row_new ();
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row->row), grid);
  gtk_list_box_append (GTK_LIST_BOX (app->list), row->row);
  return row;
}

FetcherRow *
fetcher_app_find_row (FetcherApp *app,
                      guint       id)
{
  return g_hash_table_lookup (app->rows, GUINT_TO_POINTER (id));
}

/* A download appeared or changed state: its row follows. The progress
 * callback is connected once the download's InProgress exists. */
static void
on_download_changed (FetcherEngine   *engine,
                     FetcherDownload *d,
                     gpointer         data)
{
  FetcherApp *app = data;
  guint id = fetcher_download_get_id (d);
  FetcherRow *row = fetcher_app_find_row (app, id);
  KaaInProgress *ip = fetcher_download_get_in_progress (d);

  if (row == NULL)
    {
      row = row_new (app, d);
      g_hash_table_insert (app->rows, GUINT_TO_POINTER (id), row);
    }
  if (row->progress_id == 0 && ip != NULL)
    row->progress_id = kaa_in_progress_connect_progress (ip, on_row_progress, row, NULL);
  row_update (row);
}

/* ------------------------------------------------------------- toolbar */

static void
on_add (GtkWidget *widget,
        gpointer   data)
{
  FetcherApp *app = data;
  GtkEditable *entry = GTK_EDITABLE (app->url_entry);
  g_autofree char *url = g_strstrip (g_strdup (gtk_editable_get_text (entry)));

  if (*url != '\0' && fetcher_engine_add (app->engine, url) != NULL)
    gtk_editable_set_text (entry, "");
}

static void
on_pause_all (GtkButton *button,
              gpointer   data)
{
  fetcher_engine_pause_all (((FetcherApp *) data)->engine);
}

static void
on_resume_all (GtkButton *button,
               gpointer   data)
{
  fetcher_engine_resume_all (((FetcherApp *) data)->engine);
}

static void
on_cancel_all (GtkButton *button,
               gpointer   data)
{
  fetcher_engine_cancel_all (((FetcherApp *) data)->engine);
}

/* ------------------------------------------------------------- search */

/* Older searches end cancelled by the newer ones (PASS_LAST, in the
 * engine): only the newest one's outcome is shown. */
static void
on_search_done (KaaInProgress *ip,
                gpointer       data)
{
  FetcherApp *app = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  gboolean found = kaa_in_progress_propagate (ip, &error);

  if (ip != app->search)
    return;
  if (found)
    text = g_strdup_printf ("%u in the history",
                            ((GPtrArray *) kaa_in_progress_get_pointer (ip))->len);
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    text = g_strdup ("search cancelled");
  else
    text = g_strdup_printf ("search failed: %s", error->message);
  gtk_label_set_text (GTK_LABEL (app->search_status), text);
}

static void
on_search_changed (GtkSearchEntry *entry,
                   gpointer        data)
{
  FetcherApp *app = data;
  const char *text = gtk_editable_get_text (GTK_EDITABLE (entry));

  g_clear_pointer (&app->search, kaa_in_progress_unref);
  app->search = fetcher_engine_search (app->engine, text);
  g_free (app->search_text);
  app->search_text = g_strdup (text);
  if (app->search == NULL)
    return;
  gtk_label_set_text (GTK_LABEL (app->search_status), "searching…");
  kaa_in_progress_connect (app->search, on_search_done, app, NULL);
}

/* ------------------------------------------------------------- window */

/* Runs as the window goes, before its scope is cancelled: the rows stop
 * following the downloads that the cancel is about to end. */
static void
on_window_destroy (GtkWidget *window,
                   gpointer   data)
{
  FetcherApp *app = data;

  g_clear_signal_handler (&app->changed_id, app->engine);
  if (app->dbus_id != 0)
    g_dbus_connection_unregister_object (g_application_get_dbus_connection (
                                           G_APPLICATION (app->gtk_app)), app->dbus_id);
  app->dbus_id = 0;
  g_hash_table_remove_all (app->rows);
  g_clear_pointer (&app->search, kaa_in_progress_unref);
  g_clear_object (&app->engine);
  app->window = NULL;
}

static GtkWidget *
toolbar_button (const char *label,
                GCallback   clicked,
                FetcherApp *app)
{
  GtkWidget *button = gtk_button_new_with_mnemonic (label);

  g_signal_connect (button, "clicked", clicked, app);
  return button;
}

static GtkWidget *
toolbar_new (FetcherApp *app)
{
  GtkWidget *grid = gtk_grid_new ();

  app->url_entry = gtk_entry_new ();
  gtk_entry_set_placeholder_text (GTK_ENTRY (app->url_entry), "http://…");
  gtk_widget_set_hexpand (app->url_entry, TRUE);
  g_signal_connect (app->url_entry, "activate", G_CALLBACK (on_add), app);
  app->add_button = toolbar_button ("_Add", G_CALLBACK (on_add), app);
  app->pause_all = toolbar_button ("Pause _all", G_CALLBACK (on_pause_all), app);
  app->resume_all = toolbar_button ("Resume a_ll", G_CALLBACK (on_resume_all), app);
  app->cancel_all = toolbar_button ("Cancel all", G_CALLBACK (on_cancel_all), app);
  app->search_entry = gtk_search_entry_new ();
  /* Every keystroke searches: the engine cancels the search before. */
  gtk_search_entry_set_search_delay (GTK_SEARCH_ENTRY (app->search_entry), 0);
  g_signal_connect (app->search_entry, "search-changed", G_CALLBACK (on_search_changed), app);
  app->search_status = gtk_label_new ("");
  gtk_grid_set_row_spacing (GTK_GRID (grid), 6);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 6);
  gtk_grid_attach (GTK_GRID (grid), app->url_entry, 0, 0, 3, 1);
  gtk_grid_attach (GTK_GRID (grid), app->add_button, 3, 0, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), app->pause_all, 0, 1, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), app->resume_all, 1, 1, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), app->cancel_all, 2, 1, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), app->search_entry, 0, 2, 3, 1);
  gtk_grid_attach (GTK_GRID (grid), app->search_status, 3, 2, 1, 1);
  return grid;
}

static GtkWindow *
window_new (FetcherApp *app)
{
  GtkWidget *window = gtk_application_window_new (app->gtk_app);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *scrolled = gtk_scrolled_window_new ();

  gtk_window_set_title (GTK_WINDOW (window), "libkaa fetcher");
  gtk_window_set_default_size (GTK_WINDOW (window), 760, 600);
  g_object_set (box, "margin-top", 12, "margin-bottom", 12, "margin-start", 12,
                "margin-end", 12, NULL);
  app->list = gtk_list_box_new ();
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (app->list), GTK_SELECTION_NONE);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), app->list);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER,
                                  GTK_POLICY_AUTOMATIC);
  gtk_widget_set_vexpand (scrolled, TRUE);
  gtk_box_append (GTK_BOX (box), toolbar_new (app));
  gtk_box_append (GTK_BOX (box), scrolled);
  gtk_window_set_child (GTK_WINDOW (window), box);
  g_signal_connect (window, "destroy", G_CALLBACK (on_window_destroy), app);
  app->changed_id = g_signal_connect (app->engine, "changed",
                                      G_CALLBACK (on_download_changed), app);
  /* What the window started ends with it. */
  fetcher_engine_bind (app->engine, window);
  return GTK_WINDOW (window);
}

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

  if (app->directory == NULL && app->self_test)
    app->directory = g_dir_make_tmp ("kaa-fetcher-XXXXXX", error);
  else if (app->directory == NULL)
    app->directory = g_build_filename (g_get_user_special_dir (G_USER_DIRECTORY_DOWNLOAD) != NULL
                                       ? g_get_user_special_dir (G_USER_DIRECTORY_DOWNLOAD)
                                       : g_get_home_dir (), "kaa-fetcher", NULL);
  if (app->directory == NULL)
    return FALSE;
  database = g_build_filename (app->directory, "history.db", NULL);
  app->engine = fetcher_engine_new (app->directory, database,
                                    app->self_test ? &self_test_config : &app_config, error);
  return app->engine != NULL;
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
  app->dbus_id = fetcher_dbus_export (app->engine, connection,
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
  if (app->engine == NULL && !engine_new (app, &error))
    {
      g_printerr ("kaa-fetcher: %s\n", error->message);
      app->status = 1;
      return;
    }
  if (app->test_server && app->server == NULL)
    start_test_server (app);
  app->window = window_new (app);
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
  g_clear_pointer (&app->search, kaa_in_progress_unref);
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
    { "test-server", 0, 0, G_OPTION_ARG_NONE, &app.test_server,
      "Start the tests' HTTP server and print its address", NULL },
    { NULL },
  };
  int status;

  app.rows = g_hash_table_new_full (NULL, NULL, NULL, row_free);
  app.gtk_app = gtk_application_new (APP_ID, G_APPLICATION_DEFAULT_FLAGS);
  g_application_add_main_option_entries (G_APPLICATION (app.gtk_app), options);
  g_signal_connect (app.gtk_app, "handle-local-options",
                    G_CALLBACK (on_handle_local_options), &app);
  g_signal_connect (app.gtk_app, "activate", G_CALLBACK (on_activate), &app);
  g_signal_connect (app.gtk_app, "shutdown", G_CALLBACK (on_shutdown), &app);
  g_unix_signal_add (SIGINT, on_quit_signal, app.gtk_app);
  g_unix_signal_add (SIGTERM, on_quit_signal, app.gtk_app);
  status = g_application_run (G_APPLICATION (app.gtk_app), argc, argv);
  g_clear_object (&app.engine);
  g_clear_pointer (&app.server, test_server_stop);
  g_object_unref (app.gtk_app);
  g_hash_table_unref (app.rows);
  g_free (app.directory);
  g_free (app.screenshot);
  g_free (app.search_text);
  return status != 0 ? status : app.status;
}
