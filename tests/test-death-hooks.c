/* test-death-hooks.c: producer hooks and await links when a context dies
 * (DESIGN §2, §3, §6; issue #17 §1)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * test-lifetimes.c kills a context with coroutines, sleeps and links that
 * all live on it. This file puts the two ends of an await on different
 * contexts, one run by the main thread (A, the fixture's) and one by a
 * worker (B), and kills one of them:
 *   - a user's producer (kaa_in_progress_new_full()) hears each hook at
 *     most once, on its own context's thread, and none once it settled;
 *   - an await link (kaa_all, kaa_any, kaa_timeout, finish_from, shield)
 *     over an input of the dead context settles, once the death or the
 *     input's maker settled the input, and one on the dead context never
 *     cancels a surviving input that others await, and lets go of it.
 * The fixture's live counters check that every callback node let go of
 * its references.
 */
#include "config.h"

#include "kaa-test-util.h"

typedef KaaTestFixture Fixture;

#define KAA_TEST_AREA "death-hooks"

/* ------------------------------------------------- a user's producer */

#define MAX_HOOKS 16

/* One letter per hook, c, p, r, then d for the destroy notify, and the
 * thread each ran on. */
typedef struct
{
  GMutex   lock;
  char     log[MAX_HOOKS + 1];
  GThread *on[MAX_HOOKS];
  guint    n;
} Hooks;

static void
hooks_add (Hooks *hooks,
           char   hook)
{
  g_mutex_lock (&hooks->lock);
  g_assert_cmpuint (hooks->n, <, MAX_HOOKS);
  hooks->on[hooks->n] = g_thread_self ();
  hooks->log[hooks->n++] = hook;
  g_mutex_unlock (&hooks->lock);
}

/* Checks that the hooks so far spell @log, each on @thread. */
static void
hooks_assert (Hooks      *hooks,
              const char *log,
              GThread    *thread)
{
  g_mutex_lock (&hooks->lock);
  g_assert_cmpstr (hooks->log, ==, log);
  for (guint i = 0; i < hooks->n; i++)
    if (hooks->on[i] != thread)
      g_error ("hook %u (%c) ran on the wrong thread", i, hooks->log[i]);
  g_mutex_unlock (&hooks->lock);
}

/* The hooks so far, as a new string. */
static char *
hooks_log (Hooks *hooks)
{
  char *log;

  g_mutex_lock (&hooks->lock);
  log = g_strdup (hooks->log);
  g_mutex_unlock (&hooks->lock);
  return log;
}

static void
hook_cancel (KaaInProgress *ip,
             gpointer       data)
{
  g_assert_false (kaa_in_progress_is_done (ip));
  hooks_add (data, 'c');
}

static void
hook_pause (KaaInProgress *ip,
            gpointer       data)
{
  hooks_add (data, 'p');
}

static void
hook_resume (KaaInProgress *ip,
             gpointer       data)
{
  hooks_add (data, 'r');
}

static void
hook_destroy (gpointer data)
{
  hooks_add (data, 'd');
}

static const KaaProducerFuncs hooks_funcs = {
  .cancel = hook_cancel,
  .pause = hook_pause,
  .resume = hook_resume,
};

/* A coroutine that awaits a producer, and where its cleanup ran. */
typedef struct
{
  Hooks         *hooks;
  KaaInProgress *work;       /* the producer's InProgress */
  KaaInProgress *co;         /* the awaiting coroutine */
  gint           cleanups;   /* atomic */
  GThread       *cleaned_on;
  GError        *error;      /* the await's */
} Await;

static void
await_cleanup (Await *a)
{
  a->cleaned_on = g_thread_self ();
  g_atomic_int_inc (&a->cleanups);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Await, await_cleanup)

static void
body_await_work (KaaCoroutine *co,
                 gpointer      data)
{
  g_autoptr(Await) a = data;

  kaa_await_borrowed (a->work, &a->error);
}

static void
make_work (gpointer data)
{
  Await *a = data;

  a->work = kaa_in_progress_new_full (&hooks_funcs, a->hooks, hook_destroy);
}

static void
spawn_awaiter (gpointer data)
{
  Await *a = data;

  a->co = kaa_coroutine_spawn (body_await_work, a, NULL);
}

static void
pause_awaiter (gpointer data)
{
  kaa_in_progress_pause (((Await *) data)->co);
}

/* After the producer settled: nothing reaches its hooks any more, and a
 * late finish by the work is dropped quietly (DESIGN §2). Pause and
 * resume are for the owner thread only: they are tried while it lives. */
