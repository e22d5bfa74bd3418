/* bench-fetcher-frames.c: how smoothly the window draws while an engine downloads
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   bench-fetcher-frames [--twin] [N [IN_FLIGHT]]   default: 200 × 1 MiB, 16 at once
 *
 * The fetcher's own window (fetcher-window.c) on the libkaa engine or,
 * with --twin, on the GTask twin, while it downloads N files of 1 MiB
 * from the tests' server in this process (bench-fetcher-common.h): a
 * row each, updated as the backend reports. A tick callback redraws the
 * window on every frame, so that the frame clock never idles. Prints
 * the p50 and p99 of the intervals between painted frames while the
 * downloads run. Run it under a display (xvfb-run in docs/fetcher.md).
 */
#include "bench-fetcher-common.h"
#include "fetcher-app.h"
#include "twin-engine.h"

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

static gboolean
redraw (GtkWidget     *widget,
        GdkFrameClock *clock,
        gpointer       data)
{
  gtk_widget_queue_draw (widget);
  return G_SOURCE_CONTINUE;
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

/* Downloads the bench's files through the window's backend, the frames
 * counted meanwhile; prints the figures. */
static void
measure (Bench      *bench,
         FetcherApp *app)
{
  GtkWidget *window = GTK_WIDGET (app->window);
  Frames frames = { g_array_new (FALSE, FALSE, sizeof (gint64)), 0 };
  gint64 start;

  while (gtk_widget_get_frame_clock (window) == NULL)
    g_main_context_iteration (NULL, TRUE);
  gtk_widget_add_tick_callback (window, redraw, NULL, NULL);
  g_signal_connect (gtk_widget_get_frame_clock (window), "after-paint",
                    G_CALLBACK (on_after_paint), &frames);
  start = g_get_monotonic_time ();
  bench_add (bench, app->backend, "file", BENCH_FILE_SIZE);
  while (!bench_all_ended (app->backend))
    g_main_context_iteration (NULL, TRUE);
  g_signal_handlers_disconnect_by_data (gtk_widget_get_frame_clock (window), &frames);
  g_array_sort (frames.intervals, compare);
  if (frames.intervals->len == 0)
    g_error ("no frame was painted");
  g_print ("%s: %u × 1 MiB, %u at once, %.2f s: %u frames, interval p50 %.1f ms, p99 %.1f ms\n",
           fetcher_backend_get_name (app->backend), bench->n, bench->in_flight,
           (g_get_monotonic_time () - start) / 1e6, frames.intervals->len,
           percentile (frames.intervals, 0.5), percentile (frames.intervals, 0.99));
  g_array_unref (frames.intervals);
}

int
main (int   argc,
      char *argv[])
{
  Bench bench = { 0 };
  FetcherApp app = { 0 };

  gtk_init ();
  bench_init (&bench, argc, argv);
  app.rows = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  app.twin = bench.twin;
  app.backend = bench_backend_new (&bench);
  app.window = fetcher_app_window_new (&app);
  gtk_window_present (app.window);
  measure (&bench, &app);
  gtk_window_destroy (app.window);     /* lets go of the backend */
  while (twin_engine_get_n_alive () > 0)
    g_main_context_iteration (NULL, TRUE);
  bench_finish (&bench);
  g_hash_table_unref (app.rows);
  g_free (app.search_text);
  return 0;
}
