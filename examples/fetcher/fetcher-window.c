/* fetcher-window.c: the download manager's GTK 4 window
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The window only follows its backend (fetcher-backend.h): the libkaa
 * engine, or with --twin the GTask twin. A row per download, updated
 * from the backend's "row-changed" signal (at most about ten a second
 * per download, whatever the byte rate). The backend is bound to the
 * window, so closing it cancels every download and search it started.
 */
#include "fetcher-app.h"


static const char *
state_label (const FetcherRowInfo *info)
{
  return info->paused ? "paused" : fetcher_state_name (info->state);
}

/* "running · 1.2 of 4.0 MiB · 800 KiB/s · 3 s left", or the error. */
static char *
status_text (const FetcherRowInfo *info)
{
  double mib = info->received / 1048576.0;
  double total = info->total / 1048576.0;
  g_autofree char *size = info->total > 0 ? g_strdup_printf ("%.1f of %.1f MiB", mib, total)
                                          : g_strdup_printf ("%.1f MiB", mib);

  if (info->state == FETCHER_STATE_FAILED && info->error != NULL)
    return g_strdup_printf ("failed · %s", info->error->message);
  if (info->state != FETCHER_STATE_RUNNING || info->paused)
    return g_strdup_printf ("%s · %s · attempt %u", state_label (info), size, info->attempts);
  return g_strdup_printf ("running · %s · %.0f KiB/s · %.0f s left", size, info->rate / 1024.0,
                          MAX (info->eta, 0.0));
}

/* Pause and Resume stay grey on a backend that cannot pause (the twin). */
static void
row_update (FetcherRow *row)
{
  FetcherRowInfo info;
  gboolean ended, can_pause = fetcher_backend_can_pause (row->app->backend);
  g_autofree char *text = NULL;

  if (!fetcher_backend_get_row (row->app->backend, row->id, &info))
    return;
  ended = info.state >= FETCHER_STATE_DONE;
  text = status_text (&info);
  if (info.total > 0)
    gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (row->bar),
                                   (double) info.received / info.total);
  if (info.state == FETCHER_STATE_DONE)
    gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (row->bar), 1.0);
  gtk_label_set_text (GTK_LABEL (row->status), text);
  gtk_widget_set_sensitive (row->pause, can_pause && !ended && !info.paused);
  gtk_widget_set_sensitive (row->resume, can_pause && !ended && info.paused);
  gtk_widget_set_sensitive (row->cancel, !ended);
}

static void
on_pause_clicked (GtkButton *button,
                  gpointer   data)
{
  FetcherRow *row = data;

  fetcher_backend_pause (row->app->backend, row->id);
}

static void
on_resume_clicked (GtkButton *button,
                   gpointer   data)
{
  FetcherRow *row = data;

  fetcher_backend_resume (row->app->backend, row->id);
}

