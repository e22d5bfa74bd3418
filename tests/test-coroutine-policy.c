/* test-coroutine-policy.c: SYNCHRONIZED, SINGLETON and PASS_LAST (DESIGN §4)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "kaa-test-util.h"

typedef KaaTestFixture Fixture;

#define KAA_TEST_AREA "policy"

/* Every call logs "inN" when its body starts and "outN" when it ends
 * (also when it unwinds from a cancel); "freeN" when its data is freed. */
typedef struct
{
  GString *log;
  guint    id;
  guint    yields;
  gboolean fail;
} Step;

static Step *
step_new (GString *log,
          guint    id,
          guint    yields)
{
  Step *step = g_new0 (Step, 1);

  step->log = log;
  step->id = id;
  step->yields = yields;
  return step;
}

static void
step_free (gpointer data)
{
  Step *step = data;

  g_string_append_printf (step->log, "free%u ", step->id);
  g_free (step);
}

static void
body_step (KaaCoroutine *co,
           gpointer      data)
{
  Step *step = data;

  g_string_append_printf (step->log, "in%u ", step->id);
  for (guint i = 0; i < step->yields && kaa_yield (); i++)
    ;
  g_string_append_printf (step->log, "out%u ", step->id);
  if (step->fail)
    kaa_coroutine_throw (co, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "step failed"));
  else
    kaa_coroutine_return_int64 (co, step->id);
}

static const KaaCoroutineDef synchronized = {
  .name = "synchronized-step",
  .func = body_step,
  .policy = KAA_POLICY_SYNCHRONIZED,
};

static void
test_synchronized_order (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(KaaInProgress) a = NULL;
  g_autoptr(KaaInProgress) b = NULL;
  g_autoptr(KaaInProgress) c = NULL;

  g_test_summary ("DESIGN §4: SYNCHRONIZED calls run one after another, and a queued "
                  "call's body does not start before its predecessor is done");

  a = kaa_coroutine_spawn_def (&synchronized, NULL, step_new (log, 1, 3), step_free);
  b = kaa_coroutine_spawn_def (&synchronized, NULL, step_new (log, 2, 3), step_free);
  c = kaa_coroutine_spawn_def (&synchronized, NULL, step_new (log, 3, 3), step_free);
  g_assert_cmpstr (log->str, ==, "in1 ");
  g_assert_true (a != b && b != c);

  kaa_test_drain (f->context);
  g_assert_cmpstr (log->str, ==, "in1 out1 free1 in2 out2 free2 in3 out3 free3 ");
  g_assert_cmpint (kaa_in_progress_get_int64 (a), ==, 1);
  g_assert_cmpint (kaa_in_progress_get_int64 (b), ==, 2);
  g_assert_cmpint (kaa_in_progress_get_int64 (c), ==, 3);
}

static void
test_synchronized_cancel_queued (Fixture       *f,
                                 gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(KaaInProgress) a = NULL;
  g_autoptr(KaaInProgress) b = NULL;
  g_autoptr(KaaInProgress) c = NULL;

  g_test_summary ("DESIGN §4: cancelling a queued SYNCHRONIZED call removes it and "
                  "frees its data; its successor still waits for the running call");

  a = kaa_coroutine_spawn_def (&synchronized, NULL, step_new (log, 1, 3), step_free);
  b = kaa_coroutine_spawn_def (&synchronized, NULL, step_new (log, 2, 3), step_free);
  c = kaa_coroutine_spawn_def (&synchronized, NULL, step_new (log, 3, 3), step_free);

  kaa_in_progress_cancel (b);
  g_assert_cmpint (kaa_in_progress_get_state (b), ==, KAA_STATE_CANCELLED);
  g_assert_cmpstr (log->str, ==, "in1 free2 ");
  /* The successor of the cancelled call does not overtake the running one. */
  g_main_context_iteration (f->context, FALSE);
  g_assert_cmpstr (log->str, ==, "in1 free2 ");

  kaa_test_drain (f->context);
  g_assert_cmpstr (log->str, ==, "in1 free2 out1 free1 in3 out3 free3 ");
}

static void
test_synchronized_cancel_running (Fixture       *f,
                                  gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(KaaInProgress) a = NULL;
  g_autoptr(KaaInProgress) b = NULL;

  g_test_summary ("DESIGN §4: cancelling the running SYNCHRONIZED call lets the next "
                  "one start, from the scheduler rather than inside the cancel");

  a = kaa_coroutine_spawn_def (&synchronized, NULL, step_new (log, 1, 3), step_free);
  b = kaa_coroutine_spawn_def (&synchronized, NULL, step_new (log, 2, 0), step_free);
  kaa_in_progress_cancel (a);
  g_assert_cmpstr (log->str, ==, "in1 out1 free1 ");
  kaa_test_drain (f->context);
  g_assert_cmpstr (log->str, ==, "in1 out1 free1 in2 out2 free2 ");
  g_assert_cmpint (kaa_in_progress_get_int64 (b), ==, 2);
}

