/* kaa-race.c: eight threads racing over a shared pool of InProgresses
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The race harness of tests/test-in-progress-threads.c (DESIGN §2 "Thread
 * safety"): eight worker threads finish, fail, cancel, connect and probe
 * a thousand InProgresses, each claimed by one finisher at most, while
 * the owner thread connects, disconnects, cancels and probes them and
 * iterates its context. Afterwards every InProgress is in exactly one
 * final state, matching its finisher, every callback ran exactly once on
 * the owner thread, and no result leaked. The seeds are printed with
 * g_test_message(), as the stress test's are.
 *
 *   owner (main)                     8 workers, 12 500 random ops each
 *   connect/disconnect, cancel,      finish_int64 / finish_pointer / fail
 *   probe, iterate the context       (each future claimed once), cancel,
 *                                    connect, get_state
 *   join; settle the rest; pump until every callback ran; check; unref
 */
#include "config.h"

#include "kaa-race.h"

#define RACE_FUTURES 1000
#define RACE_THREADS 8
#define RACE_OPS     100000
#define RACE_MAIN_OPS 10000

typedef enum
{
  FINISHER_NONE,
  FINISHER_INT64,
  FINISHER_POINTER,
  FINISHER_FAIL,
  FINISHER_OWNER,   /* the owner finished what nobody had claimed */
} Finisher;

typedef struct _Race Race;

typedef struct
{
  Race          *race;
  KaaInProgress *ip;
  guint          index;
  gint           claimed;      /* atomic: one finisher per future, by CAS */
  gint           finisher;     /* atomic: a Finisher */
  gint           cancels;      /* atomic */
  gint           connects;     /* atomic */
  gint           calls;        /* atomic */
  gint           destroys;     /* atomic */
  gint           seen_state;   /* atomic: the final state observers saw */
  gint           mismatches;   /* atomic */
} RaceSlot;

/* A callback the owner connected and may disconnect. */
typedef struct
{
  RaceSlot *slot;
  gulong    id;
  gint      calls;
  gint      destroys;
  gboolean  disconnected_before_call;
} OwnerConn;

struct _Race
{
  RaceSlot     *slots;
  GThread      *owner;
  gint          live_results;   /* atomic */
  gint          wrong_thread;   /* atomic */
  gint          total_connects; /* atomic */
  gint          total_calls;    /* atomic */
  gint          workers_left;   /* atomic */
  GMainContext *context;
  gint          go;             /* atomic: start line for every racer */
};

typedef struct
{
  Race    *race;
  guint32  seed;
  guint    n_ops;
} RaceWorker;

typedef struct
{
  Race *race;
} RaceResult;

static RaceResult *
race_result_new (Race *race)
{
  RaceResult *result = g_new (RaceResult, 1);

  result->race = race;
  g_atomic_int_inc (&race->live_results);
  return result;
}

static void
race_result_free (gpointer data)
{
  RaceResult *result = data;

  g_atomic_int_add (&result->race->live_results, -1);
  g_free (result);
}

/* Every observer of a final state must see the same one. */
static void
race_observe (RaceSlot *slot,
              KaaState  state)
{
  gint seen;

  if (state == KAA_STATE_PENDING)
    return;
  if (g_atomic_int_compare_and_exchange (&slot->seen_state, KAA_STATE_PENDING, state))
    return;
  seen = g_atomic_int_get (&slot->seen_state);
  if (seen != (gint) state)
    g_atomic_int_inc (&slot->mismatches);
}

static void
race_cb (KaaInProgress *self,
         gpointer       data)
{
  RaceSlot *slot = data;
  KaaState state = kaa_in_progress_get_state (self);

  if (g_thread_self () != slot->race->owner)
    g_atomic_int_inc (&slot->race->wrong_thread);
  if (state == KAA_STATE_PENDING)
    g_atomic_int_inc (&slot->mismatches);
  race_observe (slot, state);
  g_atomic_int_inc (&slot->calls);
  g_atomic_int_inc (&slot->race->total_calls);
}

static void
race_destroy (gpointer data)
{
  RaceSlot *slot = data;

  g_atomic_int_inc (&slot->destroys);
}

static void
owner_conn_cb (KaaInProgress *self,
               gpointer       data)
{
  OwnerConn *conn = data;

  g_assert_true (g_thread_self () == conn->slot->race->owner);
  g_assert_false (conn->disconnected_before_call);
  race_observe (conn->slot, kaa_in_progress_get_state (self));
  conn->calls++;
}

static void
owner_conn_destroy (gpointer data)
{
  ((OwnerConn *) data)->destroys++;
}

