/* test-dump.c: the live dump of issue 19 (who awaits what)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each test builds a known scene of coroutines, a thread job, a
 * combinator and a pause, then parses the text form of kaa_dump_to_string()
 * (the format its doc comment promises) and checks the tree.
 */
#include "config.h"

#include <string.h>

#include "kaa-test-util.h"

#define KAA_TEST_AREA "dump"

/* ------------------------------------------------------------- the parser */

typedef struct
{
  guint       depth;
  guint       id;
  gboolean    back;     /* "#ID (see above)" */
  char       *kind;
  GHashTable *fields;   /* key → unquoted value */
} Line;

static void
line_free (gpointer data)
{
  Line *line = data;

  g_free (line->kind);
  g_clear_pointer (&line->fields, g_hash_table_unref);
  g_free (line);
}

/* One line of the dump, by the grammar of kaa-in-progress-dump.c. */
static Line *
parse_line (const char *text)
{
  static GRegex *head, *field;
  g_autoptr (GMatchInfo) match = NULL;
  Line *line = g_new0 (Line, 1);
  const char *p = text;

  if (head == NULL)
    {
      head = g_regex_new ("^( *)#([0-9]+) (\\(see above\\)|[a-z ]+?)(?= [a-z-]+=|$)", 0, 0, NULL);
      field = g_regex_new (" ([a-z-]+)=(\"(?:[^\"\\\\]|\\\\.)*\"|[^ ]+)", 0, 0, NULL);
    }
  g_assert_true (g_regex_match (head, text, 0, &match));
  {
    g_autofree char *spaces = g_match_info_fetch (match, 1);
    g_autofree char *id = g_match_info_fetch (match, 2);
    char *kind = g_match_info_fetch (match, 3);
    gint end;

    g_assert_cmpuint (strlen (spaces) % 2, ==, 0);
    line->depth = strlen (spaces) / 2;
    line->id = atoi (id);
    line->back = g_str_equal (kind, "(see above)");
    line->kind = kind;
    g_match_info_fetch_pos (match, 0, NULL, &end);
    p = text + end;
  }
  g_clear_pointer (&match, g_match_info_free);
  line->fields = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_regex_match (field, p, 0, &match);
  for (; g_match_info_matches (match); g_match_info_next (match, NULL))
    {
      char *value = g_match_info_fetch (match, 2);

      if (value[0] == '"')
        {
          char *unquoted;

          value[strlen (value) - 1] = '\0';
          unquoted = g_strcompress (value + 1);
          g_free (value);
          value = unquoted;
        }
      g_hash_table_insert (line->fields, g_match_info_fetch (match, 1), value);
    }
  return line;
}

/* The lines of @text after its header, which says how many there are. */
static GPtrArray *
parse_dump (const char *text)
{
  g_auto (GStrv) rows = g_strsplit (text, "\n", -1);
  GPtrArray *lines = g_ptr_array_new_with_free_func (line_free);
  guint n_shown = 0, n_header;

  g_assert_true (g_str_has_prefix (rows[0], "libkaa dump: "));
  n_header = atoi (rows[0] + strlen ("libkaa dump: "));
  for (guint i = 1; rows[i] != NULL && rows[i][0] != '\0'; i++)
    {
      Line *line = parse_line (rows[i]);

      n_shown += !line->back;
      g_ptr_array_add (lines, line);
    }
  g_assert_cmpuint (n_shown, ==, n_header);
  return lines;
}

static const char *
field (Line       *line,
       const char *key)
{
  return g_hash_table_lookup (line->fields, key);
}

/* The first line naming @name, or NULL. */
static Line *
find_named (GPtrArray  *lines,
            const char *name)
{
  for (guint i = 0; i < lines->len; i++)
    {
      Line *line = g_ptr_array_index (lines, i);

      if (!line->back && g_strcmp0 (field (line, "name"), name) == 0)
        return line;
    }
  return NULL;
}

static Line *
find_id (GPtrArray *lines,
         guint      id)
{
  for (guint i = 0; i < lines->len; i++)
    {
      Line *line = g_ptr_array_index (lines, i);

      if (!line->back && line->id == id)
        return line;
    }
  g_assert_not_reached ();
}

/* ------------------------------------------------------------- the scene */

typedef struct
{
  gint           job_started;   /* atomic */
  gint           job_release;   /* atomic */
  KaaThreadPool *pool;
  KaaInProgress *job;           /* a reference of the test's */
  KaaInProgress *inner;
  guint          outer_line;
  guint          inner_line;
  char          *seen_inside;   /* the dump made by "spinner" */
} Scene;

