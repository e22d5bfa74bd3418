/* gtk-demo-self-test.c: the GTK demo drives its own actions and checks them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * With --self-test, the demo runs this script as one more coroutine on
 * its main loop. It activates the application's actions as the buttons
 * would, and waits for what they cause through events (the bars'
 * notify::fraction, the labels' notify::label, the frame clock's
 * after-paint), never for a guessed time. The one exception watches a
 * paused job for not moving, which no event can show.
 *
 *   start, pause at once   both paused after the coroutine's first slice
 *   (QUIET_MS)             neither advanced
 *   resume                 both running, until both bars moved on
 *   pause                  both paused; (QUIET_MS) neither advanced
 *   cancel                 both cancelled at once, though paused
 *   start                  both finish: as many primes as a sieve finds,
 *                          the hash GChecksum computes over the whole
 *                          file; the window drew meanwhile, and is saved
 *                          to --screenshot
 *   start, close window    both cancelled at once, nothing left in the
 *                          window's scope, and the actions reach nothing
 *
 * The demo carries out an action in a coroutine that loops over a stream
 * of its activations, so an activation takes effect a turn of the main
 * loop later: the script waits for it to be carried out.
 */
#include <string.h>

#include "gtk-demo.h"

#define WATCHDOG_MS  120000  /* for any one event; the slowest, a whole run, takes seconds */
#define QUIET_MS     1000    /* how long a paused job is watched */

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

static gint64
position (DemoJob *job)
{
  gint64 position = 0;

  kaa_in_progress_get_progress (job->in_progress, &position, NULL);
  return position;
}

static gboolean
expect_state (DemoJob    *job,
              const char *state)
{
  const char *shown = gtk_label_get_text (job->status);

  return expect (strcmp (shown, state) == 0, "the %s shows %s (%s)", job->name, state, shown);
}

/* Suspends the self-test until the demo has carried out @before + 1
 * actions; FALSE if it does not within WATCHDOG_MS. */
static gboolean
await_handled (Demo  *demo,
               guint  before)
{
  gint64 deadline = g_get_monotonic_time () + WATCHDOG_MS * G_GINT64_CONSTANT (1000);

  while (demo->handled == before)
    if (!kaa_yield () || g_get_monotonic_time () > deadline)
      return expect (FALSE, "the demo carried out the action within %d s", WATCHDOG_MS / 1000);
  return TRUE;
}

static gboolean
activate (Demo       *demo,
          const char *action)
{
  guint before = demo->handled;

  if (!expect (g_action_group_get_action_enabled (G_ACTION_GROUP (demo->app), action),
               "app.%s is enabled", action))
    return FALSE;
  g_action_group_activate_action (G_ACTION_GROUP (demo->app), action, NULL);
  return await_handled (demo, before);
}

/* Suspends the self-test until @instance emits @detailed_signal. */
static gboolean
await_signal (gpointer    instance,
              const char *detailed_signal)
{
  KaaInProgress *emission = kaa_in_progress_new_for_signal (instance, detailed_signal);
  g_autoptr(GError) error = NULL;

  /* kaa_timeout takes the emission, kaa_await the timeout. */
  if (kaa_await (kaa_timeout (emission, WATCHDOG_MS, TRUE), &error))
    return TRUE;
  return expect (FALSE, "%s within %d s: %s", detailed_signal, WATCHDOG_MS / 1000,
                 error->message);
}

static gboolean
await_paint (Demo *demo)
{
  gtk_widget_queue_draw (GTK_WIDGET (demo->window));
  return await_signal (gtk_widget_get_frame_clock (GTK_WIDGET (demo->window)), "after-paint");
}

/* Suspends the self-test until the job's bar shows it past @from. */
static gboolean
await_advance (DemoJob *job,
               gint64   from)
{
  while (position (job) <= from)
    {
      if (kaa_in_progress_is_done (job->in_progress))
        return expect (FALSE, "the %s is still running", job->name);
      if (!await_signal (job->bar, "notify::fraction"))
        return FALSE;
    }
  return expect (TRUE, "the %s went on from %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT,
                 job->name, from, position (job));
}

