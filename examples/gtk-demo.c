/* gtk-demo.c: a GTK 4 window following a coroutine and a thread job
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   kaa-gtk-demo [--file PATH] [--rate MIB_PER_SEC]
 *   kaa-gtk-demo --self-test [--screenshot PNG]
 *
 * Start runs two jobs side by side. One counts the primes below twenty
 * million by trial division, in a coroutine on the main loop that yields
 * after every slice. The other hashes a large file with SHA-256 on
 * libkaa's thread pool: PATH, or a temporary file of random data that the
 * demo makes and removes. Each reports its progress through its
 * InProgress, and a GtkProgressBar follows it; Pause, Resume and Cancel
 * act on both InProgresses.
 *
 * The buttons are bound to the application's actions app.start,
 * app.pause, app.resume and app.cancel, so that a running demo can be
 * driven from outside as well, e.g.
 * `gapplication action org.libkaa.GtkDemo pause`. No callback handles
 * them: for each action a coroutine loops over a stream of its
 * "activate" emissions, none of which is lost between two turns. The
 * window stays responsive throughout: the coroutine's slices run below
 * GTK's drawing priority, and the hash blocks a worker thread, never
 * the main loop.
 *
 * Everything the window starts (the two jobs, the four loops) runs in a
 * task scope bound to the window: closing it mid-work cancels all of it,
 * and nothing keeps running.
 *
 * The jobs themselves are in gtk-demo-work.c. --self-test drives the
 * actions and checks what happens (gtk-demo-self-test.c); the test suite
 * runs it under Xvfb.
 */
#include <signal.h>

#include <glib-unix.h>
#include <glib/gstdio.h>

#include "gtk-demo.h"

#define APP_ID         "org.libkaa.GtkDemo"
#define DEFAULT_RATE   8                  /* MiB/s: four seconds for the temporary file */

/* --------------------------------------------------------- the two jobs */

static const char *
job_state (DemoJob *job)
{
  if (job->in_progress == NULL)
    return "idle";
  switch (kaa_in_progress_get_state (job->in_progress))
    {
    case KAA_STATE_PENDING:
      return kaa_in_progress_is_paused (job->in_progress) ? "paused" : "running";
    case KAA_STATE_FINISHED:
      return "finished";
    case KAA_STATE_CANCELLED:
      return "cancelled";
    case KAA_STATE_FAILED:
    default:
      return "failed";
    }
}

static gboolean
job_is_running (DemoJob *job)
{
  return job->in_progress != NULL && !kaa_in_progress_is_done (job->in_progress);
}

static void
set_action_enabled (Demo       *demo,
                    const char *name,
                    gboolean    enabled)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (demo->app), name);

  g_simple_action_set_enabled (G_SIMPLE_ACTION (action), enabled);
}

/* Shows each job's state, and enables the actions that make sense now. */
static void
demo_update (Demo *demo)
{
  DemoJob *jobs[] = { &demo->compute, &demo->hash };
  gboolean running = FALSE, paused = FALSE, unpaused = FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (jobs); i++)
    {
      if (jobs[i]->status != NULL)
        gtk_label_set_text (jobs[i]->status, job_state (jobs[i]));
      if (!job_is_running (jobs[i]))
        continue;
      running = TRUE;
      if (kaa_in_progress_is_paused (jobs[i]->in_progress))
        paused = TRUE;
      else
        unpaused = TRUE;
    }
  set_action_enabled (demo, "start", !running);
  set_action_enabled (demo, "pause", unpaused);
  set_action_enabled (demo, "resume", paused);
  set_action_enabled (demo, "cancel", running);
}

static void
on_progress (KaaInProgress *in_progress,
             gpointer       user_data)
{
  DemoJob *job = user_data;
  gdouble fraction = kaa_in_progress_get_fraction (in_progress);
  gdouble eta = kaa_in_progress_get_eta (in_progress);
  g_autofree char *text = NULL;

  /* A notification may trail the run's end, an older run or the window. */
  if (in_progress != job->in_progress || kaa_in_progress_is_done (in_progress) ||
      job->bar == NULL)
    return;
  if (eta >= 0)
    text = g_strdup_printf ("%.0f %% (%.0f s left)", 100 * fraction, eta);
  else
    text = g_strdup_printf ("%.0f %%", 100 * fraction);
  gtk_progress_bar_set_fraction (job->bar, fraction);
  gtk_progress_bar_set_text (job->bar, text);
}