static void
on_cancel_clicked (GtkButton *button,
                   gpointer   data)
{
  FetcherRow *row = data;

  fetcher_backend_cancel (row->app->backend, row->id);
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
row_new (FetcherApp           *app,
         const FetcherRowInfo *info)
{
  FetcherRow *row = g_new0 (FetcherRow, 1);
  GtkWidget *grid = gtk_grid_new ();
  GtkWidget *title = gtk_label_new (info->url);
  GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);

  row->app = app;
  row->id = info->id;
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

/* A download appeared, changed state or made progress: its row follows
 * (the backend tells progress at most about ten times a second). */
static void
on_row_changed (FetcherBackend *backend,
                guint           id,
                gpointer        data)
{
  FetcherApp *app = data;
  FetcherRow *row = fetcher_app_find_row (app, id);
  FetcherRowInfo info;

  if (row == NULL && fetcher_backend_get_row (backend, id, &info))
    {
      row = row_new (app, &info);
      g_hash_table_insert (app->rows, GUINT_TO_POINTER (id), row);
    }
  if (row != NULL)
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

  if (*url != '\0' && fetcher_backend_add (app->backend, url) != 0)
    gtk_editable_set_text (entry, "");
}

static void
on_pause_all (GtkButton *button,
              gpointer   data)
{
  fetcher_backend_pause_all (((FetcherApp *) data)->backend);
}

static void
on_resume_all (GtkButton *button,
               gpointer   data)
{
  fetcher_backend_resume_all (((FetcherApp *) data)->backend);
}

static void
on_cancel_all (GtkButton *button,
               gpointer   data)
{
  fetcher_backend_cancel_all (((FetcherApp *) data)->backend);
}

/* ------------------------------------------------------------- search */

typedef struct
{
  FetcherApp     *app;
  FetcherBackend *backend;   /* the twin's callbacks have no source object */
  guint           serial;
} SearchCall;

/* Older searches end cancelled by the newer ones (the backend's
 * type-ahead): only the newest one's outcome is shown. */
static void
on_search_done (GObject      *source,
                GAsyncResult *result,
                gpointer      data)
{
  SearchCall *call = data;
  FetcherApp *app = call->app;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) rows = fetcher_backend_search_finish (call->backend, result, &error);
  gboolean newest = call->serial == app->search_serial && app->window != NULL;
  g_autofree char *text = NULL;

  g_object_unref (call->backend);
  g_free (call);
  if (!newest)
    {
      app->searches_superseded += g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      return;
    }
  if (rows != NULL)
    text = g_strdup_printf ("%u in the history", rows->len);
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    text = g_strdup ("search cancelled");
  else
    text = g_strdup_printf ("search failed: %s", error->message);
  gtk_label_set_text (GTK_LABEL (app->search_status), text);
  g_clear_pointer (&app->search_rows, g_ptr_array_unref);
  app->search_rows = g_steal_pointer (&rows);
  app->search_done = TRUE;
}

static void
on_search_changed (GtkSearchEntry *entry,
                   gpointer        data)
{
  FetcherApp *app = data;
  const char *text = gtk_editable_get_text (GTK_EDITABLE (entry));
  SearchCall *call = g_new0 (SearchCall, 1);

  call->app = app;
  call->backend = g_object_ref (app->backend);
  call->serial = ++app->search_serial;
  g_free (app->search_text);
  app->search_text = g_strdup (text);
  app->search_done = FALSE;
  g_clear_pointer (&app->search_rows, g_ptr_array_unref);
  gtk_label_set_text (GTK_LABEL (app->search_status), "searching…");
  fetcher_backend_search_async (app->backend, text, on_search_done, call);
}

/* ------------------------------------------------------------- window */

/* Runs as the window goes, before its scope is cancelled: the rows stop
 * following the downloads that the cancel is about to end. */
static void
on_window_destroy (GtkWidget *window,
                   gpointer   data)
{
  FetcherApp *app = data;

  g_clear_signal_handler (&app->changed_id, app->backend);
  if (app->dbus_id != 0 && app->gtk_app != NULL)
    g_dbus_connection_unregister_object (g_application_get_dbus_connection (
                                           G_APPLICATION (app->gtk_app)), app->dbus_id);
  app->dbus_id = 0;
  g_hash_table_remove_all (app->rows);
  g_clear_object (&app->backend);
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
  /* Every keystroke searches: the backend cancels the search before. */
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

/* The window on @app's backend; a plain GtkWindow without a
 * GtkApplication (bench-fetcher-frames). */
GtkWindow *
fetcher_app_window_new (FetcherApp *app)
{
  GtkWidget *window = app->gtk_app != NULL ? gtk_application_window_new (app->gtk_app)
                                           : gtk_window_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *scrolled = gtk_scrolled_window_new ();

  gtk_window_set_title (GTK_WINDOW (window), app->twin ? "libkaa fetcher (the GTask twin)"
                                                       : "libkaa fetcher");
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
  app->changed_id = g_signal_connect (app->backend, "row-changed",
                                      G_CALLBACK (on_row_changed), app);
  /* The twin cannot pause: its buttons stay grey. */
  gtk_widget_set_sensitive (app->pause_all, fetcher_backend_can_pause (app->backend));
  gtk_widget_set_sensitive (app->resume_all, fetcher_backend_can_pause (app->backend));
  /* What the window started ends with it. */
  fetcher_backend_bind (app->backend, window);
  return GTK_WINDOW (window);
}