static gboolean
await_done (DemoJob *job)
{
  while (!kaa_in_progress_is_done (job->in_progress))
    if (!await_signal (job->status, "notify::label"))
      return FALSE;
  return TRUE;
}

/* A paused coroutine runs no slice; a paused thread job may still finish
 * the chunk it was reading before it stops at its check. */
static gboolean
expect_still (Demo *demo)
{
  gint64 compute = position (&demo->compute);
  gint64 hash = position (&demo->hash);
  gboolean ok = TRUE;

  kaa_await (kaa_sleep (QUIET_MS), NULL);
  ok &= expect (position (&demo->compute) == compute,
                "the paused computation stayed at %" G_GINT64_FORMAT " (%" G_GINT64_FORMAT ")",
                compute, position (&demo->compute));
  ok &= expect (position (&demo->hash) <= hash + DEMO_HASH_CHUNK,
                "the paused hash stayed at %" G_GINT64_FORMAT " (%" G_GINT64_FORMAT ")",
                hash, position (&demo->hash));
  ok &= expect (!kaa_in_progress_is_done (demo->compute.in_progress) &&
                !kaa_in_progress_is_done (demo->hash.in_progress), "neither is done");
  return ok;
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

static gint64
count_primes_by_sieve (guint32 limit)
{
  g_autofree guint8 *composite = g_malloc0 (limit);
  gint64 count = 0;

  for (guint32 n = 2; n < limit; n++)
    {
      if (composite[n])
        continue;
      count++;
      for (guint64 multiple = (guint64) n * n; multiple < limit; multiple += n)
        composite[multiple] = 1;
    }
  return count;
}

static char *
hash_whole_file (const char *path)
{
  g_autoptr(GMappedFile) file = g_mapped_file_new (path, FALSE, NULL);

  if (file == NULL)
    return NULL;
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256,
                                      (const guchar *) g_mapped_file_get_contents (file),
                                      g_mapped_file_get_length (file));
}

/* ---------------------------------------------------------------- steps */

static gboolean
step_pause_at_once (Demo *demo)
{
  if (!activate (demo, "start") || !activate (demo, "pause"))
    return FALSE;
  return (expect_state (&demo->compute, "paused") & expect_state (&demo->hash, "paused")) &&
         expect_still (demo);
}

static gboolean
step_resume (Demo *demo)
{
  gint64 compute = position (&demo->compute);
  gint64 hash = position (&demo->hash);

  if (!activate (demo, "resume") ||
      !(expect_state (&demo->compute, "running") & expect_state (&demo->hash, "running")))
    return FALSE;
  return await_advance (&demo->compute, compute) && await_advance (&demo->hash, hash);
}

static gboolean
step_pause_again (Demo *demo)
{
  if (!activate (demo, "pause"))
    return FALSE;
  return (expect_state (&demo->compute, "paused") & expect_state (&demo->hash, "paused")) &&
         expect_still (demo);
}

static gboolean
step_cancel (Demo *demo)
{
  KaaState compute, hash;

  if (!activate (demo, "cancel"))
    return FALSE;
  compute = kaa_in_progress_get_state (demo->compute.in_progress);
  hash = kaa_in_progress_get_state (demo->hash.in_progress);
  return expect (compute == KAA_STATE_CANCELLED && hash == KAA_STATE_CANCELLED,
                 "both are cancelled at once (states %d and %d)", compute, hash) &&
         (expect_state (&demo->compute, "cancelled") & expect_state (&demo->hash, "cancelled"));
}

static void
count_frame (GdkFrameClock *clock,
             gpointer       user_data)
{
  (*(guint *) user_data)++;
}