static void
on_compute_done (KaaInProgress *in_progress,
                 gpointer       user_data)
{
  Demo *demo = user_data;
  g_autofree char *text = NULL;

  if (kaa_in_progress_get_state (in_progress) == KAA_STATE_FINISHED && demo->compute.bar != NULL)
    {
      text = g_strdup_printf ("%" G_GINT64_FORMAT " primes below %d",
                              kaa_in_progress_get_int64 (in_progress), DEMO_PRIME_LIMIT);
      gtk_progress_bar_set_fraction (demo->compute.bar, 1.0);
      gtk_progress_bar_set_text (demo->compute.bar, text);
    }
  demo_update (demo);
}

static void
on_hash_done (KaaInProgress *in_progress,
              gpointer       user_data)
{
  Demo *demo = user_data;
  KaaState state = kaa_in_progress_get_state (in_progress);
  const GError *error = kaa_in_progress_get_error (in_progress);

  if (demo->hash.bar != NULL && state == KAA_STATE_FINISHED)
    {
      gtk_progress_bar_set_fraction (demo->hash.bar, 1.0);
      gtk_progress_bar_set_text (demo->hash.bar, kaa_in_progress_get_string (in_progress));
    }
  else if (demo->hash.bar != NULL && state == KAA_STATE_FAILED)
    gtk_progress_bar_set_text (demo->hash.bar, error->message);
  demo_update (demo);
}

/* Makes @in_progress the job's current run, followed by its bar. */
static void
job_begin (DemoJob              *job,
           KaaInProgress        *in_progress,
           KaaInProgressCallback on_done,
           Demo                 *demo)
{
  g_clear_pointer (&job->in_progress, kaa_in_progress_unref);
  job->in_progress = in_progress;
  gtk_progress_bar_set_fraction (job->bar, 0.0);
  gtk_progress_bar_set_text (job->bar, NULL);
  kaa_in_progress_connect_progress (in_progress, on_progress, job, NULL);
  kaa_in_progress_connect (in_progress, on_done, demo, NULL);
}

/* ---------------------------------------------------------- the actions */

static void
demo_start (Demo *demo)
{
  job_begin (&demo->hash, demo_hash_file (demo->path, demo->rate), on_hash_done, demo);
  job_begin (&demo->compute, demo_count_primes (), on_compute_done, demo);
  /* The window's work: its close cancels them. */
  kaa_scope_add (demo->scope, kaa_in_progress_ref (demo->hash.in_progress));
  kaa_scope_add (demo->scope, kaa_in_progress_ref (demo->compute.in_progress));
  demo_update (demo);
}

/* Pause is counted, so each job is paused once and resumed once. */
static void
demo_pause (Demo *demo)
{
  DemoJob *jobs[] = { &demo->compute, &demo->hash };

  for (guint i = 0; i < G_N_ELEMENTS (jobs); i++)
    if (job_is_running (jobs[i]) && !kaa_in_progress_is_paused (jobs[i]->in_progress))
      kaa_in_progress_pause (jobs[i]->in_progress);
  demo_update (demo);
}

static void
demo_resume (Demo *demo)
{
  DemoJob *jobs[] = { &demo->compute, &demo->hash };

  for (guint i = 0; i < G_N_ELEMENTS (jobs); i++)
    if (job_is_running (jobs[i]) && kaa_in_progress_is_paused (jobs[i]->in_progress))
      kaa_in_progress_resume (jobs[i]->in_progress);
  demo_update (demo);
}

/* Cancel wins over pause: a paused job is cancelled as it is. */
static void
demo_cancel (Demo *demo)
{
  DemoJob *jobs[] = { &demo->compute, &demo->hash };

  for (guint i = 0; i < G_N_ELEMENTS (jobs); i++)
    if (job_is_running (jobs[i]))
      kaa_in_progress_cancel (jobs[i]->in_progress);
  demo_update (demo);
}

/* ------------------------------------------- the actions, as streams */

typedef struct
{
  Demo       *demo;
  const char *name;
  void      (*carry_out) (Demo *demo);
} DemoFollow;