static gpointer
dump_job (KaaThreadJob *job,
          gpointer      data,
          GError      **error)
{
  Scene *scene = data;

  g_atomic_int_set (&scene->job_started, 1);
  while (!g_atomic_int_get (&scene->job_release))
    g_usleep (1000);
  return NULL;
}

/* Exported (the test links with export_dynamic), so that dladdr() names
 * it in the dump. */
void dump_test_inner (KaaCoroutine *co, gpointer data);
void dump_test_outer (KaaCoroutine *co, gpointer data);
void dump_test_spinner (KaaCoroutine *co, gpointer data);

void
dump_test_inner (KaaCoroutine *co,
                 gpointer      data)
{
  kaa_await (kaa_sleep (600000), NULL);
}

static const KaaCoroutineDef inner_def = { .name = "inner", .func = dump_test_inner };

void
dump_test_outer (KaaCoroutine *co,
                 gpointer      data)
{
  Scene *scene = data;
  KaaInProgress *inputs[2];

  scene->inner_line = __LINE__ + 1;
  scene->inner = kaa_coroutine_spawn_def (&inner_def, NULL, NULL, NULL);
  scene->job = kaa_thread_pool_run (scene->pool, G_PRIORITY_DEFAULT, dump_job, scene, NULL);
  kaa_in_progress_set_name (scene->job, "crunch");
  inputs[0] = kaa_in_progress_ref (scene->inner);
  inputs[1] = kaa_in_progress_ref (scene->job);
  kaa_await (kaa_all (inputs, 2), NULL);
}

static const KaaCoroutineDef outer_def = { .name = "outer", .func = dump_test_outer };

void
dump_test_spinner (KaaCoroutine *co,
                   gpointer      data)
{
  Scene *scene = data;

  kaa_yield ();
  scene->seen_inside = kaa_dump_to_string ();
  while (kaa_yield ())
    ;
}

static const KaaCoroutineDef spinner_def = { .name = "spinner", .func = dump_test_spinner };

static void
assert_parent (GPtrArray *lines,
               Line      *child,
               Line      *parent)
{
  guint i;

  for (i = 0; g_ptr_array_index (lines, i) != child; i++)
    ;
  while (i-- > 0)
    {
      Line *line = g_ptr_array_index (lines, i);

      if (line->depth < child->depth)
        {
          g_assert_true (line == parent);
          return;
        }
    }
  g_assert_not_reached ();
}

/*
 * main:    spawn outer ─┬─ spawn inner ── await kaa_sleep (600 s)
 *                       ├─ run job "crunch" (blocks on a flag)
 *                       └─ await kaa_all (inner, crunch)
 * main:    spawn spinner (yields forever; its second slice dumps)
 * main:    pause inner, wait for the job to run, dump
 */