static gboolean
step_finish (Demo *demo)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (demo->window));
  g_autofree char *expected_hash = hash_whole_file (demo->path);
  gint64 expected_primes = count_primes_by_sieve (DEMO_PRIME_LIMIT);
  guint frames = 0;
  gulong id;
  gboolean ok;

  id = g_signal_connect (clock, "after-paint", G_CALLBACK (count_frame), &frames);
  ok = activate (demo, "start") && await_done (&demo->compute);
  g_signal_handler_disconnect (clock, id);
  if (!ok || !await_done (&demo->hash))
    return FALSE;

  ok = expect_state (&demo->compute, "finished") & expect_state (&demo->hash, "finished");
  if (!ok)
    return FALSE;
  ok &= expect (kaa_in_progress_get_int64 (demo->compute.in_progress) == expected_primes,
                "%" G_GINT64_FORMAT " primes below %d, as the sieve finds",
                kaa_in_progress_get_int64 (demo->compute.in_progress), DEMO_PRIME_LIMIT);
  ok &= expect (g_strcmp0 (kaa_in_progress_get_string (demo->hash.in_progress),
                           expected_hash) == 0,
                "sha256 %s, as GChecksum computes it (%s)",
                kaa_in_progress_get_string (demo->hash.in_progress), expected_hash);
  /* A coroutine that never yielded would have kept GTK from drawing
   * at all until it was done. */
  ok &= expect (frames >= 3, "the window drew %u frames while the computation ran", frames);
  if (!ok || demo->screenshot == NULL)
    return ok;
  return await_paint (demo) && save_screenshot (GTK_WIDGET (demo->window), demo->screenshot);
}

/* Closing the window mid-work leaves nothing running: its scope cancels
 * the jobs and the loops over the actions' streams as it goes. */
static gboolean
step_close (Demo *demo)
{
  KaaScope *scope = demo->scope;
  KaaInProgress *hash;
  gboolean ok;
  guint handled;

  if (!activate (demo, "start") || !await_advance (&demo->compute, 0) ||
      !await_advance (&demo->hash, 0))
    return FALSE;
  /* The application would quit with its last window. */
  g_application_hold (G_APPLICATION (demo->app));
  gtk_window_destroy (demo->window);
  ok = expect (kaa_in_progress_get_state (demo->compute.in_progress) == KAA_STATE_CANCELLED &&
               kaa_in_progress_get_state (demo->hash.in_progress) == KAA_STATE_CANCELLED,
               "closing the window cancelled both jobs at once");
  ok &= expect (kaa_scope_get_n_pending (scope) == 0,
                "nothing is left running in the window's scope (%u)",
                kaa_scope_get_n_pending (scope));
  handled = demo->handled;
  hash = demo->hash.in_progress;
  g_action_group_activate_action (G_ACTION_GROUP (demo->app), "start", NULL);
  for (guint i = 0; i < 10; i++)
    kaa_yield ();
  ok &= expect (demo->handled == handled && demo->hash.in_progress == hash,
                "an action activated after the close reaches nothing");
  g_application_release (G_APPLICATION (demo->app));
  return ok;
}

static void
self_test (KaaCoroutine *co,
           gpointer      user_data)
{
  Demo *demo = user_data;

  kaa_coroutine_return_boolean (co, await_paint (demo) &&
                                    step_pause_at_once (demo) &&
                                    step_resume (demo) &&
                                    step_pause_again (demo) &&
                                    step_cancel (demo) &&
                                    step_finish (demo) &&
                                    step_close (demo));
}

static void
on_self_test_done (KaaInProgress *in_progress,
                   gpointer       user_data)
{
  Demo *demo = user_data;
  gboolean passed = kaa_in_progress_get_state (in_progress) == KAA_STATE_FINISHED &&
                    kaa_in_progress_get_boolean (in_progress);

  g_print ("self-test %s\n", passed ? "passed" : "FAILED");
  demo->status = passed ? 0 : 1;
  g_application_quit (G_APPLICATION (demo->app));
}

void
demo_self_test_start (Demo *demo)
{
  KaaInProgress *test = kaa_coroutine_spawn (self_test, demo, NULL);

  kaa_in_progress_set_name (test, "self-test");
  kaa_in_progress_connect (test, on_self_test_done, demo, NULL);
  kaa_in_progress_unref (test);
}
