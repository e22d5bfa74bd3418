/* test-sysprof.c: the Sysprof marks of issue 19
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The test runs this program again as a child ("child" as its only
 * argument) with SYSPROF_TRACE_FD pointing at a file, as Sysprof would,
 * then reads the capture back with libsysprof-capture's reader and looks
 * for the marks of each kind, with durations that fit what the child did.
 *
 * The child, one coroutine "marked" on the main loop:
 *
 *   marked:  yield ── a 20 ms slice ── await kaa_sleep (30) "nap"
 *            ── await job "crunch" (25 ms, pool "trace")
 *            ── spawn "victim" (awaits a long sleep), pause it, resume
 *               it, cancel it ── return
 *   main:    pumps until marked is done, then exits (the capture is
 *            flushed at exit)
 */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "kaa-test-util.h"

#if HAVE_SYSPROF
# include <sysprof-capture.h>
#endif

#define MS (G_GINT64_CONSTANT (1000000))   /* in the capture's ns */

static guint marked_line;

static gpointer
crunch (KaaThreadJob *job,
        gpointer      data,
        GError      **error)
{
  g_usleep (25 * 1000);
  return NULL;
}

static void
victim (KaaCoroutine *co,
        gpointer      data)
{
  kaa_await (kaa_sleep (600000), NULL);
}

static const KaaCoroutineDef victim_def = { .name = "victim", .func = victim };

static void
marked (KaaCoroutine *co,
        gpointer      data)
{
  KaaThreadPool *pool = kaa_thread_pool_new ("trace", 1);
  KaaInProgress *nap, *job, *v;

  kaa_yield ();
  g_usleep (20 * 1000);
  kaa_yield ();
  nap = kaa_sleep (30);
  kaa_in_progress_set_name (nap, "nap");
  kaa_await (nap, NULL);
  job = kaa_thread_pool_run (pool, G_PRIORITY_DEFAULT, crunch, NULL, NULL);
  kaa_in_progress_set_name (job, "crunch");
  kaa_await (job, NULL);
  v = kaa_coroutine_spawn_def (&victim_def, NULL, NULL, NULL);
  kaa_in_progress_pause (v);
  kaa_in_progress_resume (v);
  kaa_in_progress_cancel (v);
  kaa_in_progress_unref (v);
  kaa_thread_pool_unref (pool);
}

static const KaaCoroutineDef marked_def = { .name = "marked", .func = marked };

static int
run_child (void)
{
  KaaInProgress *ip;

  marked_line = __LINE__ + 1;
  ip = kaa_coroutine_spawn_def (&marked_def, NULL, NULL, NULL);
  g_print ("%s:%u\n", __FILE__, marked_line);
  while (!kaa_in_progress_is_done (ip))
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_FINISHED);
  kaa_in_progress_unref (ip);
  return 0;
}

#if HAVE_SYSPROF
typedef struct
{
  char  *name;
  char  *message;
  gint64 duration;
} Mark;

static void
mark_free (gpointer data)
{
  Mark *mark = data;

  g_free (mark->name);
  g_free (mark->message);
  g_free (mark);
}

/* Every mark of group "libkaa" in the capture at @path. */
static GPtrArray *
read_marks (const char *path)
{
  SysprofCaptureReader *reader = sysprof_capture_reader_new (path);
  GPtrArray *marks = g_ptr_array_new_with_free_func (mark_free);
  SysprofCaptureFrameType type;

  g_assert_nonnull (reader);
  while (sysprof_capture_reader_peek_type (reader, &type))
    {
      const SysprofCaptureMark *frame;
      Mark *mark;

      if (type != SYSPROF_CAPTURE_FRAME_MARK)
        {
          g_assert_true (sysprof_capture_reader_skip (reader));
          continue;
        }
      frame = sysprof_capture_reader_read_mark (reader);
      g_assert_nonnull (frame);
      if (!g_str_equal (frame->group, "libkaa"))
        continue;
      mark = g_new0 (Mark, 1);
      mark->name = g_strdup (frame->name);
      mark->message = g_strdup (frame->message);
      mark->duration = frame->duration;
      g_ptr_array_add (marks, mark);
    }
  sysprof_capture_reader_unref (reader);
  return marks;
}

