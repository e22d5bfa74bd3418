/* test-cascade-deep.c: the cascade at any depth (DESIGN §6)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A program of its own, in suite "slow": it builds chains of a million
 * coroutines and followers, and runs some of them on a thread whose stack
 * is 64 KiB, so that any per-level recursion overflows it.
 */
#include "config.h"

#include <pthread.h>

#include "kaa-test-util.h"

typedef KaaTestFixture Fixture;

#define KAA_TEST_AREA "cascade-deep"

/* Follower chains are cheap to build. Each coroutine maps a stack of its
 * own and touches its pages: a million of them take the better part of a
 * minute and 5 GiB here, so each million-deep chain serves as many cases as
 * it can (see test_deep_in_coroutine()), and ASan's shadow memory gets a
 * tenth of it. */
#ifndef DEPTH
# define DEPTH       1000000
#endif
#if defined (__SANITIZE_ADDRESS__)
# define COROUTINE_DEPTH (DEPTH / 10)
#else
# define COROUTINE_DEPTH DEPTH
#endif
/* Small enough that one C frame per level overflows it within a few
 * hundred levels; ASan's redzones make every frame several times larger. */
#if defined (__SANITIZE_ADDRESS__)
# define SMALL_STACK (256 * 1024)
#else
# define SMALL_STACK (64 * 1024)
#endif

/* ---- running a scenario on a thread with a small stack ---- */

typedef struct
{
  void   (*func) (gconstpointer data);
  gconstpointer data;
} Scenario;

static gpointer
scenario_thread (gpointer data)
{
  Scenario *scenario = data;
  GMainContext *context = g_main_context_new ();

  g_main_context_push_thread_default (context);
  scenario->func (scenario->data);
  kaa_test_drain (context);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return NULL;
}

/* Runs @func on a thread of its own with a SMALL_STACK stack and its own
 * thread-default context. */
static void
run_on_small_stack (void        (*func) (gconstpointer data),
                    gconstpointer data)
{
  Scenario scenario = { func, data };
  pthread_attr_t attr;
  pthread_t thread;

  g_assert_cmpint (pthread_attr_init (&attr), ==, 0);
  g_assert_cmpint (pthread_attr_setstacksize (&attr, SMALL_STACK), ==, 0);
  g_assert_cmpint (pthread_create (&thread, &attr, (void *(*) (void *)) scenario_thread,
                                   &scenario), ==, 0);
  pthread_attr_destroy (&attr);
  g_assert_cmpint (pthread_join (thread, NULL), ==, 0);
}

/* Runs @func inside a coroutine of the calling thread's context, with the
 * default stack, and checks that it did not suspend. */
static void
body_scenario (KaaCoroutine *co,
               gpointer      data)
{
  Scenario *scenario = data;

  scenario->func (scenario->data);
}

static void
run_in_coroutine (void        (*func) (gconstpointer data),
                  gconstpointer data)
{
  Scenario scenario = { func, data };
  g_autoptr(KaaInProgress) ip = kaa_coroutine_spawn (body_scenario, &scenario, NULL);

  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_FINISHED);
}

/* ---- a deep chain of awaiting coroutines (kaa_test_deep_new ()) ---- */

/* Pauses and resumes the top of @deep's chain, which the bottom hears. */
static void
deep_pause_resume (KaaTestDeep   *deep,
                   KaaInProgress *top)
{
  kaa_in_progress_pause (top);
  g_assert_true (kaa_in_progress_is_paused (deep->bottom));
  kaa_in_progress_resume (top);
  g_assert_false (kaa_in_progress_is_paused (deep->bottom));
  g_assert_false (kaa_in_progress_is_paused (top));
}

/* Cancels the top of @deep's chain: everything is unwound when the cancel
 * returns, innermost first. */
