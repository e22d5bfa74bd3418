/* test-lifetimes.c: dying contexts, one owner per context, spawning from
 * any thread, budgeted timers (issue #17 §1, §2, §3, §6)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "kaa-test-util.h"
#include "kaa-live-private.h"

/* Under TSan, making a fiber costs milliseconds (a thread context each):
 * the threaded tests run with fewer. */
#if defined (__SANITIZE_THREAD__)
# define TEST_TSAN 1
#elif defined (__has_feature)
# if __has_feature (thread_sanitizer)
#  define TEST_TSAN 1
# endif
#endif
#ifndef TEST_TSAN
# define TEST_TSAN 0
#endif

static gint64 live_at_start[KAA_LIVE_N_KINDS];

static void
live_remember (void)
{
  for (guint i = 0; i < KAA_LIVE_N_KINDS; i++)
    live_at_start[i] = kaa_live_get (i);
}

/* Thread jobs may still be returning on their workers: a few seconds. */
static void
live_assert_back (void)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  gboolean same;

  do
    {
      same = TRUE;
      for (guint i = 0; i < KAA_LIVE_N_KINDS; i++)
        same = same && kaa_live_get (i) == live_at_start[i];
      if (!same)
        g_usleep (1000);
    }
  while (!same && g_get_monotonic_time () < deadline);
  for (guint i = 0; i < KAA_LIVE_N_KINDS; i++)
    if (kaa_live_get (i) != live_at_start[i])
      g_test_message ("kind %u: %" G_GINT64_FORMAT " live, %" G_GINT64_FORMAT " before",
                      i, kaa_live_get (i), live_at_start[i]);
  for (guint i = 0; i < KAA_LIVE_N_KINDS; i++)
    g_assert_cmpint (kaa_live_get (i), ==, live_at_start[i]);
}

/* ------------------------------------------------------------- §2: owner */

typedef struct
{
  GMainContext *context;
  GMainLoop    *loop;
  GThread      *thread;     /* the worker, once it runs */
  gint          cleanups;   /* atomic */
  gint          wrong_thread;
} Handover;

static void
handover_body (KaaCoroutine *co,
               gpointer      data)
{
  Handover *h = data;
  g_auto (KaaTestFinally) cleanup = { &h->cleanups };

  /* Runs on the creating thread (spawned while it had the context
   * pushed), then only on the worker. */
  while (kaa_yield ())
    if (g_atomic_pointer_get (&h->thread) != NULL &&
        g_thread_self () != g_atomic_pointer_get (&h->thread))
      g_atomic_int_inc (&h->wrong_thread);
  (void) cleanup;
}

static void
handover_sleeper (KaaCoroutine *co,
                  gpointer      data)
{
  Handover *h = data;
  g_auto (KaaTestFinally) cleanup = { &h->cleanups };

  while (kaa_await (kaa_sleep (g_random_int_range (0, 3)), NULL))
    ;
  (void) cleanup;
}

static gpointer
handover_worker (gpointer data)
{
  Handover *h = data;

  /* As GLib's hand-over pattern has it: the worker makes the context its
   * thread-default, so what the coroutines create belongs to it too. */
  g_main_context_push_thread_default (h->context);
  g_atomic_pointer_set (&h->thread, g_thread_self ());
  g_main_loop_run (h->loop);
  g_main_context_pop_thread_default (h->context);
  return NULL;
}

#define HANDOVER_N 200

