/* test-cascade-ancestor.c: a descendant that cancels its ancestor
 * (DESIGN §6)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "kaa-test-util.h"

typedef KaaTestFixture Fixture;

#define KAA_TEST_AREA "cascade-ancestor"

/* A chain of three named levels: "a" awaits "b", "b" awaits "c", "c"
 * awaits a sleep; the level `canceller` names, once resumed, cancels the
 * ancestor `target` names, from its body or from its cleanup. Each
 * level's local `mark` lives on its own stack and is handed down, so
 * that a descendant reading it after its ancestor's stack went back to
 * the pool is an invalid access under ASan. */
typedef struct
{
  GString       *log;
  KaaInProgress *levels[3];     /* "a", "b", "c"; borrowed */
  KaaInProgress *gate;          /* "c" awaits it; the test finishes it */
  guint          canceller;
  guint          target;
  gboolean       from_cleanup;
} Family;

typedef struct
{
  Family     *family;
  guint       level;
  const char *parent_mark;      /* on the parent's stack */
} Member;

static const char *const family_names[] = { "a", "b", "c" };

static void
member_cleanup (Member *member)
{
  Family *family = member->family;

  if (family->from_cleanup && member->level == family->canceller)
    {
      g_string_append_printf (family->log, "%s:cancels-%s ", family_names[member->level],
                              family_names[family->target]);
      kaa_in_progress_cancel (family->levels[family->target]);
    }
  g_string_append_printf (family->log, "%s:cleanup(%s) ", family_names[member->level],
                          member->parent_mark != NULL ? member->parent_mark : "-");
  g_free (member);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Member, member_cleanup)

static void body_member (KaaCoroutine *co,
                         gpointer      data);

static void
body_member (KaaCoroutine *co,
             gpointer      data)
{
  g_autoptr(Member) self = data;
  Family *family = self->family;
  char mark[8];
  g_autoptr(GError) error = NULL;
  KaaInProgress *below;

  g_snprintf (mark, sizeof mark, "%s-mark", family_names[self->level]);
  family->levels[self->level] = kaa_coroutine_get_in_progress (co);
  if (self->level == 2)
    below = kaa_in_progress_ref (family->gate);
  else
    {
      Member *child = g_new0 (Member, 1);

      child->family = family;
      child->level = self->level + 1;
      child->parent_mark = mark;
      below = kaa_coroutine_spawn (body_member, child, NULL);
    }
  if (kaa_await (below, &error))
    g_string_append_printf (family->log, "%s:got ", family_names[self->level]);
  else
    g_string_append_printf (family->log, "%s:%s ", family_names[self->level],
                            g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                              ? "cancelled" : error->message);
  if (self->level == family->canceller && !family->from_cleanup)
    {
      g_string_append_printf (family->log, "%s:cancels-%s ", family_names[self->level],
                              family_names[family->target]);
      kaa_in_progress_cancel (family->levels[family->target]);
      g_string_append_printf (family->log, "%s:back(%s) ", family_names[self->level],
                              self->parent_mark);
    }
}

static void
test_descendant_cancels_ancestor (Fixture       *f,
                                  gconstpointer  data)
{
  const char *const *expected = data;
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(KaaInProgress) gate = kaa_in_progress_new ();
  Family family = { log, { NULL }, gate, 0, 0, FALSE };
  Member *top = g_new0 (Member, 1);
  g_autoptr(KaaInProgress) ip = NULL;

  g_test_summary ("DESIGN §6: a coroutine (or its cleanup) that cancels an ancestor "
                  "awaiting it gets its cancel back first; it unwinds at its next "
                  "suspension or return, then the ancestors, innermost first, and no "
                  "ancestor's stack is freed while a descendant runs");
  g_test_bug ("15");

  family.canceller = expected[0][0] - 'a';
  family.target = expected[0][1] - 'a';
  family.from_cleanup = expected[0][2] == 'x';
  top->family = &family;
  top->level = 0;
  ip = kaa_coroutine_spawn (body_member, top, NULL);
  g_assert_false (kaa_in_progress_is_done (ip));

  kaa_in_progress_finish_pointer (gate, NULL, NULL);
  kaa_test_pump_until_done (f->context, ip);
  kaa_test_drain (f->context);
  g_assert_cmpstr (log->str, ==, expected[1]);
}

/* { canceller, target, from cleanup ("x") }, the log. */
static const char *const child_cancels_parent[] = {
  "cb", "c:got c:cancels-b c:back(b-mark) c:cleanup(b-mark) "
        "b:cancelled b:cleanup(a-mark) a:cancelled a:cleanup(-) ",
};
static const char *const grandchild_cancels_grandparent[] = {
  "ca", "c:got c:cancels-a c:back(b-mark) c:cleanup(b-mark) "
        "b:cancelled b:cleanup(a-mark) a:cancelled a:cleanup(-) ",
};
static const char *const cleanup_cancels_ancestor[] = {
  "cax", "c:got c:cancels-a c:cleanup(b-mark) "
         "b:cancelled b:cleanup(a-mark) a:cancelled a:cleanup(-) ",
};

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  KAA_TEST_ADD_DATA ("child-cancels-parent", test_descendant_cancels_ancestor,
                     child_cancels_parent);
  KAA_TEST_ADD_DATA ("grandchild-cancels-grandparent", test_descendant_cancels_ancestor,
                     grandchild_cancels_grandparent);
  KAA_TEST_ADD_DATA ("cleanup-cancels-ancestor", test_descendant_cancels_ancestor,
                     cleanup_cancels_ancestor);

  return g_test_run ();
}
