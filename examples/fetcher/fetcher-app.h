/* fetcher-app.h: the download manager's window, shared with its self-test
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "fetcher-backend.h"

G_BEGIN_DECLS

typedef struct _FetcherApp FetcherApp;

/* One row of the list: a download with its bar, figures and buttons. */
typedef struct
{
  FetcherApp      *app;
  guint            id;
  GtkWidget       *row;
  GtkWidget       *bar;
  GtkWidget       *status;
  GtkWidget       *pause;
  GtkWidget       *resume;
  GtkWidget       *cancel;
} FetcherRow;

struct _FetcherApp
{
  GtkApplication *gtk_app;
  GtkWindow      *window;
  FetcherBackend *backend;    /* the window's: it goes with it */
  gboolean        twin;       /* --twin: the GTask twin instead of the libkaa engine */
  GHashTable     *rows;       /* download id → FetcherRow */
  GtkWidget      *list;
  GtkWidget      *url_entry;
  GtkWidget      *add_button;
  GtkWidget      *pause_all;
  GtkWidget      *resume_all;
  GtkWidget      *cancel_all;
  GtkWidget      *search_entry;
  GtkWidget      *search_status;
  guint           search_serial; /* the newest search's */
  char           *search_text; /* what the newest search looks for */
  GPtrArray      *search_rows; /* FetcherRecord: what the newest search found, once done */
  gboolean        search_done; /* the newest search came back */
  guint           searches_superseded; /* searches that came back cancelled by a newer one */
  gulong          changed_id;
  guint           dbus_id;     /* org.libkaa.Fetcher, while the window is there */
  gboolean        test_server; /* --test-server: serve test-fetcher-server.h's paths */
  gpointer        server;
  char           *directory;
  char           *screenshot;
  gboolean        self_test;
  int             status;
};

GtkWindow  *fetcher_app_window_new      (FetcherApp *app);
FetcherRow *fetcher_app_find_row        (FetcherApp *app,
                                         guint       id);
void        fetcher_app_self_test_start (FetcherApp *app);

G_END_DECLS