static void
test_handover (void)
{
  Handover h = { NULL };
  KaaInProgress *ips[HANDOVER_N];
  GThread *worker;
  gint n_coroutines = 0;

  g_test_summary ("DESIGN §2: a context has one owner, the thread that runs it. "
                  "Pushed, given work, popped and handed to a worker that runs it, "
                  "the creating thread is no owner any more: its cancels go "
                  "through the inbox and run on the worker, while it dispatches");
  live_remember ();
  h.context = g_main_context_new ();
  h.loop = g_main_loop_new (h.context, FALSE);
  g_main_context_push_thread_default (h.context);
  for (guint i = 0; i < HANDOVER_N; i++)
    {
      switch (i % 3)
        {
        case 0:
          ips[i] = kaa_coroutine_spawn (handover_body, &h, NULL);
          n_coroutines++;
          break;
        case 1:
          ips[i] = kaa_coroutine_spawn (handover_sleeper, &h, NULL);
          n_coroutines++;
          break;
        default:
          ips[i] = kaa_sleep (10000 + i);
          break;
        }
    }
  g_main_context_pop_thread_default (h.context);

  /* Nobody runs the context yet, and this thread popped it: the cancel
   * waits for the owner instead of running the cascade here. */
  kaa_in_progress_cancel (ips[0]);
  g_assert_cmpint (kaa_in_progress_get_state (ips[0]), ==, KAA_STATE_PENDING);
  g_assert_cmpint (g_atomic_int_get (&h.cleanups), ==, 0);

  worker = g_thread_new ("handover", handover_worker, &h);
  /* Cancel the rest while the worker dispatches. */
  for (guint i = 1; i < HANDOVER_N; i++)
    {
      if (i % 16 == 0)
        g_usleep (200);
      kaa_in_progress_cancel (ips[i]);
    }
  for (guint i = 0; i < HANDOVER_N; i++)
    {
      GError *error = NULL;

      g_assert_false (kaa_in_progress_wait (ips[i], &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_clear_error (&error);
      g_assert_cmpint (kaa_in_progress_get_state (ips[i]), ==, KAA_STATE_CANCELLED);
      kaa_in_progress_unref (ips[i]);
    }
  g_assert_cmpint (g_atomic_int_get (&h.cleanups), ==, n_coroutines);
  g_assert_cmpint (g_atomic_int_get (&h.wrong_thread), ==, 0);

  g_main_loop_quit (h.loop);
  g_thread_join (worker);
  g_main_loop_unref (h.loop);
  g_main_context_unref (h.context);
  live_assert_back ();
}

/* ---------------------------------------------- §3: spawning from jobs */

#define SPAWN_THREADS 3
#define SPAWN_PER_THREAD (TEST_TSAN ? 200 : 2000)

typedef struct
{
  GThread *main_thread;
  gint     first_slice_off_main;   /* atomic */
  gint     slices_off_main;        /* atomic */
  gint     finished;               /* atomic */
  gint     steps_off_main;         /* atomic */
  gint     iterated;               /* atomic */
} Spawns;

static void
spawned_body (KaaCoroutine *co,
              gpointer      data)
{
  Spawns *s = data;

  if (g_thread_self () != s->main_thread)
    g_atomic_int_inc (&s->first_slice_off_main);
  for (guint i = 0; i < 2; i++)
    {
      if (!kaa_yield ())
        return;
      if (g_thread_self () != s->main_thread)
        g_atomic_int_inc (&s->slices_off_main);
    }
  g_atomic_int_inc (&s->finished);
}

static gboolean
spawned_step (KaaInProgress *ip,
              gpointer       data)
{
  Spawns *s = data;

  if (g_thread_self () != s->main_thread)
    g_atomic_int_inc (&s->steps_off_main);
  g_atomic_int_inc (&s->iterated);
  return FALSE;
}

static gpointer
spawning_job (KaaThreadJob *job,
              gpointer      data,
              GError      **error)
{
  for (guint i = 0; i < SPAWN_PER_THREAD; i++)
    {
      kaa_in_progress_unref (kaa_coroutine_spawn (spawned_body, data, NULL));
      if (i % 10 == 0)
        kaa_in_progress_unref (kaa_coiterate (spawned_step, data, NULL));
    }
  return NULL;
}

static void
test_spawn_from_jobs (void)
{
  Spawns s = { g_thread_self () };
  g_autoptr (KaaThreadPool) pool = kaa_thread_pool_new ("spawners", SPAWN_THREADS);
  KaaInProgress *jobs[SPAWN_THREADS];
  GMainContext *main_context = g_main_context_default ();
  GSource *watchdog = kaa_test_watchdog_new (main_context, "spawns from jobs");

  g_test_summary ("DESIGN §4: a coroutine spawned from a thread-pool job starts on the "
                  "thread that runs its context, through the inbox, and runs to the "
                  "end there; so does a coiteration");
  live_remember ();
  for (guint i = 0; i < SPAWN_THREADS; i++)
    jobs[i] = kaa_thread_pool_run (pool, G_PRIORITY_DEFAULT, spawning_job, &s, NULL);
  for (guint i = 0; i < SPAWN_THREADS; i++)
    {
      g_assert_true (kaa_in_progress_wait (jobs[i], NULL));
      kaa_in_progress_unref (jobs[i]);
    }
  while (g_atomic_int_get (&s.finished) < SPAWN_THREADS * SPAWN_PER_THREAD ||
         g_atomic_int_get (&s.iterated) < SPAWN_THREADS * SPAWN_PER_THREAD / 10)
    g_main_context_iteration (main_context, TRUE);
  kaa_test_drain (main_context);
  kaa_test_watchdog_free (watchdog);

  g_assert_cmpint (s.first_slice_off_main, ==, 0);
  g_assert_cmpint (s.slices_off_main, ==, 0);
  g_assert_cmpint (s.steps_off_main, ==, 0);
  g_assert_cmpint (s.finished, ==, SPAWN_THREADS * SPAWN_PER_THREAD);
  live_assert_back ();
}


/* ------------------------------------------------------ §1: context death */

typedef struct
{
  gint           cleanups;     /* atomic */
  gint           calls;        /* atomic */
  gint           destroys;     /* atomic */
  KaaInProgress *never;        /* settled by nobody */
  KaaInProgress *watched;      /* what the waiter waits for */
  gint           waiter_done;  /* atomic */
  KaaState       waiter_saw;
} Death;

static void
death_awaits_forever (KaaCoroutine *co,
                      gpointer      data)
{
  Death *d = data;
  g_auto (KaaTestFinally) cleanup = { &d->cleanups };
  GError *error = NULL;

  g_assert_false (kaa_await (kaa_in_progress_ref (d->never), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  (void) cleanup;
}

static void
death_awaits_sleep (KaaCoroutine *co,
                    gpointer      data)
{
  Death *d = data;
  g_auto (KaaTestFinally) cleanup = { &d->cleanups };

  g_assert_false (kaa_await (kaa_sleep (3600 * 1000), NULL));
  (void) cleanup;
}

/* DESIGN §4's idiom: a cancelled coroutine returns without setting a
 * result; that must not read as success. */
static void
death_yields (KaaCoroutine *co,
              gpointer      data)
{
  Death *d = data;
  g_auto (KaaTestFinally) cleanup = { &d->cleanups };

  for (;;)
    if (!kaa_yield ())
      return;
  (void) cleanup;
}

static void
death_callback (KaaInProgress *ip,
                gpointer       data)
{
  Death *d = data;

  g_assert_true (kaa_in_progress_is_done (ip));
  g_atomic_int_inc (&d->calls);
}

static void
death_destroy (gpointer data)
{
  g_atomic_int_inc (&((Death *) data)->destroys);
}

static gpointer
death_waiter (gpointer data)
{
  Death *d = data;

  kaa_in_progress_wait (d->watched, NULL);
  d->waiter_saw = kaa_in_progress_get_state (d->watched);
  g_atomic_int_set (&d->waiter_done, TRUE);
  return NULL;
}

/* New references to @n of @ips, in @out, for a function that takes them. */
static KaaInProgress **
refs (KaaInProgress **ips,
      guint           n,
      KaaInProgress **out)
{
  for (guint i = 0; i < n; i++)
    out[i] = kaa_in_progress_ref (ips[i]);
  return out;
}

enum { D_FOREVER, D_SLEEPER, D_YIELDER, D_SLEEP, D_ALL, D_ANY, D_TIMEOUT, D_SHIELD, N_DEATH };

static void
test_death_settles_everything (void)
{
  Death d = { 0 };
  GMainContext *context = g_main_context_new ();
  GMainContext *other = g_main_context_new ();
  KaaInProgress *ips[N_DEATH];
  KaaInProgress *in[N_DEATH];
  KaaInProgress *follower, *all_success;
  GThread *waiter;

  g_test_summary ("DESIGN §3: when a context with libkaa work dies, everything on it "
                  "settles CANCELLED on the thread that drops it: coroutines suspended "
                  "in an await or a yield unwind with their cleanups run (also the "
                  "`if (!kaa_yield ()) return;` idiom), combinators and followers over "
                  "its work settle, a thread waiting on one returns, and every callback "
                  "runs once and lets go of its data");
  live_remember ();
  g_main_context_push_thread_default (context);
  d.never = kaa_in_progress_new ();
  ips[D_FOREVER] = kaa_coroutine_spawn (death_awaits_forever, &d, NULL);
  ips[D_SLEEPER] = kaa_coroutine_spawn (death_awaits_sleep, &d, NULL);
  ips[D_YIELDER] = kaa_coroutine_spawn (death_yields, &d, NULL);
  ips[D_SLEEP] = kaa_sleep (3600 * 1000);
  /* The combinators take the references they are given. */
  ips[D_ALL] = kaa_all (refs (ips, D_SLEEP + 1, in), D_SLEEP + 1);
  ips[D_ANY] = kaa_any (refs (&ips[D_FOREVER], 1, in), 1);
  ips[D_TIMEOUT] = kaa_timeout (kaa_in_progress_ref (ips[D_SLEEPER]), 3600 * 1000, TRUE);
  ips[D_SHIELD] = kaa_in_progress_shield (kaa_in_progress_ref (ips[D_YIELDER]));
  all_success = kaa_all_success (refs (ips, D_SLEEP + 1, in), D_SLEEP + 1);
  for (guint i = 0; i < N_DEATH; i++)
    kaa_in_progress_connect (ips[i], death_callback, &d, death_destroy);
  g_main_context_pop_thread_default (context);

  /* A follower on another context, and a thread blocked on the group. */
  g_main_context_push_thread_default (other);
  follower = kaa_in_progress_new ();
  kaa_in_progress_finish_from (follower, kaa_in_progress_ref (ips[D_ALL]));
  g_main_context_pop_thread_default (other);
  d.watched = all_success;
  waiter = g_thread_new ("waiter", death_waiter, &d);
  g_usleep (10000);
  g_assert_false (g_atomic_int_get (&d.waiter_done));
  for (guint i = 0; i < N_DEATH; i++)
    g_assert_false (kaa_in_progress_is_done (ips[i]));

  g_main_context_unref (context);

  /* All of it happened inside the unref, on this thread. */
  g_assert_cmpint (d.cleanups, ==, 3);
  /* Everything of it, the groups too, was cancelled, or follows what was. */
  for (guint i = 0; i < N_DEATH; i++)
    if (kaa_in_progress_get_state (ips[i]) != KAA_STATE_CANCELLED)
      g_error ("input %u ends in state %d", i, kaa_in_progress_get_state (ips[i]));
  g_assert_cmpint (kaa_in_progress_get_state (d.never), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (kaa_in_progress_get_state (all_success), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (d.calls, ==, N_DEATH);
  g_assert_cmpint (d.destroys, ==, N_DEATH);
  g_thread_join (waiter);
  g_assert_cmpint (d.waiter_saw, ==, KAA_STATE_CANCELLED);
  /* The follower's context lives on: it settles there, like the group. */
  kaa_test_pump_until_done (other, follower);
  g_assert_cmpint (kaa_in_progress_get_state (follower), ==, KAA_STATE_CANCELLED);

  kaa_in_progress_unref (follower);
  kaa_in_progress_unref (all_success);
  kaa_in_progress_unref (d.never);
  for (guint i = 0; i < N_DEATH; i++)
    kaa_in_progress_unref (ips[i]);
  g_main_context_unref (other);
  live_assert_back ();
}

static void
test_death_forgets_context (void)
{
  GMainContext *context = g_main_context_new ();
  KaaInProgress *pending, *finished;

  g_test_summary ("DESIGN §3: an InProgress outlives its context; once the context is "
                  "finalized, kaa_in_progress_get_context() says NULL, never the "
                  "freed context");
  live_remember ();
  g_main_context_push_thread_default (context);
  pending = kaa_sleep (3600 * 1000);
  finished = kaa_in_progress_new ();
  kaa_in_progress_finish_boolean (finished, TRUE);
  g_main_context_pop_thread_default (context);
  g_assert_true (kaa_in_progress_get_context (pending) == context);
  g_assert_true (kaa_in_progress_get_context (finished) == context);

  g_main_context_unref (context);
  g_assert_cmpint (kaa_in_progress_get_state (pending), ==, KAA_STATE_CANCELLED);
  g_assert_null (kaa_in_progress_get_context (pending));
  g_assert_null (kaa_in_progress_get_context (finished));
  kaa_in_progress_unref (pending);
  kaa_in_progress_unref (finished);
  live_assert_back ();
}

/* ------------------------------------------------------ §1: the churn */

#define CHURN_THREADS 4
#define CHURN_SHARED 64

typedef struct
{
  guint          total;       /* contexts to make, over all threads */
  gint           made;        /* atomic */
  GMutex         lock;
  KaaInProgress *shared[CHURN_SHARED];   /* under lock: handed between threads */
  gint           spawned;     /* atomic: coroutines whose body began */
  gint           cleanups;    /* atomic: their g_auto cleanups */
  gint           connected;   /* atomic */
  gint           called;      /* atomic */
  gint           destroyed;   /* atomic */
  gint           not_done;    /* atomic: own work pending after its context died */
} Churn;

typedef struct
{
  Churn         *churn;
  KaaInProgress *foreign;     /* owned: another thread's work to await, or NULL */
  guint          msec;
} ChurnCall;

static void
churn_call_free (gpointer data)
{
  ChurnCall *call = data;

  g_clear_pointer (&call->foreign, kaa_in_progress_unref);
  g_free (call);
}

static void
churn_sleeper (KaaCoroutine *co,
               gpointer      data)
{
  ChurnCall *call = data;
  g_auto (KaaTestFinally) cleanup = { &call->churn->cleanups };

  g_atomic_int_inc (&call->churn->spawned);
  if (call->foreign != NULL)
    kaa_await (g_steal_pointer (&call->foreign), NULL);
  for (guint i = 0; i < 3; i++)
    if (!kaa_await (kaa_sleep (call->msec), NULL))
      return;
  kaa_coroutine_return_int64 (co, 1);
  (void) cleanup;
}

static void
churn_yielder (KaaCoroutine *co,
               gpointer      data)
{
  ChurnCall *call = data;
  g_auto (KaaTestFinally) cleanup = { &call->churn->cleanups };

  g_atomic_int_inc (&call->churn->spawned);
  for (guint i = 0; i < call->msec * 4; i++)
    if (!kaa_yield ())
      return;
  (void) cleanup;
}

static gpointer
churn_job (KaaThreadJob *job,
           gpointer      data,
           GError      **error)
{
  for (guint i = 0; i < GPOINTER_TO_UINT (data) && kaa_thread_job_check (job); i++)
    g_usleep (50);
  return NULL;
}

static void
churn_callback (KaaInProgress *ip,
                gpointer       data)
{
  g_atomic_int_inc (&((Churn *) data)->called);
}

static void
churn_destroy (gpointer data)
{
  g_atomic_int_inc (&((Churn *) data)->destroyed);
}

static void
churn_seen (KaaInProgress *ip,
            gpointer       data)
{
}

/* Takes @input, as kaa_timeout () does. */
static KaaInProgress *
churn_timeout (KaaInProgress *input,
               guint          msec)
{
  KaaInProgress *timeout = kaa_timeout (input, msec, TRUE);

  /* Timing out is what it is here for: a callback counts as handling it. */
  kaa_in_progress_connect (timeout, churn_seen, NULL, NULL);
  return timeout;
}

static KaaInProgress *
churn_all (KaaInProgress *a,
           KaaInProgress *b)
{
  KaaInProgress *in[] = { kaa_in_progress_ref (a), kaa_in_progress_ref (b) };

  return kaa_all (in, G_N_ELEMENTS (in));
}

static KaaInProgress *
churn_take_shared (Churn *churn,
                   GRand *rand)
{
  guint slot = g_rand_int_range (rand, 0, CHURN_SHARED);
  KaaInProgress *ip;

  g_mutex_lock (&churn->lock);
  ip = g_steal_pointer (&churn->shared[slot]);
  g_mutex_unlock (&churn->lock);
  return ip;
}

static void
churn_put_shared (Churn         *churn,
                  GRand         *rand,
                  KaaInProgress *ip)
{
  guint slot = g_rand_int_range (rand, 0, CHURN_SHARED);
  KaaInProgress *old;

  g_mutex_lock (&churn->lock);
  old = churn->shared[slot];
  churn->shared[slot] = ip;
  g_mutex_unlock (&churn->lock);
  g_clear_pointer (&old, kaa_in_progress_unref);
}

/* Another thread's work (its context alive or gone): cancel it, listen to
 * it, or just let go. */
static void
churn_act_on_foreign (Churn *churn,
                      GRand *rand)
{
  KaaInProgress *ip = churn_take_shared (churn, rand);

  if (ip == NULL)
    return;
  switch (g_rand_int_range (rand, 0, 3))
    {
    case 0:
      kaa_in_progress_cancel (ip);
      break;
    case 1:
      g_atomic_int_inc (&churn->connected);
      kaa_in_progress_connect (ip, churn_callback, churn, churn_destroy);
      break;
    default:
      break;
    }
  kaa_in_progress_unref (ip);
}

static KaaInProgress *
churn_spawn (Churn         *churn,
             KaaCoroutineFunc func,
             KaaInProgress *foreign,
             guint          msec)
{
  ChurnCall *call = g_new0 (ChurnCall, 1);

  call->churn = churn;
  call->foreign = foreign;
  call->msec = msec;
  return kaa_coroutine_spawn (func, call, churn_call_free);
}

/* One context's life: work of every kind, some of it handed to other
 * threads, a few iterations, then the end of the context. */
static void
churn_one_context (Churn *churn,
                   GRand *rand)
{
  GMainContext *context = g_main_context_new ();
  GPtrArray *own = g_ptr_array_new ();   /* checked after the death */
  GPtrArray *jobs = g_ptr_array_new ();  /* may outlive it */
  KaaInProgress *paused = NULL;
  guint n = g_rand_int_range (rand, 2, 8);

  g_main_context_push_thread_default (context);
  for (guint i = 0; i < n; i++)
    {
      guint msec = g_rand_int_range (rand, 0, 4);

      switch (g_rand_int_range (rand, 0, 7))
        {
        case 0:
          g_ptr_array_add (own, churn_spawn (churn, churn_sleeper, NULL, msec));
          break;
        case 1:
          g_ptr_array_add (own, churn_spawn (churn, churn_yielder, NULL, msec));
          break;
        case 2:
          g_ptr_array_add (jobs, kaa_thread_run (churn_job, GUINT_TO_POINTER (msec * 4), NULL));
          break;
        case 3:
          g_ptr_array_add (own, kaa_sleep (msec));
          break;
        case 4:
          g_ptr_array_add (own, churn_timeout (kaa_sleep (msec + 1), msec));
          break;
        case 5:
          g_ptr_array_add (own, churn_spawn (churn, churn_sleeper,
                                             churn_take_shared (churn, rand), msec));
          break;
        default:
          if (own->len >= 2)
            g_ptr_array_add (own, churn_all (own->pdata[0], own->pdata[own->len - 1]));
          break;
        }
    }
  for (guint i = g_rand_int_range (rand, 0, 4); i > 0; i--)
    g_main_context_iteration (context, FALSE);
  if (own->len > 0)
    churn_put_shared (churn, rand,
                      kaa_in_progress_ref (own->pdata[g_rand_int_range (rand, 0, own->len)]));
  if (jobs->len > 0 && g_rand_boolean (rand))
    churn_put_shared (churn, rand, kaa_in_progress_ref (jobs->pdata[0]));
  if (own->len > 0 && g_rand_boolean (rand))
    kaa_in_progress_cancel (own->pdata[0]);
  churn_act_on_foreign (churn, rand);
  churn_act_on_foreign (churn, rand);
  /* What is paused goes too, and its pause is taken back afterwards. */
  if (own->len > 0 && g_rand_boolean (rand))
    {
      paused = own->pdata[g_rand_int_range (rand, 0, own->len)];
      kaa_in_progress_pause (paused);
    }
  g_main_context_pop_thread_default (context);

  g_main_context_unref (context);
  if (paused != NULL)
    {
      kaa_in_progress_resume (paused);
      g_assert_false (kaa_in_progress_is_paused (paused));
    }
  for (guint i = 0; i < own->len; i++)
    {
      if (!kaa_in_progress_is_done (own->pdata[i]))
        g_atomic_int_inc (&churn->not_done);
      kaa_in_progress_unref (own->pdata[i]);
    }
  for (guint i = 0; i < jobs->len; i++)
    kaa_in_progress_unref (jobs->pdata[i]);
  g_ptr_array_free (own, TRUE);
  g_ptr_array_free (jobs, TRUE);
}

static gpointer
churn_thread (gpointer data)
{
  Churn *churn = data;
  GRand *rand = g_rand_new ();

  while ((guint) g_atomic_int_add (&churn->made, 1) < churn->total)
    churn_one_context (churn, rand);
  g_rand_free (rand);
  return NULL;
}

static void
test_death_churn (void)
{
  const char *env = g_getenv ("KAA_CHURN_CONTEXTS");
  Churn churn = { 0 };
  GThread *threads[CHURN_THREADS];

  g_test_summary ("DESIGN §3: four threads make contexts, put coroutines, jobs, sleeps, "
                  "timeouts and combinators on them, act on each other's work, and "
                  "destroy them; nothing stays pending, every cleanup and callback "
                  "runs, nothing is left alive (KAA_CHURN_CONTEXTS sets the count)");
  churn.total = env != NULL ? (guint) g_ascii_strtoull (env, NULL, 10) : (TEST_TSAN ? 400 : 4000);
  g_mutex_init (&churn.lock);
  live_remember ();
  for (guint i = 0; i < CHURN_THREADS; i++)
    threads[i] = g_thread_new ("churn", churn_thread, &churn);
  for (guint i = 0; i < CHURN_THREADS; i++)
    g_thread_join (threads[i]);
  for (guint i = 0; i < CHURN_SHARED; i++)
    g_clear_pointer (&churn.shared[i], kaa_in_progress_unref);

  g_test_message ("%u contexts, %d coroutines, %d callbacks connected across threads",
                  churn.total, churn.spawned, churn.connected);
  g_assert_cmpint (churn.not_done, ==, 0);
  live_assert_back ();
  g_assert_cmpint (churn.cleanups, ==, churn.spawned);
  g_assert_cmpint (churn.called, ==, churn.connected);
  g_assert_cmpint (churn.destroyed, ==, churn.connected);
  g_mutex_clear (&churn.lock);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kaa/lifetimes/handover", test_handover);
  g_test_add_func ("/kaa/lifetimes/spawn-from-jobs", test_spawn_from_jobs);
  g_test_add_func ("/kaa/lifetimes/death/settles-everything", test_death_settles_everything);
  g_test_add_func ("/kaa/lifetimes/death/forgets-context", test_death_forgets_context);
  g_test_add_func ("/kaa/lifetimes/death/churn", test_death_churn);

  return g_test_run ();
}
