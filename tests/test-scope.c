/* test-scope.c: task scopes (issue 18 §4, DESIGN §9)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A scope owns what is started in it, what its members start included;
 * it settles once all of it has, fails fast by default, has one deadline
 * for everything inside, pauses and cancels as one, and can end with an
 * object's dispose. The fixture checks the live counters at the end:
 * nothing started in a scope outlives it.
 */
#include "config.h"

#include "kaa-test-util.h"

typedef KaaTestFixture Fixture;

#define KAA_TEST_AREA "scope"

/* ------------------------------------------------------------- bodies */

typedef struct
{
  guint    msec;        /* sleep this long, then return */
  gboolean fail;        /* then fail instead */
  gint    *cleaned;     /* counts cleanups, atomically */
  gint     await_code;  /* the G_IO_ERROR code the sleep ended with, or -1 */
} Sleeper;

static void
sleeper_body (KaaCoroutine *co,
              gpointer      data)
{
  Sleeper *s = data;
  g_auto(KaaTestFinally) cleanup = { s->cleaned };
  g_autoptr(GError) error = NULL;

  s->await_code = -1;
  if (!kaa_await (kaa_sleep (s->msec), &error))
    {
      s->await_code = error->code;
      return;
    }
  if (s->fail)
    kaa_coroutine_throw (co, g_error_new (G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "sleeper %u failed",
                                          s->msec));
}

static void
spawn_sleepers (KaaScope *scope,
                Sleeper  *sleepers,
                guint     n)
{
  for (guint i = 0; i < n; i++)
    kaa_scope_spawn (scope, sleeper_body, &sleepers[i], NULL);
}

static KaaInProgress *
join_and_pump (Fixture  *f,
               KaaScope *scope)
{
  KaaInProgress *ip = kaa_scope_join (scope);

  kaa_test_pump_until_done (f->context, ip);
  return ip;
}

/* -------------------------------------------------------------- tests */

static void
test_finish (Fixture       *f,
             gconstpointer  data)
{
  gint cleaned = 0;
  Sleeper s[3] = { { 5, FALSE, &cleaned }, { 20, FALSE, &cleaned }, { 1, FALSE, &cleaned } };
  g_autoptr(KaaScope) scope = kaa_scope_new (KAA_SCOPE_FAIL_FAST);
  g_autoptr(KaaInProgress) ip = NULL;

  g_test_summary ("Issue 18 §4: a scope settles only when all its members have, "
                  "with their number");
  spawn_sleepers (scope, s, G_N_ELEMENTS (s));
  g_assert_cmpuint (kaa_scope_get_n_pending (scope), ==, 3);
  ip = join_and_pump (f, scope);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_FINISHED);
  g_assert_cmpint (kaa_in_progress_get_int64 (ip), ==, 3);
  g_assert_cmpint (cleaned, ==, 3);
  g_assert_cmpuint (kaa_scope_get_n_pending (scope), ==, 0);
}

static void
test_empty (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(KaaScope) scope = kaa_scope_new (KAA_SCOPE_FAIL_FAST);
  g_autoptr(KaaInProgress) ip = kaa_scope_join (scope);

  g_test_summary ("Issue 18 §4: a joined scope with nothing in it finishes at once");
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_FINISHED);
  g_assert_cmpint (kaa_in_progress_get_int64 (ip), ==, 0);
}

