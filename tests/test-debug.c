/* test-debug.c: the KAA_DEBUG switches of issue 19
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * KAA_DEBUG is read once, when the library is loaded, so each test runs
 * this program again as a child ("child-NAME" as its only argument) with
 * KAA_DEBUG set, and reads what the child wrote on standard error. The
 * children that leak on purpose run without LeakSanitizer.
 */
#include "config.h"

#include <string.h>

#include "kaa-test-util.h"

/* ------------------------------------------------------------ children */

static guint leaky_line;
/* What the children leak on purpose. */
static KaaInProgress *kept;

/* Exported (the test links with export_dynamic): named in the reports. */
void debug_test_leaky (KaaCoroutine *co, gpointer data);
void debug_test_sluggish (KaaCoroutine *co, gpointer data);
void debug_test_slow_callback (KaaInProgress *ip, gpointer data);
KaaInProgress *debug_test_make_failing (void);

void
debug_test_leaky (KaaCoroutine *co,
                  gpointer      data)
{
}

static const KaaCoroutineDef leaky_def = { .name = "leaky", .func = debug_test_leaky };

/* KAA_DEBUG=leaks: a finished coroutine's InProgress and a plain one,
 * never unreffed. */
static void
child_leaks (void)
{
  KaaInProgress *forgotten = kaa_in_progress_new ();

  kaa_in_progress_set_name (forgotten, "forgotten");
  leaky_line = __LINE__ + 1;
  kept = kaa_coroutine_spawn_def (&leaky_def, NULL, NULL, NULL);
  g_print ("site %s:%u\n", __FILE__, leaky_line);
}

static const KaaCoroutineDef napper_def = { .name = "napper", .func = NULL };

static void
napper (KaaCoroutine *co,
        gpointer      data)
{
  kaa_await (kaa_sleep (600000), NULL);
}

/* KAA_DEBUG=dump: a coroutine still awaiting a sleep at exit. */
static void
child_dump (void)
{
  KaaCoroutineDef def = napper_def;

  def.func = napper;
  kept = kaa_coroutine_spawn_def (&def, NULL, NULL, NULL);
}

/* Not inlined: its frame is what the report must show. */
G_NO_INLINE KaaInProgress *
debug_test_make_failing (void)
{
  KaaInProgress *ip = kaa_in_progress_new ();

  kaa_in_progress_set_name (ip, "unread");
  return ip;
}

/* KAA_DEBUG=unhandled: a failure nobody reads. */
static void
child_unhandled (void)
{
  KaaInProgress *ip = debug_test_make_failing ();

  kaa_in_progress_fail (ip, g_error_new_literal (KAA_ERROR, KAA_ERROR_FAILED, "nobody reads this"));
  kaa_in_progress_unref (ip);
}

void
debug_test_sluggish (KaaCoroutine *co,
                     gpointer      data)
{
  kaa_yield ();
  g_usleep (80 * 1000);
}

static const KaaCoroutineDef sluggish_def = { .name = "sluggish", .func = debug_test_sluggish };

void
debug_test_slow_callback (KaaInProgress *ip,
                          gpointer       data)
{
  g_usleep (80 * 1000);
}

/* KAA_DEBUG=slow-slice=MS: a slow second slice, a slow callback, and a
 * quick coroutine that must not be named. */
static void
child_slow (void)
{
  KaaInProgress *slow, *quick, *ip = kaa_in_progress_new ();

  kaa_in_progress_set_name (ip, "late");
  kaa_in_progress_connect (ip, debug_test_slow_callback, NULL, NULL);
  leaky_line = __LINE__ + 1;
  slow = kaa_coroutine_spawn_def (&sluggish_def, NULL, NULL, NULL);
  quick = kaa_coroutine_spawn (kaa_test_body_yield_then_return, NULL, NULL);
  g_print ("site %s:%u\n", __FILE__, leaky_line);
  kaa_in_progress_finish_pointer (ip, NULL, NULL);
  while (!kaa_in_progress_is_done (slow) || !kaa_in_progress_is_done (quick))
    g_main_context_iteration (NULL, TRUE);
  kaa_in_progress_unref (slow);
  kaa_in_progress_unref (quick);
  kaa_in_progress_unref (ip);
}

/* KAA_DEBUG=refs: an unref too many is caught and named, not a crash. */
static void
child_refs (void)
{
  KaaInProgress *ip = kaa_in_progress_new ();

  kaa_in_progress_set_name (ip, "twice");
  kaa_in_progress_unref (ip);
  kaa_in_progress_unref (ip);
}

static int
run_child (const char *name)
{
  static const struct { const char *name; void (*func) (void); } children[] = {
    { "child-leaks", child_leaks },
    { "child-dump", child_dump },
    { "child-unhandled", child_unhandled },
    { "child-slow", child_slow },
    { "child-refs", child_refs },
  };

  for (guint i = 0; i < G_N_ELEMENTS (children); i++)
    if (g_str_equal (name, children[i].name))
      {
        children[i].func ();
        return 0;
      }
  return 2;
}

/* ------------------------------------------------------------- tests */

static const char *self_path;

/* Runs this program as @child with KAA_DEBUG=@debug (NULL: unset);
 * returns its standard error, and its standard output in @out. */
