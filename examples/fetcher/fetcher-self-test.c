/* fetcher-self-test.c: the download manager drives its own window
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * With --self-test, this script runs as a coroutine on the window's main
 * loop against a server of its own (test-fetcher-server.c). It clicks
 * the window's buttons and types into its entries as a user would:
 *
 *   add          20 URLs through the URL entry: files, slow ones, failing,
 *                truncated, stalling and missing ones
 *   rows         pause two slow downloads (no byte arrives for a while),
 *                resume them, cancel a third
 *   settle       each ends as its path says; every file's SHA-256 is the
 *                server's; the window is saved to --screenshot
 *   search       two keystrokes, the first search cancelled by the second;
 *                Cancel all while the second one's query runs: it is
 *                interrupted, and no job started after its cancel
 *   history      a search finds the 20 downloads' rows, each as it ended
 *   close        the window closes mid-work: its downloads are cancelled
 *                at once and nothing is left in its scope or on the pool
 *
 * Waits are polls of the engine's state every 10 ms, under a deadline.
 */

#include "fetcher-app.h"
#include "test-fetcher-server.h"

#define KIB          1024u
#define DEADLINE_MS  60000
#define QUIET_MS     300
#define N_DOWNLOADS  20
#define SEED_ROWS    50000

typedef struct
{
  FetcherApp    *app;
  FetcherEngine *engine;      /* a reference of its own, to look after the close */
  TestServer    *server;
  char          *urls[N_DOWNLOADS];
  gsize          sizes[N_DOWNLOADS];
  FetcherState   want[N_DOWNLOADS];
  guint          first_slow;
} SelfTest;