static void
race_finish (RaceSlot *slot,
             GRand    *rand)
{
  Finisher how = g_rand_int_range (rand, FINISHER_INT64, FINISHER_FAIL + 1);

  if (!g_atomic_int_compare_and_exchange (&slot->claimed, FALSE, TRUE))
    return;
  g_atomic_int_set (&slot->finisher, how);
  switch (how)
    {
    case FINISHER_INT64:
      kaa_in_progress_finish_int64 (slot->ip, slot->index);
      break;
    case FINISHER_POINTER:
      kaa_in_progress_finish_pointer (slot->ip, race_result_new (slot->race), race_result_free);
      break;
    case FINISHER_FAIL:
      kaa_in_progress_fail_literal (slot->ip, KAA_ERROR, KAA_ERROR_FAILED, "race");
      break;
    case FINISHER_NONE:
    case FINISHER_OWNER:
    default:
      g_assert_not_reached ();
    }
}

static void
race_connect (RaceSlot *slot)
{
  g_atomic_int_inc (&slot->connects);
  g_atomic_int_inc (&slot->race->total_connects);
  g_assert_cmpuint (kaa_in_progress_connect (slot->ip, race_cb, slot, race_destroy), !=, 0);
}

static void
race_probe (RaceSlot *slot)
{
  KaaState state = kaa_in_progress_get_state (slot->ip);

  race_observe (slot, state);
  /* A state once seen final stays final. */
  if (state != KAA_STATE_PENDING && !kaa_in_progress_is_done (slot->ip))
    g_atomic_int_inc (&slot->mismatches);
}

/* One random operation; the weights keep most futures pending for a
 * while, so that connects race with settling rather than all being late. */
static void
race_op (Race  *race,
         GRand *rand)
{
  RaceSlot *slot = &race->slots[g_rand_int_range (rand, 0, RACE_FUTURES)];
  gint r = g_rand_int_range (rand, 0, 100);

  if (r < 3)
    race_finish (slot, rand);
  else if (r < 5)
    {
      g_atomic_int_inc (&slot->cancels);
      kaa_in_progress_cancel (slot->ip);
    }
  else if (r < 50)
    race_connect (slot);
  else
    race_probe (slot);
}

static gpointer
race_thread (gpointer data)
{
  RaceWorker *worker = data;
  g_autoptr(GRand) rand = g_rand_new_with_seed (worker->seed);

  while (!g_atomic_int_get (&worker->race->go))
    g_thread_yield ();
  for (guint i = 0; i < worker->n_ops; i++)
    race_op (worker->race, rand);

  if (g_atomic_int_dec_and_test (&worker->race->workers_left))
    g_main_context_wakeup (worker->race->context);
  return NULL;
}

/* The owner's share: the same operations (its cancel and finish take the
 * synchronous owner paths), plus connect/disconnect pairs, which only the
 * owner may do. */
static void
race_owner_op (Race      *race,
               GRand     *rand,
               GPtrArray *conns)
{
  gint r = g_rand_int_range (rand, 0, 100);

  if (r < 20)
    {
      OwnerConn *conn = g_new0 (OwnerConn, 1);

      conn->slot = &race->slots[g_rand_int_range (rand, 0, RACE_FUTURES)];
      conn->id = kaa_in_progress_connect (conn->slot->ip, owner_conn_cb, conn,
                                          owner_conn_destroy);
      g_ptr_array_add (conns, conn);
    }
  else if (r < 30 && conns->len > 0)
    {
      OwnerConn *conn = g_ptr_array_index (conns, g_rand_int_range (rand, 0, conns->len));

      if (conn->calls == 0 && conn->destroys == 0)
        conn->disconnected_before_call = TRUE;
      kaa_in_progress_disconnect (conn->slot->ip, conn->id);
    }
  else
    race_op (race, rand);
}

static void
race_settle_rest (Race *race)
{
  for (guint i = 0; i < RACE_FUTURES; i++)
    {
      RaceSlot *slot = &race->slots[i];

      if (g_atomic_int_compare_and_exchange (&slot->claimed, FALSE, TRUE))
        {
          g_atomic_int_set (&slot->finisher, FINISHER_OWNER);
          /* Dropped quietly if a cancel is still on its way. */
          kaa_in_progress_finish_int64 (slot->ip, slot->index);
        }
    }
}

static gboolean
race_all_settled (Race *race)
{
  if (g_atomic_int_get (&race->total_calls) != g_atomic_int_get (&race->total_connects))
    return FALSE;
  for (guint i = 0; i < RACE_FUTURES; i++)
    if (!kaa_in_progress_is_done (race->slots[i].ip))
      return FALSE;
  return TRUE;
}