static void
deep_cancel (KaaTestDeep   *deep,
             KaaInProgress *top)
{
  g_assert_cmpuint (deep->n_cleaned, ==, 0);
  kaa_in_progress_cancel (top);
  g_assert_cmpint (kaa_in_progress_get_state (top), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (kaa_in_progress_get_state (deep->bottom), ==, KAA_STATE_CANCELLED);
  kaa_test_deep_assert_unwound (deep);
}

/* Pauses, resumes, then cancels the top of a chain of @data levels. */
static void
deep_pause_resume_cancel (gconstpointer data)
{
  KaaTestDeep deep;
  g_autoptr(KaaInProgress) top = kaa_test_deep_new (&deep, GPOINTER_TO_UINT (data));

  deep_pause_resume (&deep, top);
  deep_cancel (&deep, top);
  kaa_test_deep_clear (&deep);
}

typedef struct
{
  KaaTestDeep   *deep;
  KaaInProgress *top;
} DeepDriver;

static void
deep_driver_from_coroutine (gconstpointer data)
{
  const DeepDriver *driver = data;

  deep_pause_resume (driver->deep, driver->top);
  deep_cancel (driver->deep, driver->top);
}

/* Builds one chain of @data levels, pauses and resumes it from the
 * thread, then pauses, resumes and cancels it from a coroutine. */
static void
deep_from_thread_then_coroutine (gconstpointer data)
{
  KaaTestDeep deep;
  g_autoptr(KaaInProgress) top = kaa_test_deep_new (&deep, GPOINTER_TO_UINT (data));
  DeepDriver driver = { &deep, top };

  deep_pause_resume (&deep, top);
  run_in_coroutine (deep_driver_from_coroutine, &driver);
  kaa_test_deep_clear (&deep);
}

/* Building a million coroutines costs more than anything done to them (48
 * s against 35 for the cancel and 0.3 for a pause and resume, here), so
 * one chain serves the pause and resume from the thread and all three
 * from a coroutine; the cancel from the thread needs a second chain
 * (test_deep_small_stack()). */
static void
test_deep_in_coroutine (Fixture       *f,
                        gconstpointer  data)
{
  g_test_summary ("DESIGN §6: a million-deep chain of awaiting coroutines is paused "
                  "and resumed from a thread with a 64 KiB stack, then paused, "
                  "resumed and cancelled from a coroutine with the default stack, "
                  "cleanups innermost first, in constant stack");
  g_test_bug ("15");
  run_on_small_stack (deep_from_thread_then_coroutine, GUINT_TO_POINTER (COROUTINE_DEPTH));
}

static void
test_deep_small_stack (Fixture       *f,
                       gconstpointer  data)
{
  g_test_summary ("DESIGN §6: a million-deep chain of awaiting coroutines is paused, "
                  "resumed and cancelled from a thread with a 64 KiB stack, "
                  "cleanups innermost first");
  g_test_bug ("15");
  run_on_small_stack (deep_pause_resume_cancel, GUINT_TO_POINTER (COROUTINE_DEPTH));
}

/* ---- follower chains ---- */

typedef enum
{
  FOLLOW_FINISH_FROM,
  FOLLOW_SHIELD,
  FOLLOW_TIMEOUT,
} FollowKind;

/* links[0] is the source; links[i] follows links[i - 1]. */
static KaaInProgress **
follow_chain_new (FollowKind kind,
                  guint      n)
{
  KaaInProgress **links = g_new (KaaInProgress *, n + 1);

  links[0] = kaa_in_progress_new ();
  for (guint i = 1; i <= n; i++)
    switch (kind)
      {
      case FOLLOW_FINISH_FROM:
        links[i] = kaa_in_progress_new ();
        kaa_in_progress_finish_from (links[i], kaa_in_progress_ref (links[i - 1]));
        break;
      case FOLLOW_SHIELD:
        links[i] = kaa_in_progress_shield (kaa_in_progress_ref (links[i - 1]));
        break;
      case FOLLOW_TIMEOUT:
      default:
        links[i] = kaa_timeout (kaa_in_progress_ref (links[i - 1]), 3600 * 1000, FALSE);
        break;
      }
  return links;
}

static void
follow_chain_free (KaaInProgress **links,
                   guint           n)
{
  for (guint i = 0; i <= n; i++)
    kaa_in_progress_unref (links[i]);
  g_free (links);
}

static void
follow_settle (gconstpointer data)
{
  FollowKind kind = GPOINTER_TO_INT (data);
  KaaInProgress **links = follow_chain_new (kind, DEPTH);

  kaa_in_progress_finish_int64 (links[0], 42);
  kaa_test_drain (g_main_context_get_thread_default ());
  g_assert_cmpint (kaa_in_progress_get_state (links[DEPTH]), ==, KAA_STATE_FINISHED);
  g_assert_cmpint (kaa_in_progress_get_int64 (links[DEPTH]), ==, 42);
  follow_chain_free (links, DEPTH);
}

static void
follow_cancel (gconstpointer data)
{
  FollowKind kind = GPOINTER_TO_INT (data);
  KaaInProgress **links = follow_chain_new (kind, DEPTH);

  kaa_in_progress_cancel (links[DEPTH]);
  g_assert_cmpint (kaa_in_progress_get_state (links[DEPTH]), ==, KAA_STATE_CANCELLED);
  /* A shield stops the cancel at once; the others pass it all the way. */
  g_assert_cmpint (kaa_in_progress_get_state (links[0]), ==,
                   kind == FOLLOW_SHIELD ? KAA_STATE_PENDING : KAA_STATE_CANCELLED);
  g_assert_cmpint (kaa_in_progress_get_state (links[1]), ==,
                   kind == FOLLOW_SHIELD ? KAA_STATE_PENDING : KAA_STATE_CANCELLED);
  if (kind == FOLLOW_SHIELD)
    kaa_in_progress_cancel (links[0]);
  kaa_test_drain (g_main_context_get_thread_default ());
  follow_chain_free (links, DEPTH);
}

static void
test_follow_settle (Fixture       *f,
                    gconstpointer  data)
{
  g_test_summary ("DESIGN §6: settling the source of a million-link follower chain "
                  "settles the last link, in constant stack (64 KiB thread)");
  g_test_bug ("15");
  run_on_small_stack (follow_settle, data);
}

static void
test_follow_cancel (Fixture       *f,
                    gconstpointer  data)
{
  g_test_summary ("DESIGN §6: cancelling the last link of a million-link follower "
                  "chain cancels down to the source, in constant stack (64 KiB thread)");
  g_test_bug ("15");
  run_on_small_stack (follow_cancel, data);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  KAA_TEST_ADD_DATA ("coroutines/in-coroutine", test_deep_in_coroutine, NULL);
  KAA_TEST_ADD_DATA ("coroutines/small-stack", test_deep_small_stack, NULL);
  KAA_TEST_ADD_DATA ("follow/finish-from/settle", test_follow_settle,
                     GINT_TO_POINTER (FOLLOW_FINISH_FROM));
  KAA_TEST_ADD_DATA ("follow/finish-from/cancel", test_follow_cancel,
                     GINT_TO_POINTER (FOLLOW_FINISH_FROM));
  KAA_TEST_ADD_DATA ("follow/shield/settle", test_follow_settle, GINT_TO_POINTER (FOLLOW_SHIELD));
  KAA_TEST_ADD_DATA ("follow/shield/cancel", test_follow_cancel, GINT_TO_POINTER (FOLLOW_SHIELD));
  KAA_TEST_ADD_DATA ("follow/timeout/settle", test_follow_settle, GINT_TO_POINTER (FOLLOW_TIMEOUT));
  KAA_TEST_ADD_DATA ("follow/timeout/cancel", test_follow_cancel, GINT_TO_POINTER (FOLLOW_TIMEOUT));

  return g_test_run ();
}