static void
test_fail_fast (Fixture       *f,
                gconstpointer  data)
{
  gint cleaned = 0;
  Sleeper s[3] = { { 60000, FALSE, &cleaned }, { 5, TRUE, &cleaned }, { 60000, FALSE, &cleaned } };
  g_autoptr(KaaScope) scope = kaa_scope_new (KAA_SCOPE_FAIL_FAST);
  g_autoptr(KaaInProgress) ip = NULL;
  g_autoptr(GPtrArray) errors = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary ("Issue 18 §4: the first failure cancels the other members, and the scope "
                  "fails with it once they have unwound");
  spawn_sleepers (scope, s, G_N_ELEMENTS (s));
  ip = join_and_pump (f, scope);
  g_assert_false (kaa_in_progress_propagate (ip, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_cmpint (cleaned, ==, 3);
  g_assert_cmpint (s[0].await_code, ==, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (s[2].await_code, ==, G_IO_ERROR_CANCELLED);
  errors = kaa_scope_dup_errors (scope);
  g_assert_cmpuint (errors->len, ==, 1);
}

static void
test_collect_all (Fixture       *f,
                  gconstpointer  data)
{
  gint cleaned = 0;
  Sleeper s[3] = { { 5, TRUE, &cleaned }, { 30, FALSE, &cleaned }, { 10, TRUE, &cleaned } };
  g_autoptr(KaaScope) scope = kaa_scope_new (KAA_SCOPE_COLLECT_ALL);
  g_autoptr(KaaInProgress) ip = NULL;
  g_autoptr(GPtrArray) errors = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary ("Issue 18 §4: with COLLECT_ALL every member runs to its end, and every "
                  "failure is kept, in order");
  spawn_sleepers (scope, s, G_N_ELEMENTS (s));
  ip = join_and_pump (f, scope);
  g_assert_false (kaa_in_progress_propagate (ip, &error));
  g_assert_cmpstr (error->message, ==, "sleeper 5 failed");
  g_assert_cmpint (s[1].await_code, ==, -1);
  errors = kaa_scope_dup_errors (scope);
  g_assert_cmpuint (errors->len, ==, 2);
  g_assert_cmpstr (((GError *) errors->pdata[1])->message, ==, "sleeper 10 failed");
}

static void
test_cancel (Fixture       *f,
             gconstpointer  data)
{
  gint cleaned = 0;
  Sleeper s[2] = { { 60000, FALSE, &cleaned }, { 60000, FALSE, &cleaned } };
  g_autoptr(KaaScope) scope = kaa_scope_new (KAA_SCOPE_FAIL_FAST);
  g_autoptr(KaaInProgress) ip = NULL;
  g_autoptr(KaaInProgress) job = NULL;

  g_test_summary ("Issue 18 §4: cancelling a scope cancels every member first, also one "
                  "that someone else awaits too");
  spawn_sleepers (scope, s, G_N_ELEMENTS (s));
  job = kaa_sleep (60000);
  kaa_scope_add (scope, kaa_in_progress_ref (job));
  ip = kaa_scope_join (scope);
  kaa_test_drain (f->context);
  kaa_in_progress_cancel (ip);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (cleaned, ==, 2);
  g_assert_cmpint (kaa_in_progress_get_state (job), ==, KAA_STATE_CANCELLED);
}

static void
test_unref_cancels (Fixture       *f,
                    gconstpointer  data)
{
  gint cleaned = 0;
  Sleeper s = { 60000, FALSE, &cleaned };

  g_test_summary ("Issue 18 §4: letting go of a scope that was never joined (g_autoptr on "
                  "an early return) cancels what was started in it");
  {
    g_autoptr(KaaScope) scope = kaa_scope_new (KAA_SCOPE_FAIL_FAST);

    kaa_scope_spawn (scope, sleeper_body, &s, NULL);
    kaa_test_drain (f->context);
  }
  kaa_test_drain (f->context);
  g_assert_cmpint (cleaned, ==, 1);
  g_assert_cmpint (s.await_code, ==, G_IO_ERROR_CANCELLED);
}

static void
test_unref_after_join (Fixture       *f,
                       gconstpointer  data)
{
  gint cleaned = 0;
  Sleeper s = { 5, FALSE, &cleaned };
  KaaScope *scope = kaa_scope_new (KAA_SCOPE_FAIL_FAST);
  g_autoptr(KaaInProgress) ip = NULL;

  g_test_summary ("Issue 18 §4: a joined scope lets go of nothing when its user does");
  kaa_scope_spawn (scope, sleeper_body, &s, NULL);
  ip = kaa_scope_join (scope);
  kaa_scope_unref (scope);
  kaa_test_pump_until_done (f->context, ip);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_FINISHED);
  g_assert_cmpint (s.await_code, ==, -1);
}

/* A member that keeps counting slices. */
static void
counter_body (KaaCoroutine *co,
              gpointer      data)
{
  gint *count = data;

  while (kaa_yield ())
    g_atomic_int_inc (count);
}

static void
test_pause (Fixture       *f,
            gconstpointer  data)
{
  gint count = 0, late = 0, at_pause;
  g_autoptr(KaaScope) scope = kaa_scope_new (KAA_SCOPE_FAIL_FAST);
  g_autoptr(KaaInProgress) ip = NULL;

  g_test_summary ("Issue 18 §4, DESIGN §6: pausing a scope pauses every member, one added "
                  "while it is paused included, and resuming lets them go on");
  kaa_scope_spawn (scope, counter_body, &count, NULL);
  ip = kaa_scope_join (scope);
  kaa_test_pump_for (20);
  g_assert_cmpint (count, >, 0);
  kaa_scope_pause (scope);
  g_assert_true (kaa_in_progress_is_paused (ip));
  kaa_scope_spawn (scope, counter_body, &late, NULL);
  at_pause = count;
  kaa_test_pump_for (30);
  g_assert_cmpint (count, ==, at_pause);
  g_assert_cmpint (late, ==, 0);
  kaa_scope_resume (scope);
  kaa_test_pump_for (30);
  g_assert_cmpint (count, >, at_pause);
  g_assert_cmpint (late, >, 0);
  kaa_scope_cancel (scope);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
}

static void
test_settles_paused (Fixture       *f,
                     gconstpointer  data)
{
  gint cleaned = 0;
  Sleeper s = { 60000, FALSE, &cleaned };
  g_autoptr(KaaScope) scope = kaa_scope_new (KAA_SCOPE_FAIL_FAST);
  g_autoptr(KaaInProgress) plain = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) sleeper = kaa_coroutine_spawn (sleeper_body, &s, NULL);
  g_autoptr(KaaInProgress) ip = NULL;

  g_test_summary ("Issue 18 §4, DESIGN §6: a scope that settles while paused (a member "
                  "failed, the others were cancelled) leaves no member paused");
  kaa_scope_add (scope, kaa_in_progress_ref (plain));
  kaa_scope_add (scope, kaa_in_progress_ref (sleeper));
  ip = kaa_scope_join (scope);
  kaa_scope_pause (scope);
  g_assert_true (kaa_in_progress_is_paused (sleeper));
  kaa_in_progress_fail_literal (plain, G_IO_ERROR, G_IO_ERROR_FAILED, "plain failed");
  g_assert_cmpstr (kaa_in_progress_get_error (ip)->message, ==, "plain failed");
  g_assert_cmpint (kaa_in_progress_get_state (sleeper), ==, KAA_STATE_CANCELLED);
  g_assert_false (kaa_in_progress_is_paused (plain));
  g_assert_false (kaa_in_progress_is_paused (sleeper));
  g_assert_cmpint (cleaned, ==, 1);
  kaa_scope_resume (scope);
  g_assert_false (kaa_in_progress_is_paused (ip));
}

static gpointer
finish_elsewhere (gpointer data)
{
  kaa_in_progress_finish_pointer (data, NULL, NULL);
  return NULL;
}

static void
test_cancel_unpauses (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(KaaScope) scope = kaa_scope_new (KAA_SCOPE_FAIL_FAST);
  g_autoptr(KaaInProgress) plain = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) ip = NULL;

  g_test_summary ("Issue 18 §4, DESIGN §6: cancelling a paused scope leaves none of its "
                  "members paused, also one another thread finished whose delivery has "
                  "not run yet");
  kaa_scope_add (scope, kaa_in_progress_ref (plain));
  ip = kaa_scope_join (scope);
  kaa_scope_pause (scope);
  g_assert_true (kaa_in_progress_is_paused (plain));
  g_thread_join (g_thread_new ("finisher", finish_elsewhere, plain));
  kaa_scope_cancel (scope);
  g_assert_false (kaa_in_progress_is_paused (plain));
  kaa_test_drain (f->context);
  g_assert_false (kaa_in_progress_is_paused (plain));
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
  kaa_scope_resume (scope);
}

