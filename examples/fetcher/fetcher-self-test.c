/* fetcher-self-test.c: the download manager drives its own window
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * With --self-test, this script runs as a coroutine on the window's main
 * loop against a server of its own (test-fetcher-server.c). It clicks
 * the window's buttons and types into its entries as a user would, on
 * either backend (--twin: the GTask twin), checking what each can do:
 *
 *   add          20 URLs through the URL entry: files, slow ones, failing,
 *                truncated, stalling and missing ones
 *   rows         pause two slow downloads (no byte arrives for a while),
 *                resume them (the twin: their buttons are grey), cancel
 *                a third
 *   settle       each ends as its path says; every file's SHA-256 is the
 *                server's; the window is saved to --screenshot
 *   search       (libkaa) two keystrokes, the first search cancelled by
 *                the second; Cancel all while the second one's query
 *                runs: it is interrupted, and no job started after its
 *                cancel
 *   history      a search finds the 20 downloads' rows, each as it ended
 *   cancel all   four slow downloads under way end cancelled, no file left
 *   close        the window closes mid-work: its downloads end cancelled
 *                (libkaa: at once, nothing left in its scope), no attempt
 *                starts after the close, and the live counters go to zero
 *
 * Waits are polls of the backend's state every 10 ms, under a deadline.
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
  FetcherApp     *app;
  FetcherBackend *backend;     /* a reference of its own, to look after the close */
  FetcherEngine  *engine;      /* the same, when it is the libkaa engine; else NULL */
  TestServer     *server;
  guint           probe;       /* the download has_received() looks at */
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

/* The download added @i-th (from 0): its id is i + 1. */
static FetcherRowInfo
row_info (SelfTest *t,
          guint     i)
{
  FetcherRowInfo info = { 0 };

  if (!fetcher_backend_get_row (t->backend, i + 1, &info))
    g_error ("self-test: no download %u", i + 1);
  return info;
}

static gboolean
has_received (gpointer data)
{
  SelfTest *t = data;

  return row_info (t, t->probe).received > 0;
}

static gboolean
await_received (SelfTest *t,
                guint     i)
{
  t->probe = i;
  return await_true (has_received, t, "a download's bytes flow");
}

