/* test-await-contexts.c: kaa_await_borrowed() across contexts and threads
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A coroutine on context B, run by a worker thread, borrows an InProgress
 * whose producer lives on context A, the test's own, run by the main
 * thread. What the borrowing await promises is what kaa_await() promises
 * (DESIGN §2, §6): the coroutine resumes on its own context with the
 * result; once the coroutine is cancelled, or unwound because B dies
 * (DESIGN §3), the input is cancelled unless someone else awaits it, in
 * which case it is only detached from. The caller's reference is never
 * taken: the input stays readable, and the fixture's live counters check
 * that every reference and coroutine is let go of.
 */
#include "config.h"

#include "kaa-test-util.h"

typedef KaaTestFixture Fixture;

typedef enum
{
  END_FINISH_ON_A,       /* A finishes the input */
  END_CANCEL_FROM_B,     /* B's thread cancels the awaiting coroutine */
  END_CANCEL_FROM_A,     /* the main thread cancels it, across threads */
  END_DEATH_OF_B,        /* B dies while the coroutine awaits */
} End;

typedef struct
{
  End      end;
  gboolean shared;       /* a coroutine on A awaits the input too */
} Case;

typedef struct
{
  KaaInProgress *input;      /* on A; the test's reference */
  KaaTestWorker  b;          /* runs B */
  KaaInProgress *awaiter;    /* the coroutine on B */
  gint           cleanups;   /* atomic */
  GThread       *cleaned_on;
  KaaState       input_seen; /* the input's state, seen after the await */
  GError        *error;      /* the await's */
} Cross;

/* ------------------------------------------------------------ on B */

static void
cross_cleanup (Cross *x)
{
  x->cleaned_on = g_thread_self ();
  g_atomic_int_inc (&x->cleanups);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Cross, cross_cleanup)

static void
body_borrow (KaaCoroutine *co,
             gpointer      data)
{
  g_autoptr(Cross) x = data;
  /* The documented idiom: a reference of one's own, lent to the await. */
  g_autoptr(KaaInProgress) input = kaa_in_progress_ref (x->input);

  if (kaa_await_borrowed (input, &x->error))
    kaa_coroutine_return_int64 (co, kaa_in_progress_get_int64 (input));
  x->input_seen = kaa_in_progress_get_state (input);
}

static void
spawn_awaiter (gpointer data)
{
  Cross *x = data;

  x->awaiter = kaa_coroutine_spawn (body_borrow, x, NULL);
}

static void
cancel_awaiter (gpointer data)
{
  Cross *x = data;

  kaa_in_progress_cancel (x->awaiter);
}

/* ------------------------------------------------------------ on A */

static void
body_await_on_a (KaaCoroutine *co,
                 gpointer      data)
{
  KaaInProgress *input = data;
  g_autoptr(GError) error = NULL;
  gint64 result = kaa_await_int64 (kaa_in_progress_ref (input), &error);

  g_assert_no_error (error);
  kaa_coroutine_return_int64 (co, result);
}

static void
cross_start (Cross *x)
{
  x->input = kaa_in_progress_new ();
  kaa_test_worker_start (&x->b);
  kaa_test_worker_call (&x->b, spawn_awaiter, x);
  g_assert_false (kaa_in_progress_is_done (x->awaiter));
}

/* Ends the await as @end says; the coroutine is done on return. */
static void
cross_end (Fixture *f,
           Cross   *x,
           End      end)
{
  switch (end)
    {
    case END_FINISH_ON_A:
      kaa_in_progress_finish_int64 (x->input, 42);
      break;
    case END_CANCEL_FROM_B:
      kaa_test_worker_call (&x->b, cancel_awaiter, x);
      break;
    case END_CANCEL_FROM_A:
      kaa_in_progress_cancel (x->awaiter);
      break;
    case END_DEATH_OF_B:
    default:
      kaa_test_worker_kill (&x->b);
      break;
    }
  kaa_test_poll_until_done (f->context, x->awaiter);
  if (end != END_DEATH_OF_B)
    kaa_test_worker_kill (&x->b);
}