static void
test_deadline (Fixture       *f,
               gconstpointer  data)
{
  gint cleaned = 0;
  Sleeper s[2] = { { 60000, FALSE, &cleaned }, { 60000, FALSE, &cleaned } };
  g_autoptr(KaaScope) scope = kaa_scope_new (KAA_SCOPE_FAIL_FAST);
  g_autoptr(KaaInProgress) ip = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  g_test_summary ("Issue 18 §4: a scope's deadline cuts every await inside it, with no "
                  "kaa_timeout() around each, and the scope fails TIMED_OUT");
  spawn_sleepers (scope, s, G_N_ELEMENTS (s));
  kaa_scope_set_timeout (scope, 30);
  ip = join_and_pump (f, scope);
  g_assert_false (kaa_in_progress_propagate (ip, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpstr (error->message, ==, "Task scope timed out after 30 ms");
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 29 * 1000);
  g_assert_cmpint (s[0].await_code, ==, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (s[1].await_code, ==, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (cleaned, ==, 2);
}

static void
test_deadline_paused (Fixture       *f,
                      gconstpointer  data)
{
  gint cleaned = 0;
  Sleeper s = { 60000, FALSE, &cleaned };
  g_autoptr(KaaScope) scope = kaa_scope_new (KAA_SCOPE_FAIL_FAST);
  g_autoptr(KaaInProgress) ip = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary ("Issue 18 §4, DESIGN §6: time spent paused does not count towards a "
                  "scope's deadline");
  kaa_scope_spawn (scope, sleeper_body, &s, NULL);
  ip = kaa_scope_join (scope);
  kaa_scope_set_timeout (scope, 100);
  kaa_scope_pause (scope);
  kaa_test_pump_for (250);
  g_assert_false (kaa_in_progress_is_done (ip));
  kaa_scope_resume (scope);
  kaa_test_pump_until_done (f->context, ip);
  g_assert_false (kaa_in_progress_propagate (ip, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
}

static void
test_bind (Fixture       *f,
           gconstpointer  data)
{
  gint cleaned = 0;
  Sleeper s = { 60000, FALSE, &cleaned };
  GObject *window = g_object_new (G_TYPE_OBJECT, NULL);
  g_autoptr(KaaScope) scope = kaa_scope_new (KAA_SCOPE_FAIL_FAST);
  g_autoptr(KaaInProgress) ip = NULL;

  g_test_summary ("Issue 18 §4: a scope bound to an object is cancelled when the object "
                  "is disposed: closing a window stops its work");
  kaa_scope_spawn (scope, sleeper_body, &s, NULL);
  ip = kaa_scope_join (scope);
  kaa_scope_bind (scope, window);
  kaa_test_drain (f->context);
  g_assert_false (kaa_in_progress_is_done (ip));
  g_object_unref (window);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (cleaned, ==, 1);
}

static void
test_bind_outlived (Fixture       *f,
                    gconstpointer  data)
{
  GObject *window = g_object_new (G_TYPE_OBJECT, NULL);
  KaaScope *scope = kaa_scope_new (KAA_SCOPE_FAIL_FAST);
  g_autoptr(KaaInProgress) ip = NULL;

  g_test_summary ("Issue 18 §4: a scope that ends before its object lets go of the object, "
                  "whose later dispose then touches nothing freed");
  kaa_scope_bind (scope, window);
  ip = kaa_scope_join (scope);
  kaa_scope_unref (scope);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_FINISHED);
  g_object_unref (window);
}

/* A member that starts work and leaves it running: a child coroutine
 * that sleeps, and a thread job that runs until cancelled. */
typedef struct
{
  gint  cleaned;
  gint  job_started;
  gint  job_stopped;
  gint  child_code;
} Orphans;

static void
orphan_child_body (KaaCoroutine *co,
                   gpointer      data)
{
  Orphans *o = data;
  g_auto(KaaTestFinally) cleanup = { &o->cleaned };
  g_autoptr(GError) error = NULL;

  if (!kaa_await (kaa_sleep (60000), &error))
    o->child_code = error->code;
}

static gpointer
orphan_job (KaaThreadJob *job,
            gpointer      data,
            GError      **error)
{
  Orphans *o = data;

  g_atomic_int_set (&o->job_started, 1);
  while (kaa_thread_job_check (job))
    g_usleep (1000);
  g_atomic_int_set (&o->job_stopped, 1);
  return NULL;
}

static void
parent_body (KaaCoroutine *co,
             gpointer      data)
{
  Orphans *o = data;

  kaa_in_progress_unref (kaa_coroutine_spawn (orphan_child_body, o, NULL));
  kaa_in_progress_unref (kaa_thread_run (orphan_job, o, NULL));
}

static void
test_adopts (Fixture       *f,
             gconstpointer  data)
{
  Orphans o = { 0, 0, 0, -1 };
  g_autoptr(KaaScope) scope = kaa_scope_new (KAA_SCOPE_FAIL_FAST);
  g_autoptr(KaaInProgress) ip = NULL;

  g_test_summary ("Issue 18 §4: what a member starts (a coroutine, a thread job) belongs "
                  "to the scope, so nothing started in it outlives it");
  kaa_scope_spawn (scope, parent_body, &o, NULL);
  ip = kaa_scope_join (scope);
  kaa_test_drain (f->context);
  g_assert_false (kaa_in_progress_is_done (ip));
  g_assert_cmpuint (kaa_scope_get_n_pending (scope), ==, 2);
  kaa_test_spin_until (&o.job_started, 1);
  kaa_scope_cancel (scope);
  g_assert_cmpint (o.cleaned, ==, 1);
  g_assert_cmpint (o.child_code, ==, G_IO_ERROR_CANCELLED);
  kaa_test_spin_until (&o.job_stopped, 1);
  /* The fixture checks that no coroutine and no job is left. */
}

/* A member that awaits a child which fails, and handles it. */
static void
failing_child_body (KaaCoroutine *co,
                    gpointer      data)
{
  kaa_coroutine_throw (co, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "child"));
}

static void
retrying_body (KaaCoroutine *co,
               gpointer      data)
{
  gint *tries = data;

  for (*tries = 0; *tries < 3; (*tries)++)
    {
      g_autoptr(GError) error = NULL;

      if (kaa_await (kaa_coroutine_spawn (failing_child_body, NULL, NULL), &error))
        break;
    }
}

static void
test_awaited_child_fails (Fixture       *f,
                          gconstpointer  data)
{
  gint tries = 0;
  g_autoptr(KaaScope) scope = kaa_scope_new (KAA_SCOPE_FAIL_FAST);
  g_autoptr(KaaInProgress) ip = NULL;

  g_test_summary ("Issue 18 §4: a member that awaits a failing child handles the failure "
                  "(it may retry): only failures of the scope's own members fail it");
  kaa_scope_spawn (scope, retrying_body, &tries, NULL);
  ip = join_and_pump (f, scope);
  g_assert_cmpint (tries, ==, 3);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_FINISHED);
  g_assert_cmpint (kaa_in_progress_get_int64 (ip), ==, 1);
}

static void
test_add_after_finish (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(KaaScope) scope = kaa_scope_new (KAA_SCOPE_FAIL_FAST);
  g_autoptr(KaaInProgress) ip = kaa_scope_join (scope);
  g_autoptr(KaaInProgress) late = kaa_sleep (60000);

  g_test_summary ("Issue 18 §4: work handed to a scope that already finished is a "
                  "programming error, named, and the work is cancelled, not left unowned");
  g_assert_true (kaa_in_progress_is_done (ip));
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*scope*already finished*kaa_sleep*");
  kaa_scope_add (scope, kaa_in_progress_ref (late));
  g_test_assert_expected_messages ();
  g_assert_cmpint (kaa_in_progress_get_state (late), ==, KAA_STATE_CANCELLED);
}

static void
test_add_to_null (Fixture       *f,
                  gconstpointer  data)
{
  KaaInProgress *member = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) watched = kaa_in_progress_ref (member);
  g_autoptr(KaaScope) scope = kaa_scope_new (KAA_SCOPE_FAIL_FAST);

  g_test_summary ("DESIGN §2: kaa_scope_add() takes the member's reference even when "
                  "it refuses a NULL scope: the critical names it, the reference is "
                  "released (the fixture counts live InProgresses), the work goes on");
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*kaa_scope_add*self != NULL*");
  kaa_scope_add (NULL, member);
  g_test_assert_expected_messages ();
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*kaa_scope_add*member != NULL*");
  kaa_scope_add (scope, NULL);
  g_test_assert_expected_messages ();
  /* Released, not cancelled: it still settles for whoever else holds it. */
  g_assert_cmpint (kaa_in_progress_get_state (watched), ==, KAA_STATE_PENDING);
  kaa_in_progress_finish_boolean (watched, TRUE);
}

static void
test_add_while_closing (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(KaaScope) scope = kaa_scope_new (KAA_SCOPE_FAIL_FAST);
  g_autoptr(KaaInProgress) ip = NULL;
  g_autoptr(KaaInProgress) late = kaa_sleep (60000);

  g_test_summary ("Issue 18 §4: work handed to a cancelled scope is cancelled at once, "
                  "quietly");
  kaa_scope_cancel (scope);
  kaa_scope_add (scope, kaa_in_progress_ref (late));
  g_assert_cmpint (kaa_in_progress_get_state (late), ==, KAA_STATE_CANCELLED);
  ip = kaa_scope_join (scope);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
}

static void
test_context_death (Fixture       *f,
                    gconstpointer  data)
{
  gint cleaned = 0;
  Sleeper s = { 60000, FALSE, &cleaned };
  KaaScope *scope = kaa_scope_new (KAA_SCOPE_FAIL_FAST);
  KaaInProgress *ip;

  g_test_summary ("Issue 18 §4, DESIGN §3: a scope whose context dies settles CANCELLED, "
                  "its members' cleanups run");
  kaa_scope_spawn (scope, sleeper_body, &s, NULL);
  ip = kaa_scope_join (scope);
  kaa_scope_set_timeout (scope, 60000);
  kaa_test_drain (f->context);
  kaa_test_fixture_kill_context (f);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (cleaned, ==, 1);
  kaa_in_progress_unref (ip);
  kaa_scope_unref (scope);
}

/* Jobs that add jobs to the scope from their worker threads. */
typedef struct
{
  KaaScope *scope;
  gint      depth;
  gint     *ran;
} Spreader;

static gpointer spread_job (KaaThreadJob *job,
                            gpointer      data,
                            GError      **error);

static void
spread (KaaScope *scope,
        gint      depth,
        gint     *ran)
{
  Spreader *sp = g_new0 (Spreader, 1);

  sp->scope = kaa_scope_ref (scope);
  sp->depth = depth;
  sp->ran = ran;
  kaa_scope_add (scope, kaa_thread_run (spread_job, sp, NULL));
}

static gpointer
spread_job (KaaThreadJob *job,
            gpointer      data,
            GError      **error)
{
  Spreader *sp = data;

  g_atomic_int_inc (sp->ran);
  if (sp->depth > 0)
    {
      spread (sp->scope, sp->depth - 1, sp->ran);
      spread (sp->scope, sp->depth - 1, sp->ran);
    }
  kaa_scope_unref (sp->scope);
  g_free (sp);
  return NULL;
}

static void
test_threads (Fixture       *f,
              gconstpointer  data)
{
  gint ran = 0;
  g_autoptr(KaaScope) scope = kaa_scope_new (KAA_SCOPE_FAIL_FAST);
  g_autoptr(KaaInProgress) ip = NULL;

  g_test_summary ("Issue 18 §4: thread jobs add work to a scope from their workers; "
                  "the scope waits for all of it");
  /* The jobs that workers start belong to the global default context,
   * which this thread iterates: its scheduler is made here first, so
   * TSan sees it made before it is run (GLib's own lock hands a source
   * made on a worker over, and TSan cannot see that lock). */
  g_main_context_push_thread_default (g_main_context_default ());
  kaa_in_progress_unref (kaa_in_progress_new ());
  g_main_context_pop_thread_default (g_main_context_default ());
  spread (scope, 7, &ran);
  ip = kaa_scope_join (scope);
  while (!kaa_in_progress_is_done (ip))
    {
      g_main_context_iteration (f->context, FALSE);
      g_main_context_iteration (g_main_context_default (), FALSE);
      g_usleep (100);
    }
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_FINISHED);
  g_assert_cmpint (ran, ==, 255);
  g_assert_cmpint (kaa_in_progress_get_int64 (ip), ==, 255);
}

