/* bench-fetcher-frames.c: how smoothly GTK draws while an engine downloads
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   bench-fetcher-frames [--twin] [N [IN_FLIGHT]]   default: 200 × 1 MiB, 16 at once
 *
 * A window with a spinning GtkSpinner, so that the frame clock ticks on
 * every frame, while the libkaa engine (or, with --twin, the GTask twin)
 * downloads N files of 1 MiB from the tests' server in this process.
 * Prints the p50 and p99 of the intervals between painted frames while
 * the downloads run. Run it under a display (xvfb-run in
 * docs/fetcher.md); nothing else is drawn, so both engines pay the same
 * for drawing and only their work on the main loop differs.
 */
#include <stdlib.h>
#include <gtk/gtk.h>

#include "fetcher-engine.h"
#include "twin-engine.h"
#include "test-fetcher-server.h"

typedef struct
{
  GArray *intervals;   /* gint64 microseconds */
  gint64  last;
} Frames;

static void
on_after_paint (GdkFrameClock *clock,
                gpointer       data)
{
  Frames *frames = data;
  gint64 now = g_get_monotonic_time ();

  if (frames->last != 0)
    {
      gint64 interval = now - frames->last;

      g_array_append_val (frames->intervals, interval);
    }
  frames->last = now;
}

static int
compare (gconstpointer a,
         gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

static double
percentile (GArray *sorted,
            double  p)
{
  guint index = MIN (sorted->len - 1, (guint) (p * sorted->len));

  return g_array_index (sorted, gint64, index) / 1000.0;
}

static gboolean
engine_done (FetcherEngine *engine)
{
  GPtrArray *downloads = fetcher_engine_get_downloads (engine);

  for (guint i = 0; i < downloads->len; i++)
    if (fetcher_download_get_state (g_ptr_array_index (downloads, i)) < FETCHER_STATE_DONE)
      return FALSE;
  return TRUE;
}

/* Downloads N files with the engine or the twin, iterating the default
 * context (GTK's) until all have ended. */
static void
download_all (TestServer *server,
              const char *dir,
              gboolean    twin,
              guint       n,
              guint       in_flight)
{
  const FetcherConfig config = {
    .max_parallel = in_flight,
    .deadline_msec = 600000,
    .stall_msec = 60000,
    .backoff_msec = 100,
  };
  g_autofree char *db = g_build_filename (dir, "history.db", NULL);
  FetcherEngine *engine = twin ? NULL : fetcher_engine_new (dir, db, &config, NULL);
  TwinEngine *other = twin ? twin_engine_new (dir, db, &config, NULL) : NULL;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *url = test_server_url (server, "/file/%u/%u", 1u << 20, i);

      if (twin)
        (void) twin_engine_add (other, url);
      else
        (void) fetcher_engine_add (engine, url);
    }
  while (twin ? !twin_engine_is_quiet (other) : !engine_done (engine))
    g_main_context_iteration (NULL, TRUE);
  if (twin)
    twin_engine_free (other);
  else
    g_object_unref (engine);
}

int
main (int   argc,
      char *argv[])
{
  gboolean twin = argc > 1 && g_strcmp0 (argv[1], "--twin") == 0;
  char **args = twin ? argv + 1 : argv;
  int n_args = twin ? argc - 1 : argc;
  guint n = n_args > 1 ? (guint) atoi (args[1]) : 200;
  guint in_flight = n_args > 2 ? (guint) atoi (args[2]) : 16;
  g_autofree char *dir = g_dir_make_tmp ("kaa-fetcher-frames-XXXXXX", NULL);
  Frames frames = { g_array_new (FALSE, FALSE, sizeof (gint64)), 0 };
  GtkWidget *window, *spinner;
  TestServer *server;
  gint64 start;

  gtk_init ();
  window = gtk_window_new ();
  spinner = gtk_spinner_new ();
  gtk_spinner_start (GTK_SPINNER (spinner));
  gtk_window_set_child (GTK_WINDOW (window), spinner);
  gtk_window_set_default_size (GTK_WINDOW (window), 200, 200);
  gtk_window_present (GTK_WINDOW (window));
  while (gtk_widget_get_frame_clock (window) == NULL)
    g_main_context_iteration (NULL, TRUE);
  server = test_server_start ();
  g_signal_connect (gtk_widget_get_frame_clock (window), "after-paint",
                    G_CALLBACK (on_after_paint), &frames);
  start = g_get_monotonic_time ();
  download_all (server, dir, twin, n, in_flight);
  g_array_sort (frames.intervals, compare);
  if (frames.intervals->len == 0)
    g_error ("no frame was painted");
  g_print ("%s: %u × 1 MiB, %u at once, %.2f s: %u frames, interval p50 %.1f ms, p99 %.1f ms\n",
           twin ? "twin" : "libkaa", n, in_flight, (g_get_monotonic_time () - start) / 1e6,
           frames.intervals->len, percentile (frames.intervals, 0.5),
           percentile (frames.intervals, 0.99));
  gtk_window_destroy (GTK_WINDOW (window));
  test_server_stop (server);
  test_server_remove_scratch (dir);
  g_array_unref (frames.intervals);
  return 0;
}