/* Loops over the activations of one action. The stream queues every
 * emission, so none is lost while the loop is busy; the window's scope
 * ends the loop, and dropping the stream disconnects it. */
static void
follow_action (KaaCoroutine *self,
               gpointer      user_data)
{
  DemoFollow *follow = user_data;
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (follow->demo->app), follow->name);
  g_autoptr(KaaChannel) activations = kaa_channel_new_for_signal (action, "activate", 16,
                                                                  KAA_OVERFLOW_DROP_OLDEST);
  gpointer emission;

  while (kaa_channel_await_next (activations, &emission, NULL))
    {
      g_array_unref (emission);
      follow->carry_out (follow->demo);
      follow->demo->handled++;
    }
}

/* Starts the window's loops, one per action, in its scope. */
static void
follow_actions (Demo *demo)
{
  const DemoFollow follows[] = {
    { demo, "start", demo_start },
    { demo, "pause", demo_pause },
    { demo, "resume", demo_resume },
    { demo, "cancel", demo_cancel },
  };

  for (guint i = 0; i < G_N_ELEMENTS (follows); i++)
    kaa_scope_spawn (demo->scope, follow_action, g_memdup2 (&follows[i], sizeof follows[i]),
                     g_free);
}

/* ----------------------------------------------------------- the window */

static void
add_job_rows (GtkGrid    *grid,
              int         row,
              const char *title,
              DemoJob    *job)
{
  GtkWidget *label = gtk_label_new (title);
  GtkWidget *status = gtk_label_new (NULL);
  GtkWidget *bar = gtk_progress_bar_new ();

  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_widget_add_css_class (status, "dim-label");
  gtk_progress_bar_set_show_text (GTK_PROGRESS_BAR (bar), TRUE);
  gtk_grid_attach (grid, label, 0, row, 1, 1);
  gtk_grid_attach (grid, status, 1, row, 1, 1);
  gtk_grid_attach (grid, bar, 0, row + 1, 2, 1);
  job->status = GTK_LABEL (status);
  job->bar = GTK_PROGRESS_BAR (bar);
}

static GtkWidget *
button_box_new (void)
{
  static const char *const buttons[][2] = {
    { "_Start", "app.start" },
    { "_Pause", "app.pause" },
    { "_Resume", "app.resume" },
    { "_Cancel", "app.cancel" },
  };
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);

  gtk_widget_set_halign (box, GTK_ALIGN_END);
  for (guint i = 0; i < G_N_ELEMENTS (buttons); i++)
    {
      GtkWidget *button = gtk_button_new_with_mnemonic (buttons[i][0]);

      gtk_actionable_set_action_name (GTK_ACTIONABLE (button), buttons[i][1]);
      gtk_box_append (GTK_BOX (box), button);
    }
  return box;
}

/* By now the window's scope has cancelled what the window started; the
 * callbacks that follow find no widgets. */
static void
on_window_destroy (GtkWidget *window,
                   gpointer   user_data)
{
  Demo *demo = user_data;

  demo->window = NULL;
  demo->compute.bar = demo->hash.bar = NULL;
  demo->compute.status = demo->hash.status = NULL;
}

static GtkWindow *
demo_window_new (Demo *demo)
{
  GtkWidget *window = gtk_application_window_new (demo->app);
  GtkWidget *grid = gtk_grid_new ();
  g_autofree char *name = g_path_get_basename (demo->path);
  g_autofree char *hash_title = g_strdup_printf ("SHA-256 of %s, on the thread pool", name);

  gtk_window_set_title (GTK_WINDOW (window), "libkaa GTK demo");
  gtk_window_set_default_size (GTK_WINDOW (window), 520, -1);
  gtk_grid_set_row_spacing (GTK_GRID (grid), 8);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 12);
  g_object_set (grid, "margin-top", 18, "margin-bottom", 18,
                "margin-start", 18, "margin-end", 18, NULL);
  add_job_rows (GTK_GRID (grid), 0, "Primes below 20 000 000, in a coroutine", &demo->compute);
  add_job_rows (GTK_GRID (grid), 2, hash_title, &demo->hash);
  gtk_grid_attach (GTK_GRID (grid), button_box_new (), 0, 4, 2, 1);
  gtk_window_set_child (GTK_WINDOW (window), grid);
  g_signal_connect (window, "destroy", G_CALLBACK (on_window_destroy), demo);
  demo->scope = kaa_scope_new (KAA_SCOPE_COLLECT_ALL);
  kaa_scope_bind (demo->scope, window);
  follow_actions (demo);
  return GTK_WINDOW (window);
}