static gboolean expect (gboolean ok, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
expect (gboolean    ok,
        const char *format,
        ...)
{
  g_autofree char *what = NULL;
  va_list args;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_print ("%s %s\n", ok ? "ok:" : "FAILED:", what);
  return ok;
}

/* Polls @done every 10 ms; FALSE after DEADLINE_MS or a cancel. */
static gboolean
await_true (gboolean  (*done) (gpointer data),
            gpointer    data,
            const char *what)
{
  gint64 deadline = g_get_monotonic_time () + DEADLINE_MS * G_TIME_SPAN_MILLISECOND;

  while (!done (data))
    if (g_get_monotonic_time () > deadline || !kaa_await (kaa_sleep (10), NULL))
      return expect (FALSE, "%s", what);
  return TRUE;
}

static gboolean
has_received (gpointer data)
{
  return fetcher_download_get_received (data) > 0;
}

static FetcherDownload *
download (SelfTest *t,
          guint     i)
{
  return g_ptr_array_index (fetcher_engine_get_downloads (t->engine), i);
}

static void
click (GtkWidget *button)
{
  g_signal_emit_by_name (button, "clicked");
}

static void
plan (SelfTest     *t,
      guint         i,
      FetcherState  want,
      gsize         size,
      char         *url)
{
  t->want[i] = want;
  t->sizes[i] = size;
  t->urls[i] = url;
}

/* ---------------------------------------------------------------- steps */

/* Types each URL into the entry and clicks Add; the seed of a file is its
 * index. */
static gboolean
step_add (SelfTest *t)
{
  TestServer *s = t->server;
  guint n = 0;

  for (; n < 8; n++)
    plan (t, n, FETCHER_STATE_DONE, 256 * KIB, test_server_url (s, "/file/%u/%u", 256 * KIB, n));
  for (t->first_slow = n; n < 13; n++)
    plan (t, n, FETCHER_STATE_DONE, 640 * KIB, test_server_url (s, "/slow/%u/%u", 640 * KIB, n));
  for (; n < 15; n++)
    plan (t, n, FETCHER_STATE_DONE, 128 * KIB,
          test_server_url (s, "/fail/2/%u/%u", 128 * KIB, n));
  for (; n < 17; n++)
    plan (t, n, FETCHER_STATE_DONE, 128 * KIB,
          test_server_url (s, "/truncated/%u/%u", 128 * KIB, n));
  plan (t, n++, FETCHER_STATE_FAILED, 0, test_server_url (s, "/missing"));
  plan (t, n, FETCHER_STATE_FAILED, 0, test_server_url (s, "/fail/1000/%u/%u", 64 * KIB, n));
  n++;
  plan (t, n, FETCHER_STATE_FAILED, 0, test_server_url (s, "/stall/%u/%u", 256 * KIB, n));
  for (guint i = 0; i < N_DOWNLOADS; i++)
    {
      gtk_editable_set_text (GTK_EDITABLE (t->app->url_entry), t->urls[i]);
      click (t->app->add_button);
    }
  return expect (g_hash_table_size (t->app->rows) == N_DOWNLOADS,
                 "%u URLs added through the entry, a row each",
                 g_hash_table_size (t->app->rows));
}

static gboolean
step_rows (SelfTest *t)
{
  FetcherDownload *slow[3];
  gint64 received[2];
  gboolean ok = TRUE;

  for (guint i = 0; i < 3; i++)
    {
      slow[i] = download (t, t->first_slow + i);
      if (!await_true (has_received, slow[i], "a slow download's bytes flow"))
        return FALSE;
      if (i < 2)
        {
          click (fetcher_app_find_row (t->app, fetcher_download_get_id (slow[i]))->pause);
          received[i] = fetcher_download_get_received (slow[i]);
        }
    }
  click (fetcher_app_find_row (t->app, fetcher_download_get_id (slow[2]))->cancel);
  t->want[t->first_slow + 2] = FETCHER_STATE_CANCELLED;
  ok &= expect (fetcher_download_get_state (slow[2]) == FETCHER_STATE_CANCELLED,
                "Cancel ended a download at once");
  kaa_await (kaa_sleep (QUIET_MS), NULL);
  for (guint i = 0; i < 2; i++)
    {
      FetcherRow *row = fetcher_app_find_row (t->app, fetcher_download_get_id (slow[i]));

      ok &= expect (fetcher_download_get_received (slow[i]) == received[i] &&
                    gtk_widget_get_sensitive (row->resume),
                    "a paused download got no byte in %u ms", QUIET_MS);
      click (row->resume);
    }
  return ok;
}

static gboolean
all_settled (gpointer data)
{
  SelfTest *t = data;

  for (guint i = 0; i < N_DOWNLOADS; i++)
    if (fetcher_download_get_state (download (t, i)) < FETCHER_STATE_DONE)
      return FALSE;
  return TRUE;
}

static gboolean
check_file (SelfTest *t,
            guint     i)
{
  FetcherDownload *d = download (t, i);
  const char *path = fetcher_download_get_path (d);
  g_autofree char *contents = NULL;
  g_autofree char *want = NULL;
  g_autofree char *have = NULL;
  gsize length = 0;

  if (t->want[i] != FETCHER_STATE_DONE)
    return expect (!g_file_test (path, G_FILE_TEST_EXISTS), "no file is left of %s", t->urls[i]);
  want = test_server_sha256 (t->sizes[i], i);
  if (g_file_get_contents (path, &contents, &length, NULL))
    have = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (guchar *) contents, length);
  return expect (g_strcmp0 (have, want) == 0 &&
                 g_strcmp0 (fetcher_download_get_sha256 (d), want) == 0,
                 "%s has the server's SHA-256 %.12s…", t->urls[i], want);
}

/* Renders the window as GTK draws it, through its own renderer. */
static gboolean
save_screenshot (GtkWidget  *window,
                 const char *path)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (window);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  int width = gtk_widget_get_width (window);
  int height = gtk_widget_get_height (window);
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;

  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  if (node == NULL)
    return expect (FALSE, "the window draws something");
  texture = gsk_renderer_render_texture (gtk_native_get_renderer (GTK_NATIVE (window)), node,
                                         &GRAPHENE_RECT_INIT (0, 0, width, height));
  return expect (gdk_texture_save_to_png (texture, path), "saved the window (%dx%d) to %s",
                 width, height, path);
}

/* Waits for the next frame the window paints. */
static gboolean
await_paint (FetcherApp *app)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (app->window));

  gtk_widget_queue_draw (GTK_WIDGET (app->window));
  return kaa_await (kaa_timeout (kaa_in_progress_new_for_signal (clock, "after-paint"),
                                 DEADLINE_MS, TRUE), NULL);
}

static gboolean
step_settle (SelfTest *t)
{
  gboolean ok = await_true (all_settled, t, "every download ends");

  for (guint i = 0; ok && i < N_DOWNLOADS; i++)
    {
      FetcherState state = fetcher_download_get_state (download (t, i));

      ok &= expect (state == t->want[i], "%s ended in state %d (%d)", t->urls[i], state,
                    t->want[i]);
      ok &= check_file (t, i);
    }
  if (!ok || t->app->screenshot == NULL)
    return ok;
  return await_paint (t->app) && save_screenshot (GTK_WIDGET (t->app->window),
                                                  t->app->screenshot);
}