static void
test_tree (KaaTestFixture *f,
           gconstpointer   data)
{
  Scene scene = { 0, };
  KaaInProgress *outer, *spinner;
  g_autofree char *text = NULL;
  g_autoptr (GPtrArray) lines = NULL;
  Line *o, *all, *in, *sleep, *job, *spin;
  double left;
  g_autofree char *outer_site = NULL, *inner_site = NULL, *by_inner = NULL;
  g_autofree char *running = NULL, *awaits = NULL;

  g_test_summary ("Issue 19: the dump shows every coroutine and job as a tree of who "
                  "awaits what, with kind, state, pause, body and spawn site");
  scene.pool = kaa_test_pool_new (1);
  scene.outer_line = __LINE__ + 1;
  outer = kaa_coroutine_spawn_def (&outer_def, NULL, &scene, NULL);
  spinner = kaa_coroutine_spawn_def (&spinner_def, NULL, &scene, NULL);
  kaa_in_progress_pause (scene.inner);
  kaa_test_spin_until (&scene.job_started, 1);
  while (scene.seen_inside == NULL)
    g_main_context_iteration (f->context, TRUE);

  text = kaa_dump_to_string ();
  g_test_message ("%s", text);
  lines = parse_dump (text);

  o = find_named (lines, "outer");
  g_assert_nonnull (o);
  g_assert_cmpstr (o->kind, ==, "coroutine");
  g_assert_cmpuint (o->depth, ==, 0);
  g_assert_cmpstr (field (o, "state"), ==, "awaiting");
  g_assert_cmpstr (field (o, "body"), ==, "dump_test_outer");
  outer_site = g_strdup_printf ("%s:%u", __FILE__, scene.outer_line);
  g_assert_cmpstr (field (o, "site"), ==, outer_site);
  /* Found through its scheduler, not tracked: no age by default. */
  g_assert_cmpstr (field (o, "age"), ==, "?");
  g_assert_null (field (o, "paused"));

  all = find_id (lines, atoi (field (o, "awaits") + 1));
  g_assert_cmpstr (all->kind, ==, "combinator");
  g_assert_cmpstr (field (all, "state"), ==, "all of 2, 2 left");
  g_assert_cmpstr (field (all, "awaiters"), ==, "1");
  assert_parent (lines, all, o);

  in = find_named (lines, "inner");
  g_assert_cmpstr (in->kind, ==, "coroutine");
  g_assert_cmpstr (field (in, "state"), ==, "awaiting");
  g_assert_cmpstr (field (in, "paused"), ==, "directly");
  inner_site = g_strdup_printf ("%s:%u", __FILE__, scene.inner_line);
  g_assert_cmpstr (field (in, "site"), ==, inner_site);
  assert_parent (lines, in, all);

  sleep = find_named (lines, "kaa_sleep");
  g_assert_cmpstr (sleep->kind, ==, "sleep");
  /* Paused with inner: its timer keeps the time it had left. */
  g_assert_true (g_str_has_prefix (field (sleep, "state"), "sleeping, frozen with "));
  left = g_ascii_strtod (field (sleep, "state") + strlen ("sleeping, frozen with "), NULL);
  g_assert_cmpfloat (left, >, 500.0);
  g_assert_cmpfloat (left, <=, 600.0);
  g_assert_cmpstr (field (sleep, "age"), ==, "?");   /* not tracked by default */
  by_inner = g_strdup_printf ("by #%u", in->id);
  g_assert_cmpstr (field (sleep, "paused"), ==, by_inner);
  assert_parent (lines, sleep, in);

  job = find_named (lines, "crunch");
  g_assert_cmpstr (job->kind, ==, "job");
  running = g_strdup_printf ("running in pool %s", kaa_thread_pool_get_name (scene.pool));
  g_assert_cmpstr (field (job, "state"), ==, running);
  /* Static: named by file and offset, as backtrace_symbols() does. */
  g_assert_true (g_str_has_prefix (field (job, "body"), "test-dump+0x"));
  assert_parent (lines, job, all);
  awaits = g_strdup_printf ("#%u,#%u", in->id, job->id);
  g_assert_cmpstr (field (all, "awaits"), ==, awaits);

  spin = find_named (lines, "spinner");
  g_assert_cmpuint (spin->depth, ==, 0);
  g_assert_cmpstr (field (spin, "state"), ==, "yielded");
  g_assert_true (o->id < spin->id);   /* roots, oldest first */

  /* Inside its own slice, the spinner was the one running. */
  g_clear_pointer (&lines, g_ptr_array_unref);
  lines = parse_dump (scene.seen_inside);
  g_assert_cmpstr (field (find_named (lines, "spinner"), "state"), ==, "running");

  /* The job first: cancelled while it runs, it would finish later. */
  g_atomic_int_set (&scene.job_release, 1);
  kaa_test_pump_until_done (f->context, scene.job);
  kaa_in_progress_cancel (outer);
  kaa_in_progress_cancel (spinner);
  kaa_test_pump_until_done (f->context, spinner);
  kaa_in_progress_unref (outer);
  kaa_in_progress_unref (spinner);
  kaa_in_progress_unref (scene.job);
  kaa_in_progress_unref (scene.inner);
  kaa_thread_pool_unref (scene.pool);
  g_free (scene.seen_inside);
}

static void
await_data (KaaCoroutine *co,
            gpointer      data)
{
  kaa_await (kaa_in_progress_ref (data), NULL);
}

static const KaaCoroutineDef waiter_a_def = { .name = "waiter-a", .func = await_data };
static const KaaCoroutineDef waiter_b_def = { .name = "waiter-b", .func = await_data };

/*
 * main:  shared = new InProgress "shared"
 *        spawn waiter-a ── await shared
 *        spawn waiter-b ── await shared
 *        dump: shared under waiter-a, a back reference under waiter-b
 */