/* ------------------------------------------------------- the application */

static void
on_activate (GApplication *app,
             gpointer      user_data)
{
  Demo *demo = user_data;
  g_autoptr(GError) error = NULL;

  if (demo->window != NULL)
    {
      gtk_window_present (demo->window);
      return;
    }
  if (demo->path == NULL)
    {
      demo->path = demo_make_temp_file (&error);
      if (demo->path == NULL)
        {
          g_printerr ("kaa-gtk-demo: %s\n", error->message);
          demo->status = 1;
          return;
        }
      demo->own_file = TRUE;
    }
  demo->window = demo_window_new (demo);
  demo_update (demo);
  gtk_window_present (demo->window);
  if (demo->self_test)
    demo_self_test_start (demo);
}

/* Whatever still runs is cancelled: the coroutine unwinds and the
 * worker stops at its next check. */
static void
on_shutdown (GApplication *app,
             gpointer      user_data)
{
  Demo *demo = user_data;

  demo_cancel (demo);
  g_clear_pointer (&demo->scope, kaa_scope_unref);
  g_clear_pointer (&demo->compute.in_progress, kaa_in_progress_unref);
  g_clear_pointer (&demo->hash.in_progress, kaa_in_progress_unref);
  if (demo->own_file)
    g_unlink (demo->path);
}

/* Ctrl-C and kill end the demo as closing its window does, so that its
 * temporary file is removed. */
static gboolean
on_quit_signal (gpointer user_data)
{
  g_application_quit (G_APPLICATION (user_data));
  return G_SOURCE_CONTINUE;
}

/* A self-test must not hand itself over to a demo already running. */
static int
on_handle_local_options (GApplication *app,
                         GVariantDict *options,
                         gpointer      user_data)
{
  Demo *demo = user_data;

  if (demo->self_test)
    g_application_set_flags (app, g_application_get_flags (app) | G_APPLICATION_NON_UNIQUE);
  return -1;
}

int
main (int   argc,
      char *argv[])
{
  Demo demo = {
    .rate = DEFAULT_RATE,
    .compute.name = "computation",
    .hash.name = "hash",
  };
  const GActionEntry actions[] = {
    { .name = "start" },
    { .name = "pause" },
    { .name = "resume" },
    { .name = "cancel" },
  };
  const GOptionEntry options[] = {
    { "file", 0, 0, G_OPTION_ARG_FILENAME, &demo.path,
      "The file to hash (default: a temporary file of random data)", "PATH" },
    { "rate", 0, 0, G_OPTION_ARG_INT, &demo.rate,
      "Read the file at this many MiB/s at most (0: no limit)", "MIB_PER_SEC" },
    { "self-test", 0, 0, G_OPTION_ARG_NONE, &demo.self_test,
      "Drive the actions and check what happens", NULL },
    { "screenshot", 0, 0, G_OPTION_ARG_FILENAME, &demo.screenshot,
      "With --self-test: save the window to this PNG file", "PNG" },
    { NULL },
  };
  int status;

  demo.app = gtk_application_new (APP_ID, G_APPLICATION_DEFAULT_FLAGS);
  g_action_map_add_action_entries (G_ACTION_MAP (demo.app), actions,
                                   G_N_ELEMENTS (actions), &demo);
  g_application_add_main_option_entries (G_APPLICATION (demo.app), options);
  g_signal_connect (demo.app, "handle-local-options", G_CALLBACK (on_handle_local_options), &demo);
  g_signal_connect (demo.app, "activate", G_CALLBACK (on_activate), &demo);
  g_signal_connect (demo.app, "shutdown", G_CALLBACK (on_shutdown), &demo);
  g_unix_signal_add (SIGINT, on_quit_signal, demo.app);
  g_unix_signal_add (SIGTERM, on_quit_signal, demo.app);

  status = g_application_run (G_APPLICATION (demo.app), argc, argv);
  g_object_unref (demo.app);
  g_free (demo.path);
  g_free (demo.screenshot);
  return status != 0 ? status : demo.status;
}