static void
assert_no_hook_after (Await      *a,
                      const char *log,
                      GThread    *thread,
                      gboolean    owner_here)
{
  if (owner_here)
    {
      kaa_in_progress_pause (a->work);
      kaa_in_progress_resume (a->work);
    }
  kaa_in_progress_cancel (a->work);
  kaa_in_progress_finish_int64 (a->work, 1);
  hooks_assert (a->hooks, log, thread);
  g_assert_cmpint (kaa_in_progress_get_state (a->work), ==, KAA_STATE_CANCELLED);
}

static void
await_clear (Await *a)
{
  g_clear_error (&a->error);
  g_clear_pointer (&a->co, kaa_in_progress_unref);
  g_clear_pointer (&a->work, kaa_in_progress_unref);
  g_mutex_clear (&a->hooks->lock);
}

static void
test_producer_same_context (Fixture       *f,
                            gconstpointer  data)
{
  gboolean paused = GPOINTER_TO_INT (data);
  Hooks hooks = { 0 };
  Await a = { &hooks };
  KaaTestWorker w;
  const char *log = paused ? "pcd" : "cd";

  g_test_summary ("DESIGN §3, §6: a context dies with a coroutine awaiting a user's "
                  "producer, both on it: the producer hears cancel once (after the "
                  "pause it heard, never a resume), then its destroy notify, all on "
                  "the thread that drops the context, and nothing after");
  g_test_bug ("17");
  kaa_test_worker_start (&w);
  kaa_test_worker_call (&w, make_work, &a);
  kaa_test_worker_call (&w, spawn_awaiter, &a);
  if (paused)
    kaa_test_worker_call (&w, pause_awaiter, &a);
  hooks_assert (&hooks, paused ? "p" : "", w.thread);

  kaa_test_worker_kill (&w);
  g_assert_cmpint (a.cleanups, ==, 1);
  g_assert_true (a.cleaned_on == w.thread);
  g_assert_error (a.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (kaa_in_progress_get_state (a.co), ==, KAA_STATE_CANCELLED);
  hooks_assert (&hooks, log, w.thread);
  assert_no_hook_after (&a, log, w.thread, FALSE);
  await_clear (&a);
}

/* The pause of an awaiter on another thread than the producer's: the
 * await link pauses only on the owner thread of what it awaits
 * (kaa-in-progress-await.c), so the producer may or may not hear it, the
 * hook in flight on its own context's inbox. Either way, it hears no
 * resume. Checks what the producer heard before the death, "" or "p", on
 * @thread, and returns the hooks expected after it: that, then "cd". */
static char *
hooks_after_death (Await        *a,
                   GMainContext *producer_context,
                   gboolean      paused,
                   GThread      *thread)
{
  g_autofree char *before = NULL;

  if (paused)
    for (guint i = 0; i < 20; i++)
      {
        g_usleep (1000);
        if (producer_context != NULL)
          kaa_test_drain (producer_context);
      }
  before = hooks_log (a->hooks);
  g_assert_cmpstr (before, ==, paused && before[0] != '\0' ? "p" : "");
  hooks_assert (a->hooks, before, thread);
  return g_strconcat (before, "cd", NULL);
}

static void
test_producer_awaiter_dies (Fixture       *f,
                            gconstpointer  data)
{
  gboolean paused = GPOINTER_TO_INT (data);
  Hooks hooks = { 0 };
  Await a = { &hooks };
  KaaTestWorker w;
  g_autofree char *log = NULL;

  g_test_summary ("DESIGN §3, §6: context B dies with a coroutine awaiting a user's "
                  "producer on context A: the coroutine unwinds on B's thread and, "
                  "as sole awaiter, cancels the producer, whose cancel hook and "
                  "destroy notify run once, on A's thread, and nothing after (a "
                  "paused awaiter: no resume either)");
  g_test_bug ("17");
  make_work (&a);
  kaa_test_worker_start (&w);
  kaa_test_worker_call (&w, spawn_awaiter, &a);
  if (paused)
    kaa_test_worker_call (&w, pause_awaiter, &a);
  log = hooks_after_death (&a, f->context, paused, g_thread_self ());

  kaa_test_worker_kill (&w);
  g_assert_cmpint (a.cleanups, ==, 1);
  g_assert_true (a.cleaned_on == w.thread);
  g_assert_error (a.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  kaa_test_poll_until_done (f->context, a.work);
  hooks_assert (&hooks, log, g_thread_self ());
  assert_no_hook_after (&a, log, g_thread_self (), TRUE);
  await_clear (&a);
}

static void
test_producer_dies (Fixture       *f,
                    gconstpointer  data)
{
  gboolean paused = GPOINTER_TO_INT (data);
  Hooks hooks = { 0 };
  Await a = { &hooks };
  KaaTestWorker w;
  g_autofree char *log = NULL;

  g_test_summary ("DESIGN §3, §6: context B dies with a user's producer on it that a "
                  "coroutine on context A awaits: the producer hears cancel once, "
                  "then its destroy notify, on B's thread (a paused awaiter: no "
                  "resume); the coroutine's await fails with CANCELLED on A, and "
                  "nothing reaches the hooks after");
  g_test_bug ("17");
  kaa_test_worker_start (&w);
  kaa_test_worker_call (&w, make_work, &a);
  spawn_awaiter (&a);
  if (paused)
    pause_awaiter (&a);
  log = hooks_after_death (&a, NULL, paused, w.thread);

  kaa_test_worker_kill (&w);
  g_assert_cmpint (kaa_in_progress_get_state (a.work), ==, KAA_STATE_CANCELLED);
  hooks_assert (&hooks, log, w.thread);
  if (paused)
    kaa_in_progress_resume (a.co);
  kaa_test_poll_until_done (f->context, a.co);
  g_assert_cmpint (a.cleanups, ==, 1);
  g_assert_true (a.cleaned_on == g_thread_self ());
  g_assert_error (a.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  kaa_in_progress_cancel (a.co);
  assert_no_hook_after (&a, log, w.thread, FALSE);
  await_clear (&a);
}

/* ------------------------------------------------------ await links */

typedef enum
{
  LINK_ALL,
  LINK_ANY,
  LINK_TIMEOUT,
  LINK_FINISH_FROM,
  LINK_SHIELD,
  N_LINKS,
} LinkKind;

static const char *const link_names[] = { "all", "any", "timeout", "finish-from", "shield" };

/* Takes @input. */
static KaaInProgress *
link_new (LinkKind       kind,
          KaaInProgress *input)
{
  KaaInProgress *link;

  switch (kind)
    {
    case LINK_ALL:
      return kaa_all (&input, 1);
    case LINK_ANY:
      return kaa_any (&input, 1);
    case LINK_TIMEOUT:
      return kaa_timeout (input, 3600 * 1000, TRUE);
    case LINK_SHIELD:
      return kaa_in_progress_shield (input);
    case LINK_FINISH_FROM:
    default:
      link = kaa_in_progress_new ();
      kaa_in_progress_finish_from (link, input);
      return link;
    }
}

/* What a link settles as once its only input settled as @input_state:
 * the groups finish (their input settled), the followers follow it. */
static KaaState
link_state_after (LinkKind kind,
                  KaaState input_state)
{
  if (kind == LINK_ALL || kind == LINK_ANY)
    return KAA_STATE_FINISHED;
  return input_state;
}

typedef struct
{
  gint calls;      /* atomic */
  gint destroys;   /* atomic */
} Counts;

static void
count_call (KaaInProgress *ip,
            gpointer       data)
{
  g_assert_true (kaa_in_progress_is_done (ip));
  g_atomic_int_inc (&((Counts *) data)->calls);
}

static void
count_destroy (gpointer data)
{
  g_atomic_int_inc (&((Counts *) data)->destroys);
}

/* The input of a link: a plain InProgress, or a timer, which its
 * scheduler knows of. */
typedef enum
{
  INPUT_PLAIN,
  INPUT_SLEEP,
  N_INPUTS,
} InputKind;

static const char *const input_names[] = { "plain", "sleep" };

typedef struct
{
  KaaInProgress *input;
  KaaInProgress *link;
  LinkKind       kind;
  InputKind      input_kind;
  Counts        *counts;
} Link;

static void
make_input (gpointer data)
{
  Link *l = data;

  l->input = l->input_kind == INPUT_SLEEP ? kaa_sleep (3600 * 1000) : kaa_in_progress_new ();
  kaa_in_progress_connect (l->input, count_call, l->counts, count_destroy);
}

static void
make_link (gpointer data)
{
  Link *l = data;

  l->link = link_new (l->kind, kaa_in_progress_ref (l->input));
  kaa_in_progress_connect (l->link, count_call, l->counts, count_destroy);
}

/* A plain InProgress is made by hand and settled by hand: its context's
 * death may leave it pending (tests/test-death.c), and then its maker
 * settles it, here from the main thread, after B is gone. */
static void
settle_by_hand (KaaInProgress *input)
{
  if (!kaa_in_progress_is_done (input))
    kaa_in_progress_finish_int64 (input, 7);
}

/*   main thread, context A              worker, context B
 *                                        input = sleep | new ()
 *   link = all | any | timeout | finish_from | shield (input)
 *                                        B dies: the sleep is cancelled
 *   [plain input: finished by hand]
 *   the link settles on A; every callback ran once and was released
 */
static void
test_link_input_dies (Fixture       *f,
                      gconstpointer  data)
{
  guint param = GPOINTER_TO_UINT (data);
  Counts counts = { 0 };
  Link l = { NULL, NULL, param % N_LINKS, param / N_LINKS, &counts };
  KaaTestWorker w;

  g_test_summary ("DESIGN §3, §6: an await link on context A over an input of "
                  "context B settles once B died (a sleep is cancelled by the death, "
                  "a plain InProgress settled by hand): its callbacks and the input's "
                  "run once and let go of their data and references");
  g_test_bug ("17");
  kaa_test_worker_start (&w);
  kaa_test_worker_call (&w, make_input, &l);
  make_link (&l);
  kaa_test_drain (f->context);
  g_assert_false (kaa_in_progress_is_done (l.link));

  kaa_test_worker_kill (&w);
  if (l.input_kind == INPUT_SLEEP)
    g_assert_cmpint (kaa_in_progress_get_state (l.input), ==, KAA_STATE_CANCELLED);
  settle_by_hand (l.input);
  kaa_test_poll_until_done (f->context, l.link);
  g_assert_cmpint (kaa_in_progress_get_state (l.link), ==,
                   link_state_after (l.kind, kaa_in_progress_get_state (l.input)));
  g_assert_cmpint (counts.calls, ==, 2);
  g_assert_cmpint (counts.destroys, ==, 2);
  kaa_in_progress_unref (l.link);
  kaa_in_progress_unref (l.input);
}

/*   main thread, context A              worker, context B
 *   input = new (); keeper follows it
 *                                        link = all | any | ... (input)
 *                                        B dies
 *   the link: cancelled by the death (it only detaches), or pending
 *   input finished by hand: the keeper gets it, the link settles
 */
static void
test_link_dies (Fixture       *f,
                gconstpointer  data)
{
  Counts counts = { 0 };
  Link l = { NULL, NULL, GPOINTER_TO_INT (data), INPUT_PLAIN, &counts };
  g_autoptr(KaaInProgress) keeper = NULL;
  KaaTestWorker w;

  g_test_summary ("DESIGN §3, §6: an await link on context B over an input of "
                  "context A, which a follower on A also awaits: B's death never "
                  "cancels the input (at most the link detaches from it); the input "
                  "finishes later for the follower, the link settles, and every "
                  "callback runs once and lets go of its data and references");
  g_test_bug ("17");
  make_input (&l);
  keeper = kaa_in_progress_new ();
  kaa_in_progress_finish_from (keeper, kaa_in_progress_ref (l.input));
  kaa_test_worker_start (&w);
  kaa_test_worker_call (&w, make_link, &l);

  kaa_test_worker_kill (&w);
  kaa_test_drain (f->context);
  g_assert_false (kaa_in_progress_is_done (l.input));
  if (kaa_in_progress_is_done (l.link))
    g_assert_cmpint (kaa_in_progress_get_state (l.link), ==, KAA_STATE_CANCELLED);

  kaa_in_progress_finish_int64 (l.input, 7);
  kaa_test_poll_until_done (f->context, keeper);
  g_assert_cmpint (kaa_in_progress_get_int64 (keeper), ==, 7);
  g_assert_true (kaa_in_progress_is_done (l.link));
  g_assert_cmpint (counts.calls, ==, 2);
  g_assert_cmpint (counts.destroys, ==, 2);
  kaa_in_progress_unref (l.link);
  kaa_in_progress_unref (l.input);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  KAA_TEST_ADD_DATA ("producer/same-context", test_producer_same_context, GINT_TO_POINTER (FALSE));
  KAA_TEST_ADD_DATA ("producer/same-context-paused", test_producer_same_context,
                     GINT_TO_POINTER (TRUE));
  KAA_TEST_ADD_DATA ("producer/awaiter-dies", test_producer_awaiter_dies, GINT_TO_POINTER (FALSE));
  KAA_TEST_ADD_DATA ("producer/awaiter-dies-paused", test_producer_awaiter_dies,
                     GINT_TO_POINTER (TRUE));
  KAA_TEST_ADD_DATA ("producer/producer-dies", test_producer_dies, GINT_TO_POINTER (FALSE));
  KAA_TEST_ADD_DATA ("producer/producer-dies-paused", test_producer_dies, GINT_TO_POINTER (TRUE));

  for (guint i = 0; i < N_LINKS; i++)
    {
      g_autofree char *link_dies = g_strdup_printf ("/kaa/death-hooks/link/%s/link-dies",
                                                    link_names[i]);

      for (guint j = 0; j < N_INPUTS; j++)
        {
          g_autofree char *input_dies =
            g_strdup_printf ("/kaa/death-hooks/link/%s/input-dies/%s", link_names[i],
                             input_names[j]);

          g_test_add (input_dies, Fixture, GUINT_TO_POINTER (j * N_LINKS + i),
                      kaa_test_fixture_setup, test_link_input_dies, kaa_test_fixture_teardown);
        }
      g_test_add (link_dies, Fixture, GINT_TO_POINTER (i), kaa_test_fixture_setup,
                  test_link_dies, kaa_test_fixture_teardown);
    }

  return g_test_run ();
}