static char *
run (const char  *child,
     const char  *debug,
     char       **out)
{
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GError) error = NULL;
  char *err_text = NULL;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  if (debug != NULL)
    g_subprocess_launcher_setenv (launcher, "KAA_DEBUG", debug, TRUE);
  else
    g_subprocess_launcher_unsetenv (launcher, "KAA_DEBUG");
  /* The children leak on purpose. */
  g_subprocess_launcher_setenv (launcher, "ASAN_OPTIONS", "detect_leaks=0", TRUE);
  process = g_subprocess_launcher_spawn (launcher, &error, self_path, child, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, out, &err_text, &error);
  g_assert_no_error (error);
  g_test_message ("%s with KAA_DEBUG=%s:\n%s", child, debug, err_text);
  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);
  return err_text;
}

/* The "site FILE:LINE" the child printed. */
static char *
site_of (const char *out)
{
  g_assert_true (g_str_has_prefix (out, "site "));
  return g_strndup (out + 5, strcspn (out + 5, "\n"));
}

static void
test_leaks (void)
{
  g_autofree char *out = NULL;
  g_autofree char *err = run ("child-leaks", "leaks", &out);
  g_autofree char *site = site_of (out);
  g_autofree char *site_field = g_strdup_printf ("site=%s", site);
  g_autofree char *quiet = run ("child-leaks", NULL, NULL);

  g_test_summary ("Issue 19: KAA_DEBUG=leaks names what is alive at exit, with the "
                  "spawn site of a coroutine, not only counts");
  g_assert_nonnull (strstr (err, "libkaa: live at exit: 2 InProgress"));
  g_assert_nonnull (strstr (err, "alive at exit"));
  g_assert_nonnull (strstr (err, "name=\"forgotten\""));
  g_assert_nonnull (strstr (err, "name=\"leaky\" state=\"finished\""));
  g_assert_nonnull (strstr (err, "body=debug_test_leaky"));
  g_assert_nonnull (strstr (err, site_field));
  g_assert_null (strstr (quiet, "libkaa"));
}

static void
test_dump (void)
{
  g_autofree char *err = run ("child-dump", "dump", NULL);
  g_autofree char *quiet = run ("child-dump", NULL, NULL);
  const char *napper_line, *sleep_line;

  g_test_summary ("Issue 19: KAA_DEBUG=dump prints the live dump at exit");
  napper_line = strstr (err, "#1 coroutine name=\"napper\" state=\"awaiting\"");
  g_assert_nonnull (napper_line);
  sleep_line = strstr (err, "\n  #2 sleep name=\"kaa_sleep\" state=\"sleeping until +");
  g_assert_nonnull (sleep_line);
  g_assert_true (napper_line < sleep_line);
  g_assert_null (strstr (quiet, "libkaa dump"));
}

static void
test_unhandled (void)
{
  g_autofree char *err = run ("child-unhandled", "unhandled", NULL);
  g_autofree char *plain = run ("child-unhandled", NULL, NULL);
  const char *made, *warning;

  g_test_summary ("Issue 19: KAA_DEBUG=unhandled prints where a failure nobody read "
                  "was made, with the unhandled-failure warning");
  made = strstr (err, "libkaa: the InProgress was made at:");
  warning = strstr (err, "InProgress unread (");
  g_assert_nonnull (made);
  g_assert_nonnull (warning);
  g_assert_true (made < warning);
  g_assert_nonnull (strstr (made, "debug_test_make_failing"));
  g_assert_nonnull (strstr (plain, "InProgress unread ("));
  g_assert_null (strstr (plain, "was made at"));
}

static void
test_slow_slice (void)
{
  g_autofree char *out = NULL;
  g_autofree char *err = run ("child-slow", "slow-slice=30", &out);
  g_autofree char *site = site_of (out);
  g_autofree char *slow_site = g_strdup_printf ("(debug_test_sluggish, spawned at %s)", site);
  g_autofree char *quiet = run ("child-slow", NULL, NULL);
  g_autofree char *listed = run ("child-slow", "refs,slow-slice=30", NULL);

  g_test_summary ("Issue 19: KAA_DEBUG=slow-slice=MS names a coroutine slice or a callback "
                  "that holds the main loop longer than MS, and nothing else");
  g_assert_nonnull (strstr (err, "slow-slice: coroutine \"sluggish\""));
  g_assert_nonnull (strstr (err, slow_site));
  g_assert_nonnull (strstr (err, "slow-slice: callback of InProgress \"late\" "
                                 "(debug_test_slow_callback)"));
  g_assert_nonnull (strstr (err, "(limit 30.0 ms)"));
  /* Exactly these two: the quick coroutine is not named. */
  g_assert_null (strstr (strstr (strstr (err, "slow-slice:") + 1, "slow-slice:") + 1, "slow-slice:"));
  g_assert_null (strstr (quiet, "slow-slice"));
  g_assert_nonnull (strstr (listed, "slow-slice: coroutine \"sluggish\""));
}

static void
test_refs (void)
{
  g_autofree char *err = run ("child-refs", "refs", NULL);

  g_test_summary ("Issue 19: KAA_DEBUG=refs catches an unref too many and names the InProgress");
  g_assert_nonnull (strstr (err, "InProgress twice ("));
  g_assert_nonnull (strstr (err, "was already freed"));
}

int
main (int    argc,
      char **argv)
{
  if (argc == 2 && g_str_has_prefix (argv[1], "child-"))
    return run_child (argv[1]);

  g_test_init (&argc, &argv, NULL);
  self_path = argv[0];
  g_test_add_func ("/kaa/debug/leaks", test_leaks);
  g_test_add_func ("/kaa/debug/dump", test_dump);
  g_test_add_func ("/kaa/debug/unhandled", test_unhandled);
  g_test_add_func ("/kaa/debug/slow-slice", test_slow_slice);
  g_test_add_func ("/kaa/debug/refs", test_refs);
  return g_test_run ();
}