static void
test_shared (KaaTestFixture *f,
             gconstpointer   data)
{
  KaaInProgress *shared = kaa_in_progress_new ();
  KaaInProgress *a, *b;
  g_autofree char *text = NULL;
  g_autoptr (GPtrArray) lines = NULL;
  g_autoptr (GVariant) variant = NULL;
  Line *la, *lb, *ls, *back = NULL;
  guint n_shared = 0;

  g_test_summary ("Issue 19: an InProgress awaited by several appears once, with its "
                  "awaiter count, and as a back reference under the others");
  kaa_in_progress_set_name (shared, "shared");
  a = kaa_coroutine_spawn_def (&waiter_a_def, NULL, shared, NULL);
  b = kaa_coroutine_spawn_def (&waiter_b_def, NULL, shared, NULL);

  text = kaa_dump_to_string ();
  g_test_message ("%s", text);
  lines = parse_dump (text);
  la = find_named (lines, "waiter-a");
  lb = find_named (lines, "waiter-b");
  ls = find_named (lines, "shared");
  g_assert_cmpstr (ls->kind, ==, "user");
  g_assert_cmpstr (field (ls, "state"), ==, "pending");
  g_assert_cmpstr (field (ls, "awaiters"), ==, "2");
  assert_parent (lines, ls, la);
  for (guint i = 0; i < lines->len; i++)
    {
      Line *line = g_ptr_array_index (lines, i);

      n_shared += line->id == ls->id;
      if (line->back)
        back = line;
    }
  g_assert_cmpuint (n_shared, ==, 2);
  g_assert_nonnull (back);
  g_assert_cmpuint (back->id, ==, ls->id);
  assert_parent (lines, back, lb);

  /* The variant: the same nodes, each once, with the same edges. */
  variant = kaa_dump_to_variant ();
  g_assert_cmpstr (g_variant_get_type_string (variant), ==, "aa{sv}");
  g_assert_cmpuint (g_variant_n_children (variant), ==, 3);
  for (gsize i = 0; i < 3; i++)
    {
      g_autoptr (GVariant) child = g_variant_get_child_value (variant, i);
      g_autoptr (GVariant) awaits = NULL;
      GVariantDict dict;
      const char *name;
      guint id;

      g_variant_dict_init (&dict, child);
      g_assert_true (g_variant_dict_lookup (&dict, "id", "u", &id));
      g_assert_true (g_variant_dict_lookup (&dict, "name", "&s", &name));
      g_assert_cmpstr (name, ==, field (find_id (lines, id), "name"));
      awaits = g_variant_dict_lookup_value (&dict, "awaits", G_VARIANT_TYPE ("au"));
      g_assert_cmpuint (g_variant_n_children (awaits), ==, g_str_equal (name, "shared") ? 0 : 1);
      g_variant_dict_clear (&dict);
    }

  kaa_in_progress_finish_pointer (shared, NULL, NULL);
  kaa_test_pump_until_done (f->context, a);
  kaa_test_pump_until_done (f->context, b);
  kaa_in_progress_unref (a);
  kaa_in_progress_unref (b);
  kaa_in_progress_unref (shared);
}

/* kaa_dump_track_all() cannot be undone: in a child process. */
static void
test_track_all (KaaTestFixture *f,
                gconstpointer   data)
{
  g_test_summary ("Issue 19: by default the dump sees coroutines and jobs and what they "
                  "await; kaa_dump_track_all() adds every InProgress made after it");
  if (g_test_subprocess ())
    {
      KaaInProgress *before = kaa_in_progress_new ();
      KaaInProgress *after;
      g_autofree char *text = NULL;
      g_autoptr (GPtrArray) lines = NULL;

      kaa_in_progress_set_name (before, "before");
      kaa_dump_track_all ();
      after = kaa_in_progress_new ();
      kaa_in_progress_set_name (after, "after");
      text = kaa_dump_to_string ();
      lines = parse_dump (text);
      g_assert_null (find_named (lines, "before"));
      g_assert_nonnull (find_named (lines, "after"));
      g_assert_cmpstr (find_named (lines, "after")->kind, ==, "user");
      kaa_in_progress_unref (before);
      kaa_in_progress_unref (after);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
test_bad_signal (KaaTestFixture *f,
                 gconstpointer   data)
{
  g_test_summary ("STYLE §5: kaa_dump_on_signal() of a signal GLib cannot watch is a "
                  "critical of libkaa's naming the signals allowed, and 0");
  g_test_bug ("19");

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*signal 9*SIGHUP*SIGUSR1*SIGWINCH*");
  g_assert_cmpuint (kaa_dump_on_signal (SIGKILL), ==, 0);
  g_test_assert_expected_messages ();
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*signal 0*SIGHUP*");
  g_assert_cmpuint (kaa_dump_on_signal (0), ==, 0);
  g_test_assert_expected_messages ();
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  KAA_TEST_ADD ("tree", test_tree);
  KAA_TEST_ADD ("shared", test_shared);
  KAA_TEST_ADD ("track-all", test_track_all);
  KAA_TEST_ADD ("bad-signal", test_bad_signal);
  return g_test_run ();
}