/* The coroutine ran to its end once, on B's thread, with A's result or
 * cancelled. */
static void
cross_assert_awaiter (Cross *x,
                      End    end)
{
  g_assert_cmpint (x->cleanups, ==, 1);
  g_assert_true (x->cleaned_on == x->b.thread);
  if (end == END_FINISH_ON_A)
    {
      g_assert_no_error (x->error);
      g_assert_cmpint (kaa_in_progress_get_int64 (x->awaiter), ==, 42);
      g_assert_cmpint (x->input_seen, ==, KAA_STATE_FINISHED);
    }
  else
    {
      g_assert_error (x->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_cmpint (kaa_in_progress_get_state (x->awaiter), ==, KAA_STATE_CANCELLED);
    }
}

/* The input is on A, which lives on: cancelled there, promptly, by its
 * sole awaiter's end, or still pending for the coroutine on A. */
static void
cross_assert_input (Fixture    *f,
                    Cross      *x,
                    const Case *c)
{
  if (c->end == END_FINISH_ON_A)
    return;
  if (!c->shared)
    {
      kaa_test_poll_until_done (f->context, x->input);
      g_assert_cmpint (kaa_in_progress_get_state (x->input), ==, KAA_STATE_CANCELLED);
      return;
    }
  kaa_test_drain (f->context);
  g_assert_false (kaa_in_progress_is_done (x->input));
  kaa_in_progress_finish_int64 (x->input, 43);
}

/*   main thread, context A              worker, context B
 *   input = new ()
 *                                        co = spawn: await_borrowed (input)
 *   [shared: other = spawn on A: await (input)]
 *   finish input | cancel co | --        -- | cancel co | B dies
 *                                        co resumes or unwinds, on B
 *   input: finished | cancelled | pending for other, then finished
 */
static void
test_borrowed (Fixture       *f,
               gconstpointer  data)
{
  const Case *c = data;
  Cross x = { 0 };
  g_autoptr(KaaInProgress) other = NULL;

  g_test_summary ("DESIGN §2, §6: a coroutine on context B (a worker thread) awaits with "
                  "kaa_await_borrowed() an InProgress of context A (the main thread); "
                  "it resumes on B with A's result, or, cancelled from either thread or "
                  "unwound by B's death, cancels the input as its sole awaiter and only "
                  "detaches from it when a coroutine on A awaits it too; the borrowed "
                  "reference is never taken and nothing is left alive");
  g_test_bug ("17");
  cross_start (&x);
  if (c->shared)
    other = kaa_coroutine_spawn (body_await_on_a, x.input, NULL);

  cross_end (f, &x, c->end);
  cross_assert_awaiter (&x, c->end);
  cross_assert_input (f, &x, c);
  if (other != NULL)
    {
      kaa_test_poll_until_done (f->context, other);
      g_assert_cmpint (kaa_in_progress_get_int64 (other),
                       ==, c->end == END_FINISH_ON_A ? 42 : 43);
    }

  g_clear_error (&x.error);
  kaa_in_progress_unref (x.awaiter);
  kaa_in_progress_unref (x.input);
}

int
main (int   argc,
      char *argv[])
{
  static const Case cases[] = {
    { END_FINISH_ON_A, FALSE }, { END_FINISH_ON_A, TRUE },
    { END_CANCEL_FROM_B, FALSE }, { END_CANCEL_FROM_B, TRUE },
    { END_CANCEL_FROM_A, FALSE }, { END_CANCEL_FROM_A, TRUE },
    { END_DEATH_OF_B, FALSE }, { END_DEATH_OF_B, TRUE },
  };
  static const char *const names[] = {
    "finish-on-a", "cancel-from-b", "cancel-from-a", "death-of-b",
  };

  g_test_init (&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/kaa/await-contexts/borrowed/%s/%s",
                                               names[cases[i].end],
                                               cases[i].shared ? "shared" : "sole");

      g_test_add (path, Fixture, &cases[i], kaa_test_fixture_setup, test_borrowed,
                  kaa_test_fixture_teardown);
    }

  return g_test_run ();
}
