/* test-producer.c: producers written by the user pause and cancel (DESIGN §2, §6; issue #16)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * kaa_in_progress_new_full() hands cancel, pause and resume to the user's
 * own hooks: directly, and through a coroutine that awaits the
 * InProgress, as the cascade does for the built-in producers. The last
 * test drives a real child process with SIGSTOP, SIGCONT and SIGKILL and
 * reads its state from /proc.
 */
#include "config.h"

#include <signal.h>
#include <string.h>

#include <gio/gio.h>

#include "kaa-test-util.h"

typedef KaaTestFixture Fixture;

#define KAA_TEST_AREA "producer"

typedef struct
{
  GString *log;          /* one letter per hook: c, p, r, then d for destroy */
} Hooks;

static void
hook_cancel (KaaInProgress *ip,
             gpointer       data)
{
  g_assert_false (kaa_in_progress_is_done (ip));
  g_string_append_c (((Hooks *) data)->log, 'c');
}

static void
hook_pause (KaaInProgress *ip,
            gpointer       data)
{
  g_string_append_c (((Hooks *) data)->log, 'p');
}

static void
hook_resume (KaaInProgress *ip,
             gpointer       data)
{
  g_string_append_c (((Hooks *) data)->log, 'r');
}

static void
hook_destroy (gpointer data)
{
  g_string_append_c (((Hooks *) data)->log, 'd');
}

static const KaaProducerFuncs hooks_funcs = {
  .cancel = hook_cancel,
  .pause = hook_pause,
  .resume = hook_resume,
};

static void
test_hooks (Fixture       *f,
            gconstpointer  data)
{
  Hooks hooks = { g_string_new (NULL) };
  KaaInProgress *ip;

  g_test_summary ("DESIGN §2: a user's producer sees the first pause, the last "
                  "resume and the cancel, then its destroy notify, once");
  g_test_bug ("16");

  ip = kaa_in_progress_new_full (&hooks_funcs, &hooks, hook_destroy);
  kaa_in_progress_pause (ip);
  kaa_in_progress_pause (ip);
  kaa_in_progress_resume (ip);
  kaa_in_progress_resume (ip);
  kaa_in_progress_cancel (ip);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
  kaa_in_progress_unref (ip);
  g_assert_cmpstr (hooks.log->str, ==, "prcd");

  /* Finished by the work itself: no hook, and the destroy at the finish. */
  g_string_truncate (hooks.log, 0);
  ip = kaa_in_progress_new_full (&hooks_funcs, &hooks, hook_destroy);
  kaa_in_progress_finish_int64 (ip, 3);
  g_assert_cmpstr (hooks.log->str, ==, "d");
  kaa_in_progress_pause (ip);
  kaa_in_progress_cancel (ip);
  g_assert_cmpstr (hooks.log->str, ==, "d");
  kaa_in_progress_unref (ip);
  g_string_free (hooks.log, TRUE);
}

static void
body_awaits (KaaCoroutine *co,
             gpointer      data)
{
  kaa_await_borrowed (data, NULL);
}

static void
test_cascade (Fixture       *f,
              gconstpointer  data)
{
  Hooks hooks = { g_string_new (NULL) };
  g_autoptr(KaaInProgress) work = kaa_in_progress_new_full (&hooks_funcs, &hooks, hook_destroy);
  g_autoptr(KaaInProgress) co = kaa_coroutine_spawn (body_awaits, work, NULL);

  g_test_summary ("DESIGN §6: pausing, resuming and cancelling a coroutine that "
                  "awaits a user's producer reaches the producer");
  g_test_bug ("16");

  kaa_in_progress_pause (co);
  g_assert_cmpstr (hooks.log->str, ==, "p");
  kaa_in_progress_resume (co);
  kaa_test_drain (f->context);
  g_assert_cmpstr (hooks.log->str, ==, "pr");
  kaa_in_progress_cancel (co);
  g_assert_cmpint (kaa_in_progress_get_state (work), ==, KAA_STATE_CANCELLED);
  g_assert_cmpstr (hooks.log->str, ==, "prcd");
  g_string_free (hooks.log, TRUE);
}

/* ---------------------------------------------------- a child process */

static void
child_cancel (KaaInProgress *ip,
              gpointer       data)
{
  g_subprocess_force_exit (data);
}

static void
child_pause (KaaInProgress *ip,
             gpointer       data)
{
  g_subprocess_send_signal (data, SIGSTOP);
}

static void
child_resume (KaaInProgress *ip,
              gpointer       data)
{
  g_subprocess_send_signal (data, SIGCONT);
}

static const KaaProducerFuncs child_funcs = {
  .cancel = child_cancel,
  .pause = child_pause,
  .resume = child_resume,
};

/* The state letter of @pid in /proc (R, S, T, Z...), once it is or is
 * not @letter, as @want says; signals land asynchronously. */
static char
child_state (const char *pid,
             char        letter,
             gboolean    want)
{
  g_autofree char *path = g_build_filename ("/proc", pid, "stat", NULL);
  char state = '?';

  for (guint i = 0; i < 5000; i++)
    {
      g_autofree char *stat = NULL;
      const char *end;

      if (!g_file_get_contents (path, &stat, NULL, NULL) ||
          (end = strrchr (stat, ')')) == NULL)
        return '?';
      state = end[2];
      if ((state == letter) == want)
        break;
      g_usleep (1000);
    }
  return state;
}

static void
test_child_process (Fixture       *f,
                    gconstpointer  data)
{
  const char *argv[] = { "sleep", "60", NULL };
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(KaaInProgress) ip = NULL;
  const char *pid;

  g_test_summary ("DESIGN §2: a producer that pauses real work: a child process "
                  "is stopped on pause, continued on resume, killed on cancel");
  g_test_bug ("16");
  if (!g_file_test ("/proc/self/stat", G_FILE_TEST_EXISTS))
    {
      g_test_skip ("no /proc");
      return;
    }

  child = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_NONE, NULL);
  g_assert_nonnull (child);
  pid = g_subprocess_get_identifier (child);
  ip = kaa_in_progress_new_full (&child_funcs, g_object_ref (child), g_object_unref);

  kaa_in_progress_pause (ip);
  g_assert_cmpint (child_state (pid, 'T', TRUE), ==, 'T');
  kaa_in_progress_resume (ip);
  g_assert_cmpint (child_state (pid, 'T', FALSE), !=, 'T');
  kaa_in_progress_pause (ip);
  g_assert_cmpint (child_state (pid, 'T', TRUE), ==, 'T');

  /* Cancelled while stopped: killed all the same. */
  kaa_in_progress_cancel (ip);
  g_assert_true (g_subprocess_wait (child, NULL, NULL));
  g_assert_true (g_subprocess_get_if_signaled (child));
  g_assert_cmpint (g_subprocess_get_term_sig (child), ==, SIGKILL);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);


  KAA_TEST_ADD ("hooks", test_hooks);
  KAA_TEST_ADD ("cascade", test_cascade);
  KAA_TEST_ADD ("child-process", test_child_process);

  return g_test_run ();
}