static void
test_synchronized_failure_continues (Fixture       *f,
                                     gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(KaaInProgress) a = NULL;
  g_autoptr(KaaInProgress) b = NULL;
  Step *failing = step_new (log, 1, 1);

  g_test_summary ("DESIGN §4: a failing SYNCHRONIZED call does not stop the queue");

  failing->fail = TRUE;
  a = kaa_coroutine_spawn_def (&synchronized, NULL, failing, step_free);
  b = kaa_coroutine_spawn_def (&synchronized, NULL, step_new (log, 2, 1), step_free);
  kaa_test_drain (f->context);
  g_assert_error (kaa_in_progress_get_error (a), G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_cmpint (kaa_in_progress_get_int64 (b), ==, 2);
  g_assert_cmpstr (log->str, ==, "in1 out1 free1 in2 out2 free2 ");
}

static void
test_synchronized_paused_queued (Fixture       *f,
                                 gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(KaaInProgress) a = NULL;
  g_autoptr(KaaInProgress) b = NULL;
  g_autoptr(KaaInProgress) c = NULL;
  g_autoptr(KaaInProgress) d = NULL;

  g_test_summary ("DESIGN §4, §6: a queued SYNCHRONIZED call paused while it waits does "
                  "not start its body when its turn comes, only after its resume, from "
                  "the scheduler; cancelled instead, it never runs its body at all");
  g_test_bug ("7");

  /*   a runs; b and c queue and are paused
   *   a ends: b's turn, but b is held; b resumed: b runs, then c's turn
   *   c is held too and cancelled: its body never runs, its data freed */
  a = kaa_coroutine_spawn_def (&synchronized, NULL, step_new (log, 1, 1), step_free);
  b = kaa_coroutine_spawn_def (&synchronized, NULL, step_new (log, 2, 0), step_free);
  c = kaa_coroutine_spawn_def (&synchronized, NULL, step_new (log, 3, 0), step_free);
  d = kaa_coroutine_spawn_def (&synchronized, NULL, step_new (log, 4, 0), step_free);
  kaa_in_progress_pause (b);
  kaa_in_progress_pause (c);
  kaa_test_drain (f->context);
  g_assert_cmpstr (log->str, ==, "in1 out1 free1 ");
  g_assert_false (kaa_in_progress_is_done (b));

  kaa_in_progress_resume (b);
  g_assert_cmpstr (log->str, ==, "in1 out1 free1 ");   /* never inside resume */
  kaa_test_drain (f->context);
  g_assert_cmpstr (log->str, ==, "in1 out1 free1 in2 out2 free2 ");
  g_assert_cmpint (kaa_in_progress_get_int64 (b), ==, 2);

  kaa_in_progress_cancel (c);
  g_assert_cmpint (kaa_in_progress_get_state (c), ==, KAA_STATE_CANCELLED);
  kaa_test_drain (f->context);
  g_assert_cmpstr (log->str, ==, "in1 out1 free1 in2 out2 free2 free3 in4 out4 free4 ");
  kaa_in_progress_resume (c);
}

/* A long queue of calls that never suspend: each starts the next from the
 * scheduler, so nothing recurses. */
static void
test_synchronized_long_queue (Fixture       *f,
                              gconstpointer  data)
{
  enum { N_CALLS = 10000 };
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(KaaInProgress) blocker = NULL;
  g_autoptr(KaaInProgress) last = NULL;

  g_test_summary ("DESIGN §4: ten thousand queued SYNCHRONIZED calls finishing one "
                  "after another start each other without recursion");

  blocker = kaa_coroutine_spawn_def (&synchronized, NULL, step_new (log, 0, 1), step_free);
  for (guint i = 1; i <= N_CALLS; i++)
    {
      g_clear_pointer (&last, kaa_in_progress_unref);
      last = kaa_coroutine_spawn_def (&synchronized, NULL, step_new (log, i, 0), step_free);
    }
  kaa_test_drain (f->context);
  g_assert_cmpint (kaa_in_progress_get_int64 (last), ==, N_CALLS);
  g_assert_true (g_str_has_suffix (log->str, "in10000 out10000 free10000 "));
}

static const KaaCoroutineDef singleton = {
  .name = "singleton-step",
  .func = body_step,
  .policy = KAA_POLICY_SINGLETON,
};

static void
test_singleton_shares (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(KaaInProgress) a = NULL;
  g_autoptr(KaaInProgress) b = NULL;
  g_autoptr(KaaInProgress) c = NULL;

  g_test_summary ("DESIGN §4: while a SINGLETON call runs, further calls return its "
                  "InProgress and their arguments are destroyed; afterwards a call "
                  "starts a new one");

  a = kaa_coroutine_spawn_def (&singleton, NULL, step_new (log, 1, 2), step_free);
  b = kaa_coroutine_spawn_def (&singleton, NULL, step_new (log, 2, 2), step_free);
  g_assert_true (a == b);
  g_assert_cmpstr (log->str, ==, "in1 free2 ");

  kaa_test_drain (f->context);
  c = kaa_coroutine_spawn_def (&singleton, NULL, step_new (log, 3, 0), step_free);
  g_assert_true (c != a);
  g_assert_cmpint (kaa_in_progress_get_int64 (a), ==, 1);
  g_assert_cmpint (kaa_in_progress_get_int64 (c), ==, 3);
  g_assert_cmpstr (log->str, ==, "in1 free2 out1 free1 in3 out3 free3 ");
}

typedef struct
{
  GString *log;
  char     name;
} Waiter;

static void
body_awaits_singleton (KaaCoroutine *co,
                       gpointer      data)
{
  Waiter *waiter = data;
  g_autoptr(GError) error = NULL;
  Step *step = step_new (waiter->log, 9, 3);
  gint64 value = kaa_await_int64 (kaa_coroutine_spawn_def (&singleton, NULL, step, step_free),
                                  &error);

  if (error != NULL)
    g_string_append_printf (waiter->log, "%c:cancelled ", waiter->name);
  else
    g_string_append_printf (waiter->log, "%c:got%" G_GINT64_FORMAT " ", waiter->name, value);
}

static void
test_singleton_two_waiters (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  Waiter wa = { log, 'a' }, wb = { log, 'b' };
  g_autoptr(KaaInProgress) a = kaa_coroutine_spawn (body_awaits_singleton, &wa, NULL);
  g_autoptr(KaaInProgress) b = kaa_coroutine_spawn (body_awaits_singleton, &wb, NULL);

  g_test_summary ("DESIGN §6: a SINGLETON awaited by two callers keeps running for "
                  "the other when one of them is cancelled");

  g_assert_cmpstr (log->str, ==, "in9 free9 ");
  kaa_in_progress_cancel (a);
  g_assert_cmpstr (log->str, ==, "in9 free9 a:cancelled ");
  kaa_test_drain (f->context);
  g_assert_cmpstr (log->str, ==, "in9 free9 a:cancelled out9 free9 b:got9 ");
}

static void
test_singleton_sole_waiter (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  Waiter wa = { log, 'a' };
  g_autoptr(KaaInProgress) a = kaa_coroutine_spawn (body_awaits_singleton, &wa, NULL);

  g_test_summary ("DESIGN §6: a SINGLETON whose only awaiter is cancelled is "
                  "cancelled with it, cleanups innermost first");

  kaa_in_progress_cancel (a);
  g_assert_cmpstr (log->str, ==, "in9 out9 free9 a:cancelled ");
}

static void
body_logs_last (KaaCoroutine *co,
                gpointer      data)
{
  Step *step = data;
  KaaInProgress *last = kaa_coroutine_get_last (co);

  if (last == NULL)
    g_string_append_printf (step->log, "%u:none ", step->id);
  else
    g_string_append_printf (step->log, "%u:after-%s ", step->id, kaa_in_progress_get_name (last));
  kaa_in_progress_set_name (kaa_coroutine_get_in_progress (co), step->id == 1 ? "one" : "two");
  for (guint i = 0; i < step->yields && kaa_yield (); i++)
    ;
}

static const KaaCoroutineDef pass_last = {
  .name = "pass-last",
  .func = body_logs_last,
  .policy = KAA_POLICY_PASS_LAST,
};

static void
test_pass_last (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(KaaInProgress) a = NULL;
  g_autoptr(KaaInProgress) b = NULL;
  g_autoptr(KaaInProgress) c = NULL;

  g_test_summary ("DESIGN §4: every PASS_LAST call runs at once and sees the most "
                  "recent unfinished call, or NULL when there is none");

  a = kaa_coroutine_spawn_def (&pass_last, NULL, step_new (log, 1, 2), step_free);
  b = kaa_coroutine_spawn_def (&pass_last, NULL, step_new (log, 2, 2), step_free);
  g_assert_cmpstr (log->str, ==, "1:none 2:after-one ");
  kaa_test_drain (f->context);
  c = kaa_coroutine_spawn_def (&pass_last, NULL, step_new (log, 3, 0), step_free);
  g_assert_cmpstr (log->str, ==, "1:none 2:after-one free1 free2 3:none free3 ");
}

/* ------------------------------------------------------ scope and groups */

static void
test_per_instance (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  GObject *one = g_object_new (G_TYPE_OBJECT, NULL);
  GObject *two = g_object_new (G_TYPE_OBJECT, NULL);
  g_autoptr(KaaInProgress) a = NULL;
  g_autoptr(KaaInProgress) b = NULL;
  g_autoptr(KaaInProgress) c = NULL;

  g_test_summary ("DESIGN §4: with an instance, the policy state is per (definition, "
                  "instance), and it keeps the object alive only while calls run");

  g_object_add_weak_pointer (one, (gpointer *) &one);
  a = kaa_coroutine_spawn_def (&synchronized, one, step_new (log, 1, 2), step_free);
  b = kaa_coroutine_spawn_def (&synchronized, two, step_new (log, 2, 2), step_free);
  c = kaa_coroutine_spawn_def (&synchronized, one, step_new (log, 3, 0), step_free);
  g_assert_cmpstr (log->str, ==, "in1 in2 ");

  g_object_unref (one);
  g_assert_nonnull (one);
  kaa_test_drain (f->context);
  g_assert_null (one);
  g_assert_cmpint (kaa_in_progress_get_int64 (c), ==, 3);
  g_object_unref (two);
}

static const KaaCoroutineGroup database = { .name = "database" };

static const KaaCoroutineDef reader = {
  .name = "reader",
  .func = body_step,
  .policy = KAA_POLICY_SYNCHRONIZED,
  .group = &database,
};

static const KaaCoroutineDef writer = {
  .name = "writer",
  .func = body_step,
  .policy = KAA_POLICY_SYNCHRONIZED,
  .group = &database,
};

static void
test_group (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(KaaInProgress) a = NULL;
  g_autoptr(KaaInProgress) b = NULL;

  g_test_summary ("DESIGN §4: the definitions of a group share one policy state");

  a = kaa_coroutine_spawn_def (&reader, NULL, step_new (log, 1, 2), step_free);
  b = kaa_coroutine_spawn_def (&writer, NULL, step_new (log, 2, 0), step_free);
  kaa_test_drain (f->context);
  g_assert_cmpstr (log->str, ==, "in1 out1 free1 in2 out2 free2 ");
}

static const KaaCoroutineDef bad_policy = {
  .name = "bad-policy",
  .func = body_step,
  .policy = (KaaPolicy) 42,
};

static void
test_bad_policy (Fixture       *f,
                 gconstpointer  data)
{
  KaaInProgress *ip;

  g_test_summary ("DESIGN §8: an unknown policy is a critical and a failed "
                  "InProgress, never a crash");

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*policy*");
  ip = kaa_coroutine_spawn_def (&bad_policy, NULL, NULL, NULL);
  g_test_assert_expected_messages ();
  g_assert_error (kaa_in_progress_get_error (ip), KAA_ERROR, KAA_ERROR_INVALID_ARGUMENT);
  kaa_in_progress_unref (ip);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);


  KAA_TEST_ADD ("synchronized-order", test_synchronized_order);
  KAA_TEST_ADD ("synchronized-cancel-queued", test_synchronized_cancel_queued);
  KAA_TEST_ADD ("synchronized-cancel-running", test_synchronized_cancel_running);
  KAA_TEST_ADD ("synchronized-failure-continues", test_synchronized_failure_continues);
  KAA_TEST_ADD ("synchronized-paused-queued", test_synchronized_paused_queued);
  KAA_TEST_ADD ("synchronized-long-queue", test_synchronized_long_queue);
  KAA_TEST_ADD ("singleton-shares", test_singleton_shares);
  KAA_TEST_ADD ("singleton-two-waiters", test_singleton_two_waiters);
  KAA_TEST_ADD ("singleton-sole-waiter", test_singleton_sole_waiter);
  KAA_TEST_ADD ("pass-last", test_pass_last);
  KAA_TEST_ADD ("per-instance", test_per_instance);
  KAA_TEST_ADD ("group", test_group);
  KAA_TEST_ADD ("bad-policy", test_bad_policy);

  return g_test_run ();
}
