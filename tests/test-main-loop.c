/* test-main-loop.c: libkaa under the loops applications already run
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <kaa/kaa.h>

typedef struct
{
  GApplication *app;
  KaaInProgress *sleep;
  gboolean       slept;
  gboolean       done_inside_run;
} AppState;

static void
app_sleep_done (KaaInProgress *sleep,
                gpointer       data)
{
  AppState *state = data;

  state->slept = kaa_in_progress_get_state (sleep) == KAA_STATE_FINISHED;
  state->done_inside_run = TRUE;
  g_application_release (state->app);
}

static void
app_activate (GApplication *app,
              gpointer      data)
{
  AppState *state = data;

  g_application_hold (app);
  state->sleep = kaa_sleep (10);
  kaa_in_progress_connect (state->sleep, app_sleep_done, state, NULL);
}

static void
test_application_run (void)
{
  AppState state = { 0 };
  char *argv[] = { (char *) "test-main-loop", NULL };
  int status;

  g_test_summary ("DESIGN §3: the scheduler works unchanged inside g_application_run()");

  state.app = g_application_new (NULL, G_APPLICATION_NON_UNIQUE);
  g_signal_connect (state.app, "activate", G_CALLBACK (app_activate), &state);
  status = g_application_run (state.app, 1, argv);

  g_assert_cmpint (status, ==, 0);
  g_assert_true (state.done_inside_run);
  g_assert_true (state.slept);
  g_clear_pointer (&state.sleep, kaa_in_progress_unref);
  g_object_unref (state.app);
}

typedef struct
{
  GMainLoop *outer;
  GString   *log;
} Nested;

static void
nested_inner_done (KaaInProgress *sleep,
                   gpointer       data)
{
  GMainLoop *inner = data;

  g_main_loop_quit (inner);
}

/* Runs inside the outer loop's dispatch of the scheduler: a nested loop
 * on the same context must still fire timers and deliver callbacks. */
static void
nested_outer_done (KaaInProgress *sleep,
                   gpointer       data)
{
  Nested *nested = data;
  GMainLoop *inner = g_main_loop_new (g_main_loop_get_context (nested->outer), FALSE);
  KaaInProgress *inner_sleep = kaa_sleep (5);

  g_string_append (nested->log, "outer(");
  kaa_in_progress_connect (inner_sleep, nested_inner_done, inner, NULL);
  g_main_loop_run (inner);
  g_string_append (nested->log, kaa_in_progress_is_done (inner_sleep) ? "inner" : "?");
  g_string_append (nested->log, ")");

  kaa_in_progress_unref (inner_sleep);
  g_main_loop_unref (inner);
  g_main_loop_quit (nested->outer);
}

static void
test_nested_loop (void)
{
  GMainContext *context = g_main_context_new ();
  g_autoptr(GString) log = g_string_new (NULL);
  Nested nested = { NULL, log };
  KaaInProgress *outer_sleep;

  g_test_summary ("DESIGN §3: the scheduler works in a GMainLoop nested inside its "
                  "own dispatch");

  g_main_context_push_thread_default (context);
  nested.outer = g_main_loop_new (context, FALSE);
  outer_sleep = kaa_sleep (5);
  kaa_in_progress_connect (outer_sleep, nested_outer_done, &nested, NULL);
  g_main_loop_run (nested.outer);

  g_assert_cmpstr (log->str, ==, "outer(inner)");
  kaa_in_progress_unref (outer_sleep);
  g_main_loop_unref (nested.outer);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
}

static void
quit_cb (KaaInProgress *sleep,
         gpointer       data)
{
  kaa_main_quit ();
}

static void
test_kaa_main_run (void)
{
  GMainContext *context = g_main_context_new ();
  KaaInProgress *sleep;

  g_test_summary ("DESIGN §3: kaa_main_run() runs the thread-default context until "
                  "kaa_main_quit()");

  g_main_context_push_thread_default (context);
  sleep = kaa_sleep (5);
  kaa_in_progress_connect (sleep, quit_cb, NULL, NULL);
  kaa_main_run ();
  g_assert_true (kaa_in_progress_is_done (sleep));

  kaa_in_progress_unref (sleep);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kaa/main-loop/application-run", test_application_run);
  g_test_add_func ("/kaa/main-loop/nested-loop", test_nested_loop);
  g_test_add_func ("/kaa/main-loop/kaa-main-run", test_kaa_main_run);

  return g_test_run ();
}