static FetcherRow *
find_row (SelfTest *t,
          guint     i)
{
  return fetcher_app_find_row (t->app, i + 1);
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

/* A backend that cannot pause shows grey Pause and Resume buttons. */
static gboolean
check_no_pause (SelfTest *t,
                guint     i)
{
  FetcherRow *row = find_row (t, i);

  return expect (!gtk_widget_get_sensitive (row->pause) &&
                 !gtk_widget_get_sensitive (row->resume) &&
                 !gtk_widget_get_sensitive (t->app->pause_all) &&
                 !gtk_widget_get_sensitive (t->app->resume_all),
                 "the %s backend cannot pause: its buttons are grey",
                 fetcher_backend_get_name (t->backend));
}

static gboolean
is_cancelled (gpointer data)
{
  SelfTest *t = data;

  return row_info (t, t->probe).state == FETCHER_STATE_CANCELLED;
}

static gboolean
step_rows (SelfTest *t)
{
  guint slow = t->first_slow;
  gint64 received[2];
  gboolean ok = TRUE;

  for (guint i = 0; i < 3; i++)
    {
      if (!await_received (t, slow + i))
        return FALSE;
      if (i < 2 && fetcher_backend_can_pause (t->backend))
        {
          click (find_row (t, slow + i)->pause);
          received[i] = row_info (t, slow + i).received;
        }
    }
  click (find_row (t, slow + 2)->cancel);
  t->want[slow + 2] = FETCHER_STATE_CANCELLED;
  t->probe = slow + 2;
  if (t->engine != NULL)
    ok &= expect (is_cancelled (t), "Cancel ended a download at once");
  else
    ok &= await_true (is_cancelled, t, "Cancel ended a download");
  if (!fetcher_backend_can_pause (t->backend))
    return ok && check_no_pause (t, slow);
  kaa_await (kaa_sleep (QUIET_MS), NULL);
  for (guint i = 0; i < 2; i++)
    {
      FetcherRow *row = find_row (t, slow + i);

      ok &= expect (row_info (t, slow + i).received == received[i] &&
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
    if (row_info (t, i).state < FETCHER_STATE_DONE)
      return FALSE;
  return TRUE;
}

static gboolean
check_file (SelfTest *t,
            guint     i)
{
  FetcherRowInfo info = row_info (t, i);
  const char *path = info.path;
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
                 g_strcmp0 (info.sha256, want) == 0,
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
      FetcherState state = row_info (t, i).state;

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

/* Types @text into the search box (the entry may search for "" first,
 * as set_text() deletes, then inserts). */
static gboolean
type_search (SelfTest   *t,
             const char *text)
{
  gint64 deadline = g_get_monotonic_time () + DEADLINE_MS * G_TIME_SPAN_MILLISECOND;

  gtk_editable_set_text (GTK_EDITABLE (t->app->search_entry), text);
  while (g_strcmp0 (t->app->search_text, text) != 0)
    if (g_get_monotonic_time () > deadline || !kaa_await (kaa_sleep (10), NULL))
      return expect (FALSE, "typing \"%s\" started a search", text);
  return TRUE;
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

typedef struct
{
  SelfTest *t;
  guint     superseded;   /* the window's count before the second keystroke */
} Superseded;

static gboolean
first_came_back_cancelled (gpointer data)
{
  Superseded *before = data;

  return before->t->app->searches_superseded > before->superseded;
}

static gboolean
search_shown_cancelled (gpointer data)
{
  SelfTest *t = data;

  return t->app->search_done &&
         g_strcmp0 (gtk_label_get_text (GTK_LABEL (t->app->search_status)),
                    "search cancelled") == 0;
}

/* The libkaa engine's: its job log tells when each query ran. */
static gboolean
step_search (SelfTest *t)
{
  g_autoptr(KaaInProgress) seeded = NULL;
  Started started = { t, "archive-12" };
  Superseded before = { t, 0 };
  gint64 first_cancelled, second_cancelled;

  if (t->engine == NULL)
    return TRUE;
  seeded = fetcher_engine_seed_history (t->engine, SEED_ROWS);
  if (!expect (kaa_await_borrowed (seeded, NULL), "%u rows added to the history", SEED_ROWS) ||
      !type_search (t, "archive-1"))
    return FALSE;
  before.superseded = t->app->searches_superseded;
  if (!type_search (t, "archive-12"))
    return FALSE;
  first_cancelled = g_get_monotonic_time ();
  if (!await_true (first_came_back_cancelled, &before,
                   "the second keystroke cancelled the first search") ||
      !await_true (search_started, &started, "the second search's query starts"))
    return FALSE;
  click (t->app->cancel_all);
  second_cancelled = g_get_monotonic_time ();
  if (!await_true (search_shown_cancelled, t, "Cancel all cancelled the running search") ||
      !await_true (no_job_running, t->engine, "the interrupted query ends"))
    return FALSE;
  return check_job_log (t, first_cancelled, second_cancelled);
}

static const char *
state_name (FetcherState state)
{
  return state == FETCHER_STATE_DONE ? "done"
         : state == FETCHER_STATE_FAILED ? "failed" : "cancelled";
}

static gboolean
quiet (gpointer data)
{
  FetcherBackendStats stats;

  fetcher_backend_get_stats (data, &stats);
  return stats.active == 0 && stats.jobs_running == 0 && stats.rows_pending == 0;
}

static gboolean
search_done (gpointer data)
{
  return ((SelfTest *) data)->app->search_done;
}

/* The history holds a row per download, with its end and checksum. */
static gboolean
step_history (SelfTest *t)
{
  GPtrArray *rows;
  gboolean ok = TRUE;

  if (!await_true (quiet, t->backend, "every history row is written") ||
      !type_search (t, "127.0.0.1:") ||
      !await_true (search_done, t, "the history search ends"))
    return FALSE;
  rows = t->app->search_rows;
  if (!expect (rows != NULL && rows->len == N_DOWNLOADS, "%u rows in the history",
               rows != NULL ? rows->len : 0))
    return FALSE;
  for (guint i = 0; i < rows->len; i++)
    {
      FetcherRecord *record = g_ptr_array_index (rows, i);
      guint j = 0;

      while (j < N_DOWNLOADS && g_strcmp0 (t->urls[j], record->url) != 0)
        j++;
      ok &= expect (j < N_DOWNLOADS && g_strcmp0 (record->state, state_name (t->want[j])) == 0 &&
                    g_strcmp0 (record->sha256, row_info (t, j).sha256) == 0,
                    "history: %s %s", record->url, record->state);
    }
  return ok;
}

/* Adds four slow downloads through the entry; the index of the first. */
static guint
add_slow (SelfTest *t,
          guint     seed)
{
  guint first = fetcher_backend_get_n_rows (t->backend);

  for (guint i = 0; i < 4; i++)
    {
      g_autofree char *url = test_server_url (t->server, "/slow/%u/%u", 8192 * KIB, seed + i);

      gtk_editable_set_text (GTK_EDITABLE (t->app->url_entry), url);
      click (t->app->add_button);
    }
  return first;
}

typedef struct
{
  SelfTest *t;
  guint     first;
} Four;

static gboolean
four_cancelled (gpointer data)
{
  Four *four = data;

  for (guint i = four->first; i < four->first + 4; i++)
    if (row_info (four->t, i).state != FETCHER_STATE_CANCELLED)
      return FALSE;
  return TRUE;
}

/* libkaa: at once; the twin: as their callbacks come back. No file left. */
static gboolean
check_four_cancelled (SelfTest   *t,
                      guint       first,
                      const char *what)
{
  Four four = { t, first };
  gboolean ok = t->engine != NULL ? expect (four_cancelled (&four), "%s at once", what)
                                  : await_true (four_cancelled, &four, what);

  for (guint i = first; ok && i < first + 4; i++)
    ok &= expect (!g_file_test (row_info (t, i).path, G_FILE_TEST_EXISTS),
                  "no file is left of download %u", i + 1);
  return ok;
}

static gboolean
step_cancel_all (SelfTest *t)
{
  guint first = add_slow (t, 100);

  if (!await_received (t, first))
    return FALSE;
  click (t->app->cancel_all);
  return check_four_cancelled (t, first, "Cancel all ended four downloads under way");
}

/* Closing the window mid-work cancels what it started: with libkaa at
 * once, the scope Cancel all made being bound to the window too; then
 * nothing runs, and no attempt starts after the close. */
static gboolean
step_close (SelfTest *t)
{
  guint first = add_slow (t, 200);
  g_autoptr(KaaScope) scope = NULL;
  FetcherBackendStats stats;
  gint64 closed_at;
  gboolean ok;

  if (!await_received (t, first))
    return FALSE;
  if (t->engine != NULL)
    scope = kaa_scope_ref (fetcher_engine_get_scope (t->engine));
  g_application_hold (G_APPLICATION (t->app->gtk_app));
  gtk_window_destroy (t->app->window);
  closed_at = g_get_monotonic_time ();
  ok = check_four_cancelled (t, first, "closing the window cancelled its downloads");
  if (scope != NULL)
    ok &= expect (kaa_scope_get_n_pending (scope) == 0, "nothing is left in the window's scope");
  ok &= await_true (quiet, t->backend, "nothing runs after the close");
  fetcher_backend_get_stats (t->backend, &stats);
  ok &= expect (stats.last_attempt_at < closed_at, "no attempt started after the close");
  ok &= expect (fetcher_backend_add (t->backend, t->urls[0]) == 0,
                "the closed backend takes no download");
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
                                    step_cancel_all (t) &&
                                    step_close (t));
}

static void
on_self_test_done (KaaInProgress *in_progress,
                   gpointer       user_data)
{
  SelfTest *t = user_data;
  gboolean passed = kaa_in_progress_get_state (in_progress) == KAA_STATE_FINISHED &&
                    kaa_in_progress_get_boolean (in_progress);

  g_print ("self-test (%s) %s\n", fetcher_backend_get_name (t->backend),
           passed ? "passed" : "FAILED");
  t->app->status = passed ? 0 : 1;
  if (t->app->window != NULL)
    gtk_window_destroy (t->app->window);
  g_object_unref (t->backend);
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
  t->backend = g_object_ref (app->backend);
  t->engine = FETCHER_IS_ENGINE (app->backend) ? FETCHER_ENGINE (app->backend) : NULL;
  t->server = test_server_start ();
  test = kaa_coroutine_spawn (self_test, t, NULL);
  kaa_in_progress_set_name (test, "self-test");
  kaa_in_progress_connect (test, on_self_test_done, t, NULL);
  kaa_in_progress_unref (test);
}