/* The longest mark named @name whose message starts with @prefix. */
static Mark *
find_mark (GPtrArray  *marks,
           const char *name,
           const char *prefix)
{
  Mark *found = NULL;

  for (guint i = 0; i < marks->len; i++)
    {
      Mark *mark = g_ptr_array_index (marks, i);

      if (g_str_equal (mark->name, name) && g_str_has_prefix (mark->message, prefix) &&
          (found == NULL || mark->duration > found->duration))
        found = mark;
    }
  g_assert_nonnull (found);
  return found;
}

static void
assert_duration (Mark   *mark,
                 gint64  at_least)
{
  g_test_message ("%s: %s, %.3f ms", mark->name, mark->message, mark->duration / (double) MS);
  g_assert_cmpint (mark->duration, >=, at_least);
  g_assert_cmpint (mark->duration, <, 60000 * MS);
}
#endif

static const char *self_path;

static void
test_marks (void)
{
#if HAVE_SYSPROF
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) marks = NULL;
  g_autofree char *path = NULL, *out = NULL, *slice_prefix = NULL;
  guint n;
  int fd;

  g_test_summary ("Issue 19: with a Sysprof capture, libkaa marks coroutine slices, awaits, "
                  "thread jobs (queued, run), cancel and pause cascades and dispatches, a lone "
                  "yielder's slices dispatch among them");
  fd = g_file_open_tmp ("kaa-sysprof-XXXXXX.syscap", &path, &error);
  g_assert_no_error (error);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_take_fd (launcher, fd, 3);
  g_subprocess_launcher_setenv (launcher, "SYSPROF_TRACE_FD", "3", TRUE);
  g_subprocess_launcher_unsetenv (launcher, "SYSPROF_CONTROL_FD");
  process = g_subprocess_launcher_spawn (launcher, &error, self_path, "child", NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_successful (process));

  marks = read_marks (path);
  g_test_message ("%u marks", marks->len);
  slice_prefix = g_strdup_printf ("marked, spawned at %.*s", (int) strcspn (out, "\n"), out);
  assert_duration (find_mark (marks, "coroutine slice", slice_prefix), 18 * MS);
  assert_duration (find_mark (marks, "await", "marked awaited nap"), 25 * MS);
  assert_duration (find_mark (marks, "await", "marked awaited crunch"), 20 * MS);
  assert_duration (find_mark (marks, "job queued", "crunch in pool trace"), 0);
  assert_duration (find_mark (marks, "job run", "crunch in pool trace"), 20 * MS);
  assert_duration (find_mark (marks, "cancel", "victim: "), 0);
  /* The victim and the sleep it awaits. */
  n = atoi (find_mark (marks, "cancel", "victim: ")->message + strlen ("victim: "));
  g_assert_cmpuint (n, ==, 2);
  assert_duration (find_mark (marks, "pause", "victim: "), 0);
  assert_duration (find_mark (marks, "resume", "victim: "), 0);
  assert_duration (find_mark (marks, "dispatch", ""), 0);
  /* The slice a lone yield queued, run in a dispatch of its own. */
  assert_duration (find_mark (marks, "slices dispatch", "1 items, "), 18 * MS);
  g_assert_true (strstr (find_mark (marks, "dispatch", "")->message, " us of budget") != NULL);

  g_unlink (path);
#else
  g_test_skip ("built without sysprof-capture-4 (meson option sysprof)");
#endif
}

int
main (int    argc,
      char **argv)
{
  if (argc == 2 && g_str_equal (argv[1], "child"))
    return run_child ();

  g_test_init (&argc, &argv, NULL);
  self_path = argv[0];
  g_test_add_func ("/kaa/sysprof/marks", test_marks);
  return g_test_run ();
}