static void
race_check_slot (RaceSlot *slot)
{
  KaaState state = kaa_in_progress_get_state (slot->ip);
  Finisher finisher = g_atomic_int_get (&slot->finisher);

  race_observe (slot, state);
  g_assert_cmpint (slot->mismatches, ==, 0);
  g_assert_cmpint (slot->seen_state, ==, state);
  g_assert_cmpint (slot->calls, ==, slot->connects);
  g_assert_cmpint (slot->destroys, ==, slot->connects);

  switch (state)
    {
    case KAA_STATE_FINISHED:
      g_assert_null (kaa_in_progress_get_error (slot->ip));
      if (finisher == FINISHER_POINTER)
        g_assert_nonnull (kaa_in_progress_get_pointer (slot->ip));
      else
        {
          g_assert_true (finisher == FINISHER_INT64 || finisher == FINISHER_OWNER);
          g_assert_cmpint (kaa_in_progress_get_int64 (slot->ip), ==, slot->index);
        }
      break;
    case KAA_STATE_FAILED:
      g_assert_cmpint (finisher, ==, FINISHER_FAIL);
      g_assert_error (kaa_in_progress_get_error (slot->ip), KAA_ERROR, KAA_ERROR_FAILED);
      break;
    case KAA_STATE_CANCELLED:
      g_assert_cmpint (slot->cancels, >, 0);
      g_assert_error (kaa_in_progress_get_error (slot->ip), G_IO_ERROR, G_IO_ERROR_CANCELLED);
      break;
    case KAA_STATE_PENDING:
    default:
      g_assert_not_reached ();
    }
}

/* Counts the states the slots ended in and checks each slot and each
 * callback the owner connected. */
static void
race_check (Race      *race,
            GPtrArray *conns,
            guint      owner_ops)
{
  guint counts[4] = { 0 };

  g_assert_cmpint (race->wrong_thread, ==, 0);
  for (guint i = 0; i < RACE_FUTURES; i++)
    {
      race_check_slot (&race->slots[i]);
      counts[kaa_in_progress_get_state (race->slots[i].ip) - KAA_STATE_PENDING]++;
    }
  for (guint i = 0; i < conns->len; i++)
    {
      OwnerConn *conn = g_ptr_array_index (conns, i);

      g_assert_cmpint (conn->destroys, ==, 1);
      g_assert_cmpint (conn->calls, ==, conn->disconnected_before_call ? 0 : 1);
    }
  g_test_message ("owner ops %u; finished %u, failed %u, cancelled %u; "
                  "%d worker callbacks, %u owner callbacks",
                  owner_ops, counts[KAA_STATE_FINISHED], counts[KAA_STATE_FAILED],
                  counts[KAA_STATE_CANCELLED], race->total_calls, conns->len);
}

/* Starts the workers, each with a seed of its own, and lets them go. */
static void
race_start (Race       *race,
            RaceWorker *workers,
            GThread   **threads)
{
  for (guint i = 0; i < RACE_FUTURES; i++)
    {
      race->slots[i].race = race;
      race->slots[i].index = i;
      race->slots[i].ip = kaa_in_progress_new ();
    }
  for (guint t = 0; t < RACE_THREADS; t++)
    {
      workers[t] = (RaceWorker) { race, g_test_rand_int (), RACE_OPS / RACE_THREADS };
      g_test_message ("worker %u seed %" G_GUINT32_FORMAT, t, workers[t].seed);
    }
  for (guint t = 0; t < RACE_THREADS; t++)
    threads[t] = g_thread_new ("racer", race_thread, &workers[t]);
  g_atomic_int_set (&race->go, TRUE);
}

/**
 * kaa_race_run:
 * @context: the owner's context, thread-default on the calling thread
 *
 * Runs the race on @context and asserts its outcome (see the top of this
 * file). Returns once every InProgress of the race is gone.
 */
void
kaa_race_run (GMainContext *context)
{
  g_autofree RaceSlot *slots = g_new0 (RaceSlot, RACE_FUTURES);
  g_autoptr(GPtrArray) conns = g_ptr_array_new_with_free_func (g_free);
  RaceWorker workers[RACE_THREADS];
  GThread *threads[RACE_THREADS];
  Race race = { slots, g_thread_self (), 0, 0, 0, 0, RACE_THREADS, context, FALSE };
  guint32 owner_seed = g_test_rand_int ();
  g_autoptr(GRand) owner_rand = g_rand_new_with_seed (owner_seed);
  guint owner_ops = 0;

  g_test_message ("owner seed %" G_GUINT32_FORMAT, owner_seed);
  race_start (&race, workers, threads);
  while (g_atomic_int_get (&race.workers_left) > 0)
    {
      if (owner_ops < RACE_MAIN_OPS)
        {
          for (guint i = 0; i < 10; i++, owner_ops++)
            race_owner_op (&race, owner_rand, conns);
          g_main_context_iteration (context, FALSE);
        }
      else
        g_main_context_iteration (context, TRUE);
    }
  for (guint t = 0; t < RACE_THREADS; t++)
    g_thread_join (threads[t]);

  race_settle_rest (&race);
  while (!race_all_settled (&race))
    g_main_context_iteration (context, TRUE);
  while (g_main_context_iteration (context, FALSE))
    ;
  race_check (&race, conns, owner_ops);

  for (guint i = 0; i < RACE_FUTURES; i++)
    g_clear_pointer (&slots[i].ip, kaa_in_progress_unref);
  g_assert_cmpint (g_atomic_int_get (&race.live_results), ==, 0);
}