typedef struct
{
  SelfTest   *t;
  const char *text;
} Started;

static gboolean
search_started (gpointer data)
{
  Started *started = data;
  g_autoptr(GArray) log = fetcher_engine_dup_job_log (started->t->engine);

  for (guint i = 0; i < log->len; i++)
    if (g_strcmp0 (g_array_index (log, FetcherJobLog, i).text, started->text) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
no_job_running (gpointer data)
{
  FetcherStats stats;

  fetcher_engine_get_stats (data, &stats);
  return stats.jobs_running == 0;
}

/* Types @text into the search box; returns the search it started (the
 * entry may search for "" first, as set_text() deletes, then inserts). */
static KaaInProgress *
type_search (SelfTest   *t,
             const char *text)
{
  gint64 deadline = g_get_monotonic_time () + DEADLINE_MS * G_TIME_SPAN_MILLISECOND;

  gtk_editable_set_text (GTK_EDITABLE (t->app->search_entry), text);
  while (g_strcmp0 (t->app->search_text, text) != 0)
    if (g_get_monotonic_time () > deadline || !kaa_await (kaa_sleep (10), NULL))
      return expect (FALSE, "typing \"%s\" started a search", text), NULL;
  return kaa_in_progress_ref (t->app->search);
}

/* Both searches started before their cancel, and the second one's query
 * was running at Cancel all, which interrupted it. */
static gboolean
check_job_log (SelfTest *t,
               gint64    first_cancelled,
               gint64    second_cancelled)
{
  g_autoptr(GArray) log = fetcher_engine_dup_job_log (t->engine);
  gboolean ok = TRUE, second_ran = FALSE;

  for (guint i = 0; i < log->len; i++)
    {
      FetcherJobLog *entry = &g_array_index (log, FetcherJobLog, i);

      if (g_strcmp0 (entry->text, "archive-1") == 0)
        ok &= expect (entry->started_at < first_cancelled,
                      "the first search's job started before its cancel");
      if (g_strcmp0 (entry->text, "archive-12") != 0)
        continue;
      second_ran = TRUE;
      ok &= expect (entry->started_at < second_cancelled && entry->interrupted,
                    "the second search's job started before Cancel all, which interrupted it");
    }
  return ok && expect (second_ran, "the second search's job ran");
}

static gboolean
step_search (SelfTest *t)
{
  g_autoptr(KaaInProgress) seeded = fetcher_engine_seed_history (t->engine, SEED_ROWS);
  g_autoptr(KaaInProgress) first = NULL;
  g_autoptr(KaaInProgress) second = NULL;
  Started started = { t, "archive-12" };
  gint64 first_cancelled, second_cancelled;
  const char *label;
  gboolean ok;

  if (!expect (kaa_await_borrowed (seeded, NULL), "%u rows added to the history", SEED_ROWS))
    return FALSE;
  if ((first = type_search (t, "archive-1")) == NULL ||
      (second = type_search (t, "archive-12")) == NULL)
    return FALSE;
  first_cancelled = g_get_monotonic_time ();
  ok = expect (kaa_in_progress_get_state (first) == KAA_STATE_CANCELLED,
               "the second keystroke cancelled the first search");
  if (!await_true (search_started, &started, "the second search's query starts"))
    return FALSE;
  click (t->app->cancel_all);
  second_cancelled = g_get_monotonic_time ();
  label = gtk_label_get_text (GTK_LABEL (t->app->search_status));
  ok &= expect (kaa_in_progress_get_state (second) == KAA_STATE_CANCELLED &&
                g_strcmp0 (label, "search cancelled") == 0,
                "Cancel all cancelled the running search (\"%s\")", label);
  if (!await_true (no_job_running, t->engine, "the interrupted query ends"))
    return FALSE;
  return ok && check_job_log (t, first_cancelled, second_cancelled);
}

static const char *
state_name (FetcherState state)
{
  return state == FETCHER_STATE_DONE ? "done"
         : state == FETCHER_STATE_FAILED ? "failed" : "cancelled";
}

/* The history holds a row per download, with its end and checksum. */
static gboolean
step_history (SelfTest *t)
{
  g_autoptr(KaaInProgress) search = type_search (t, "127.0.0.1:");
  g_autoptr(GError) error = NULL;
  GPtrArray *rows;
  gboolean ok = TRUE;

  if (search == NULL)
    return FALSE;
  kaa_await_borrowed (search, &error);
  if (!expect (error == NULL, "the history search ends (%s)",
               error != NULL ? error->message : "found"))
    return FALSE;
  rows = kaa_in_progress_get_pointer (search);
  if (!expect (rows->len == N_DOWNLOADS, "%u rows in the history", rows->len))
    return FALSE;
  for (guint i = 0; i < rows->len; i++)
    {
      FetcherRecord *record = g_ptr_array_index (rows, i);
      guint j = 0;

      while (j < N_DOWNLOADS && g_strcmp0 (t->urls[j], record->url) != 0)
        j++;
      ok &= expect (j < N_DOWNLOADS && g_strcmp0 (record->state, state_name (t->want[j])) == 0 &&
                    g_strcmp0 (record->sha256, fetcher_download_get_sha256 (download (t, j))) == 0,
                    "history: %s %s", record->url, record->state);
    }
  return ok;
}

/* Closing the window mid-work cancels what it started, at once: the
 * scope Cancel all made is bound to the window too. */
static gboolean
step_close (SelfTest *t)
{
  KaaInProgress *ips[4];
  g_autoptr(KaaScope) scope = NULL;
  gboolean ok = TRUE;

  for (guint i = 0; i < G_N_ELEMENTS (ips); i++)
    {
      g_autofree char *url = test_server_url (t->server, "/slow/%u/%u", 640 * KIB, 100 + i);

      gtk_editable_set_text (GTK_EDITABLE (t->app->url_entry), url);
      click (t->app->add_button);
      ips[i] = fetcher_download_get_in_progress (download (t, N_DOWNLOADS + i));
      kaa_in_progress_ref (ips[i]);
    }
  if (!await_true (has_received, download (t, N_DOWNLOADS), "the new downloads run"))
    return FALSE;
  scope = kaa_scope_ref (fetcher_engine_get_scope (t->engine));
  g_application_hold (G_APPLICATION (t->app->gtk_app));
  gtk_window_destroy (t->app->window);
  for (guint i = 0; i < G_N_ELEMENTS (ips); i++)
    {
      ok &= expect (kaa_in_progress_get_state (ips[i]) == KAA_STATE_CANCELLED &&
                    !g_file_test (fetcher_download_get_path (download (t, N_DOWNLOADS + i)),
                                  G_FILE_TEST_EXISTS),
                    "closing the window cancelled download %u at once", N_DOWNLOADS + i);
      kaa_in_progress_unref (ips[i]);
    }
  ok &= expect (kaa_scope_get_n_pending (scope) == 0, "nothing is left in the window's scope");
  ok &= await_true (no_job_running, t->engine, "no history job runs after the close");
  g_application_release (G_APPLICATION (t->app->gtk_app));
  return ok;
}

static void
self_test (KaaCoroutine *co,
           gpointer      user_data)
{
  SelfTest *t = user_data;

  kaa_coroutine_return_boolean (co, await_paint (t->app) &&
                                    step_add (t) &&
                                    step_rows (t) &&
                                    step_settle (t) &&
                                    step_search (t) &&
                                    step_history (t) &&
                                    step_close (t));
}

static void
on_self_test_done (KaaInProgress *in_progress,
                   gpointer       user_data)
{
  SelfTest *t = user_data;
  gboolean passed = kaa_in_progress_get_state (in_progress) == KAA_STATE_FINISHED &&
                    kaa_in_progress_get_boolean (in_progress);

  g_print ("self-test %s\n", passed ? "passed" : "FAILED");
  t->app->status = passed ? 0 : 1;
  if (t->app->window != NULL)
    gtk_window_destroy (t->app->window);
  g_object_unref (t->engine);
  test_server_remove_scratch (t->app->directory);
  test_server_stop (t->server);
  for (guint i = 0; i < N_DOWNLOADS; i++)
    g_free (t->urls[i]);
  g_application_quit (G_APPLICATION (t->app->gtk_app));
  g_free (t);
}

void
fetcher_app_self_test_start (FetcherApp *app)
{
  SelfTest *t = g_new0 (SelfTest, 1);
  KaaInProgress *test;

  t->app = app;
  t->engine = g_object_ref (app->engine);
  t->server = test_server_start ();
  test = kaa_coroutine_spawn (self_test, t, NULL);
  kaa_in_progress_set_name (test, "self-test");
  kaa_in_progress_connect (test, on_self_test_done, t, NULL);
  kaa_in_progress_unref (test);
}