/* A member that runs a scope of its own and awaits it. */
static void
nested_body (KaaCoroutine *co,
             gpointer      data)
{
  Sleeper *s = data;
  g_autoptr(KaaScope) inner = kaa_scope_new (KAA_SCOPE_FAIL_FAST);

  kaa_scope_spawn (inner, sleeper_body, &s[0], NULL);
  kaa_scope_spawn (inner, sleeper_body, &s[1], NULL);
  kaa_await (kaa_scope_join (inner), NULL);
}

static void
test_nested_deadline (Fixture       *f,
                      gconstpointer  data)
{
  gint cleaned = 0;
  Sleeper s[2] = { { 60000, FALSE, &cleaned }, { 60000, FALSE, &cleaned } };
  g_autoptr(KaaScope) outer = kaa_scope_new (KAA_SCOPE_FAIL_FAST);
  g_autoptr(KaaInProgress) ip = NULL;
  g_autoptr(GError) error = NULL;

  g_test_summary ("Issue 18 §4: an outer scope's deadline reaches the members of a scope "
                  "that one of its members runs, however deep");
  kaa_scope_spawn (outer, nested_body, s, NULL);
  kaa_scope_set_timeout (outer, 20);
  ip = join_and_pump (f, outer);
  g_assert_false (kaa_in_progress_propagate (ip, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpint (cleaned, ==, 2);
  g_assert_cmpint (s[0].await_code, ==, G_IO_ERROR_CANCELLED);
}

/* A member on another thread's loop. */
typedef struct
{
  Sleeper        sleeper;
  KaaInProgress *ip;
} Remote;

static void
remote_spawn (gpointer data)
{
  Remote *r = data;

  r->ip = kaa_coroutine_spawn (sleeper_body, &r->sleeper, NULL);
}

static void
test_other_context (Fixture       *f,
                    gconstpointer  data)
{
  gint cleaned = 0;
  Remote r = { { 60000, FALSE, &cleaned }, NULL };
  KaaTestWorker w = { 0 };
  g_autoptr(KaaScope) scope = kaa_scope_new (KAA_SCOPE_FAIL_FAST);
  g_autoptr(KaaInProgress) ip = NULL;

  g_test_summary ("Issue 18 §4: a member of another thread's context is cancelled with "
                  "the scope, on its own thread, and its cleanups run there");
  kaa_test_worker_start (&w);
  kaa_test_worker_call (&w, remote_spawn, &r);
  kaa_scope_add (scope, kaa_in_progress_ref (r.ip));
  ip = kaa_scope_join (scope);
  kaa_scope_pause (scope);   /* not ours to pause: it keeps running */
  g_assert_false (kaa_in_progress_is_paused (r.ip));
  kaa_scope_resume (scope);
  kaa_scope_cancel (scope);
  kaa_test_spin_until (&cleaned, 1);
  kaa_test_poll_until_done (f->context, r.ip);
  g_assert_cmpint (kaa_in_progress_get_state (r.ip), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
  kaa_test_worker_kill (&w);
  kaa_in_progress_unref (r.ip);
}

/* Each level runs a scope of one member, the next level, and awaits it. */
typedef struct
{
  guint  depth;
  gint  *cleaned;
} Level;

static void
level_body (KaaCoroutine *co,
            gpointer      data)
{
  Level *level = data;
  g_auto(KaaTestFinally) cleanup = { level->cleaned };
  g_autoptr(KaaScope) scope = NULL;
  Level *next;

  if (level->depth == 0)
    {
      kaa_await (kaa_sleep (60000), NULL);
      return;
    }
  scope = kaa_scope_new (KAA_SCOPE_FAIL_FAST);
  next = g_memdup2 (level, sizeof *level);
  next->depth--;
  kaa_scope_spawn (scope, level_body, next, g_free);
  kaa_await (kaa_scope_join (scope), NULL);
}

static void
test_deep (Fixture       *f,
           gconstpointer  data)
{
  /* TSan stops at 8128 live threads and fibers together. */
  guint depth = KAA_TEST_TSAN ? 4000 : g_test_thorough () ? 100000 : 10000;
  gint cleaned = 0;
  Level top = { depth, &cleaned };
  g_autoptr(KaaScope) scope = kaa_scope_new (KAA_SCOPE_FAIL_FAST);
  g_autoptr(KaaInProgress) ip = NULL;

  g_test_summary ("Issue 18 §4, DESIGN §6: pause, resume and cancel go flat through "
                  "scopes nested thousands deep, and every level's cleanups run");
  kaa_scope_spawn (scope, level_body, g_memdup2 (&top, sizeof top), g_free);
  ip = kaa_scope_join (scope);
  kaa_test_drain (f->context);
  kaa_scope_pause (scope);
  kaa_scope_resume (scope);
  kaa_test_drain (f->context);
  kaa_scope_cancel (scope);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (cleaned, ==, (gint) depth + 1);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  KAA_TEST_ADD ("finish", test_finish);
  KAA_TEST_ADD ("empty", test_empty);
  KAA_TEST_ADD ("fail-fast", test_fail_fast);
  KAA_TEST_ADD ("collect-all", test_collect_all);
  KAA_TEST_ADD ("cancel", test_cancel);
  KAA_TEST_ADD ("unref-cancels", test_unref_cancels);
  KAA_TEST_ADD ("unref-after-join", test_unref_after_join);
  KAA_TEST_ADD ("pause", test_pause);
  KAA_TEST_ADD ("settles-paused", test_settles_paused);
  KAA_TEST_ADD ("cancel-unpauses", test_cancel_unpauses);
  KAA_TEST_ADD ("deadline", test_deadline);
  KAA_TEST_ADD ("deadline-paused", test_deadline_paused);
  KAA_TEST_ADD ("bind", test_bind);
  KAA_TEST_ADD ("bind-outlived", test_bind_outlived);
  KAA_TEST_ADD ("adopts", test_adopts);
  KAA_TEST_ADD ("awaited-child-fails", test_awaited_child_fails);
  KAA_TEST_ADD ("add-after-finish", test_add_after_finish);
  KAA_TEST_ADD ("add-while-closing", test_add_while_closing);
  KAA_TEST_ADD ("add-to-null", test_add_to_null);
  KAA_TEST_ADD ("context-death", test_context_death);
  KAA_TEST_ADD ("threads", test_threads);
  KAA_TEST_ADD ("nested-deadline", test_nested_deadline);
  KAA_TEST_ADD ("other-context", test_other_context);
  KAA_TEST_ADD ("deep", test_deep);

  return g_test_run ();
}
