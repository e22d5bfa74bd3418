/* test-channel.c: KaaChannel between coroutines, the loop and threads (DESIGN §9; issue #18)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Items are counted: each one is a heap integer whose destroy notify
 * counts, so that every test can check that an item was received exactly
 * once or freed exactly once, never both and never neither.
 */
#include "config.h"

#include "kaa-test-util.h"

typedef KaaTestFixture Fixture;

#define KAA_TEST_AREA "channel"

static gint n_destroyed;   /* atomic */

static gpointer
item_new (gint value)
{
  gint *item = g_new (gint, 1);

  *item = value;
  return item;
}

static void
item_free (gpointer item)
{
  g_atomic_int_inc (&n_destroyed);
  g_free (item);
}

static KaaChannel *
channel_new (guint capacity)
{
  g_atomic_int_set (&n_destroyed, 0);
  return kaa_channel_new_full (capacity, item_free);
}

/* The item a finished receive holds. */
static gint
received (KaaInProgress *receive)
{
  g_assert_cmpint (kaa_in_progress_get_state (receive), ==, KAA_STATE_FINISHED);
  return *(gint *) kaa_in_progress_get_pointer (receive);
}

static void
assert_closed (KaaInProgress *ip)
{
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_FAILED);
  g_assert_error (kaa_in_progress_get_error (ip), KAA_ERROR, KAA_ERROR_CLOSED);
}

static void
test_buffered (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(KaaChannel) ch = channel_new (2);
  g_autoptr(KaaInProgress) s1 = NULL, s2 = NULL, s3 = NULL, r1 = NULL, r2 = NULL, r3 = NULL;

  g_test_summary ("DESIGN §9: a send finishes at once while there is room, waits "
                  "while the channel is full, and items come out in order");
  g_test_bug ("18");

  s1 = kaa_channel_send (ch, item_new (1));
  s2 = kaa_channel_send (ch, item_new (2));
  s3 = kaa_channel_send (ch, item_new (3));
  g_assert_true (kaa_in_progress_get_boolean (s1));
  g_assert_true (kaa_in_progress_get_boolean (s2));
  g_assert_false (kaa_in_progress_is_done (s3));
  g_assert_cmpuint (kaa_channel_get_length (ch), ==, 2);

  r1 = kaa_channel_receive (ch);
  g_assert_cmpint (received (r1), ==, 1);
  /* The receive made room: the waiting send went in. */
  g_assert_true (kaa_in_progress_get_boolean (s3));
  r2 = kaa_channel_receive (ch);
  r3 = kaa_channel_receive (ch);
  g_assert_cmpint (received (r2), ==, 2);
  g_assert_cmpint (received (r3), ==, 3);
  g_assert_cmpuint (kaa_channel_get_length (ch), ==, 0);
}

static void
test_rendezvous (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(KaaChannel) ch = channel_new (0);
  g_autoptr(KaaInProgress) send = NULL, receive = NULL, early = NULL, late = NULL;

  g_test_summary ("DESIGN §9: on a rendezvous channel a send finishes only when a "
                  "receiver takes its item, and a waiting receiver gets the next send");
  g_test_bug ("18");

  send = kaa_channel_send (ch, item_new (7));
  g_assert_false (kaa_in_progress_is_done (send));
  g_assert_false (kaa_channel_try_send (ch, GINT_TO_POINTER (1)));
  receive = kaa_channel_receive (ch);
  g_assert_cmpint (received (receive), ==, 7);
  g_assert_true (kaa_in_progress_get_boolean (send));

  early = kaa_channel_receive (ch);
  g_assert_false (kaa_in_progress_is_done (early));
  late = kaa_channel_send (ch, item_new (8));
  g_assert_true (kaa_in_progress_get_boolean (late));
  g_assert_cmpint (received (early), ==, 8);
}

static void
test_unbounded (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(KaaChannel) ch = channel_new (KAA_CHANNEL_UNBOUNDED);
  gpointer item;

  g_test_summary ("DESIGN §9: an unbounded channel never makes a sender wait");
  g_test_bug ("18");

  for (gint i = 0; i < 10000; i++)
    {
      KaaInProgress *send = kaa_channel_send (ch, item_new (i));

      g_assert_true (kaa_in_progress_get_boolean (send));
      kaa_in_progress_unref (send);
    }
  g_assert_cmpuint (kaa_channel_get_length (ch), ==, 10000);
  for (gint i = 0; i < 5000; i++)
    {
      g_assert_true (kaa_channel_try_receive (ch, &item));
      g_assert_cmpint (*(gint *) item, ==, i);
      g_free (item);
    }
  /* The other half goes with the channel, to the destroy notify. */
  g_clear_pointer (&ch, kaa_channel_unref);
  g_assert_cmpint (n_destroyed, ==, 5000);
}

static void
test_close (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(KaaChannel) ch = channel_new (1);
  g_autoptr(KaaInProgress) s1 = NULL, waiting = NULL, after = NULL;
  g_autoptr(KaaInProgress) r1 = NULL, r2 = NULL, r3 = NULL;

  g_test_summary ("DESIGN §9: after a close, items already in are still received, then "
                  "receives fail with KAA_ERROR_CLOSED; sends fail at once and free their item");
  g_test_bug ("18");

  s1 = kaa_channel_send (ch, item_new (1));
  waiting = kaa_channel_send (ch, item_new (2));
  g_assert_false (kaa_in_progress_is_done (waiting));
  kaa_channel_close (ch);
  g_assert_true (kaa_channel_is_closed (ch));
  /* The waiting send was not in yet: it fails, and its item is freed. */
  assert_closed (waiting);
  g_assert_cmpint (n_destroyed, ==, 1);
  after = kaa_channel_send (ch, item_new (3));
  assert_closed (after);
  g_assert_cmpint (n_destroyed, ==, 2);

  r1 = kaa_channel_receive (ch);
  g_assert_cmpint (received (r1), ==, 1);
  r2 = kaa_channel_receive (ch);
  assert_closed (r2);
  g_assert_false (kaa_channel_try_send (ch, GINT_TO_POINTER (1)));
  kaa_channel_close (ch);
  r3 = kaa_channel_receive (ch);
  assert_closed (r3);
}

static void
test_close_wakes_receivers (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(KaaChannel) ch = channel_new (4);
  g_autoptr(KaaInProgress) r1 = kaa_channel_receive (ch);
  g_autoptr(KaaInProgress) r2 = kaa_channel_receive (ch);
  g_autoptr(GError) why = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE, "gone");
  g_autoptr(KaaInProgress) r3 = NULL;

  g_test_summary ("DESIGN §9: a close fails the receives waiting on an empty channel, "
                  "with the error given to close_with_error() when there is one");
  g_test_bug ("18");

  g_assert_false (kaa_in_progress_is_done (r1));
  kaa_channel_close_with_error (ch, why);
  g_assert_error (kaa_in_progress_get_error (r1), G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE);
  g_assert_error (kaa_in_progress_get_error (r2), G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE);
  r3 = kaa_channel_receive (ch);
  g_assert_error (kaa_in_progress_get_error (r3), G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE);
}

static void
test_cancel_send (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(KaaChannel) ch = channel_new (0);
  g_autoptr(KaaInProgress) send = NULL, other = NULL, receive = NULL;

  g_test_summary ("DESIGN §9: a cancelled send leaves its item out of the channel, "
                  "and the item's destroy notify runs");
  g_test_bug ("18");

  send = kaa_channel_send (ch, item_new (1));
  other = kaa_channel_send (ch, item_new (2));
  kaa_in_progress_cancel (send);
  g_assert_cmpint (kaa_in_progress_get_state (send), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (n_destroyed, ==, 1);
  receive = kaa_channel_receive (ch);
  g_assert_cmpint (received (receive), ==, 2);
  g_assert_true (kaa_in_progress_get_boolean (other));
}

static void
test_cancel_receive (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(KaaChannel) ch = channel_new (1);
  g_autoptr(KaaInProgress) r1 = NULL, r2 = NULL, send = NULL, dropped = NULL;
  gpointer item = NULL;

  g_test_summary ("DESIGN §9: a cancelled receive takes no item: the next one goes to "
                  "the next receiver; a receive dropped while it waits takes none either");
  g_test_bug ("18");

  r1 = kaa_channel_receive (ch);
  r2 = kaa_channel_receive (ch);
  kaa_in_progress_cancel (r1);
  g_assert_cmpint (kaa_in_progress_get_state (r1), ==, KAA_STATE_CANCELLED);
  send = kaa_channel_send (ch, item_new (5));
  g_assert_cmpint (received (r2), ==, 5);

  dropped = kaa_channel_receive (ch);
  g_clear_pointer (&dropped, kaa_in_progress_unref);
  g_assert_true (kaa_channel_try_send (ch, item_new (6)));
  g_assert_cmpuint (kaa_channel_get_length (ch), ==, 1);
  g_assert_true (kaa_channel_try_receive (ch, &item));
  g_assert_cmpint (*(gint *) item, ==, 6);
  g_free (item);
  g_assert_cmpint (n_destroyed, ==, 0);
}

static void
test_pause_receive (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(KaaChannel) ch = channel_new (0);
  g_autoptr(KaaInProgress) r1 = NULL, r2 = NULL, s1 = NULL, s2 = NULL, s3 = NULL;

  g_test_summary ("DESIGN §9, §6: a paused receiver is skipped and swallows no item; "
                  "resumed, it keeps its place and is served next");
  g_test_bug ("18");

  r1 = kaa_channel_receive (ch);
  r2 = kaa_channel_receive (ch);
  kaa_in_progress_pause (r1);
  s1 = kaa_channel_send (ch, item_new (1));
  g_assert_false (kaa_in_progress_is_done (r1));
  g_assert_cmpint (received (r2), ==, 1);

  /* Paused alone: a send waits rather than give it the item. */
  s2 = kaa_channel_send (ch, item_new (2));
  g_assert_false (kaa_in_progress_is_done (s2));
  kaa_in_progress_resume (r1);
  g_assert_cmpint (received (r1), ==, 2);
  g_assert_true (kaa_in_progress_get_boolean (s2));
  s3 = kaa_channel_send (ch, item_new (3));
  g_assert_false (kaa_in_progress_is_done (s3));
  kaa_in_progress_cancel (s3);
  g_assert_cmpint (n_destroyed, ==, 1);
}

static void
test_pause_send (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(KaaChannel) ch = channel_new (0);
  g_autoptr(KaaInProgress) s1 = NULL, s2 = NULL, r1 = NULL, r2 = NULL;

  g_test_summary ("DESIGN §9, §6: a paused send gives no item until it is resumed; the "
                  "sends behind it go first");
  g_test_bug ("18");

  s1 = kaa_channel_send (ch, item_new (1));
  s2 = kaa_channel_send (ch, item_new (2));
  kaa_in_progress_pause (s1);
  r1 = kaa_channel_receive (ch);
  g_assert_cmpint (received (r1), ==, 2);
  r2 = kaa_channel_receive (ch);
  g_assert_false (kaa_in_progress_is_done (r2));
  g_assert_false (kaa_in_progress_is_done (s1));
  kaa_in_progress_resume (s1);
  g_assert_true (kaa_in_progress_get_boolean (s1));
  g_assert_cmpint (received (r2), ==, 1);
}

/* ---------------------------------------------------------- coroutines */

typedef struct
{
  KaaChannel *ch;
  KaaChannel *back;
  gint        n;
  gint        sum;
  gboolean    ended;
  GError     *error;
} Loop;

static void
body_consumer (KaaCoroutine *co,
               gpointer      data)
{
  Loop *loop = data;
  gpointer item;

  while (kaa_channel_await_next (loop->ch, &item, &loop->error))
    {
      loop->sum += *(gint *) item;
      loop->n++;
      g_free (item);
    }
  loop->ended = TRUE;
}

static void
body_producer (KaaCoroutine *co,
               gpointer      data)
{
  Loop *loop = data;

  for (gint i = 1; i <= 100; i++)
    if (!kaa_await (kaa_channel_send (loop->ch, item_new (i)), NULL))
      return;
  kaa_channel_close (loop->ch);
}

static void
test_coroutines (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(KaaChannel) ch = channel_new (3);
  Loop loop = { ch };
  g_autoptr(KaaInProgress) consumer = NULL, producer = NULL;

  g_test_summary ("DESIGN §9: a coroutine loops over a channel with await_next(), "
                  "which ends without an error once the channel is closed and empty");
  g_test_bug ("18");

  consumer = kaa_coroutine_spawn (body_consumer, &loop, NULL);
  producer = kaa_coroutine_spawn (body_producer, &loop, NULL);
  kaa_test_pump_until_done (f->context, consumer);
  g_assert_true (loop.ended);
  g_assert_no_error (loop.error);
  g_assert_cmpint (loop.n, ==, 100);
  g_assert_cmpint (loop.sum, ==, 5050);
  g_assert_true (kaa_in_progress_is_done (producer));
}

static void
test_await_next_cancel (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(KaaChannel) ch = channel_new (2);
  Loop loop = { ch };
  g_autoptr(KaaInProgress) consumer = NULL;
  gpointer item = NULL;

  g_test_summary ("DESIGN §9: a coroutine cancelled in await_next() gets "
                  "G_IO_ERROR_CANCELLED and takes no item");
  g_test_bug ("18");

  consumer = kaa_coroutine_spawn (body_consumer, &loop, NULL);
  g_assert_true (kaa_channel_try_send (ch, item_new (1)));
  kaa_test_drain (f->context);
  g_assert_cmpint (loop.n, ==, 1);
  kaa_in_progress_cancel (consumer);
  g_assert_true (loop.ended);
  g_assert_error (loop.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&loop.error);
  g_assert_true (kaa_channel_try_send (ch, item_new (2)));
  g_assert_true (kaa_channel_try_receive (ch, &item));
  g_assert_cmpint (*(gint *) item, ==, 2);
  g_free (item);
}

static void
test_misuse (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(KaaChannel) ch = kaa_channel_new (1);
  g_autoptr(KaaInProgress) send = NULL, receive = NULL, null_send = NULL;
  GValue value = G_VALUE_INIT;

  g_test_summary ("STYLE §5: misuse of a channel is a critical naming it, and an "
                  "InProgress that failed, never NULL");
  g_test_bug ("18");

  g_value_init (&value, G_TYPE_INT);
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*KaaChannel 0x*kaa_channel_new_for_values*");
  send = kaa_channel_send_value (ch, &value);
  g_test_assert_expected_messages ();
  g_assert_error (kaa_in_progress_get_error (send), KAA_ERROR, KAA_ERROR_INVALID_ARGUMENT);
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*KaaChannel 0x*kaa_channel_new_for_values*");
  receive = kaa_channel_receive_value (ch);
  g_test_assert_expected_messages ();
  g_assert_error (kaa_in_progress_get_error (receive), KAA_ERROR, KAA_ERROR_INVALID_ARGUMENT);
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*self != NULL*");
  null_send = kaa_channel_send (NULL, NULL);
  g_test_assert_expected_messages ();
  g_assert_cmpint (kaa_in_progress_get_state (null_send), ==, KAA_STATE_FAILED);
}

static void
test_await_next_outside (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(KaaChannel) ch = channel_new (1);
  g_autoptr(GError) error = NULL;
  gpointer item = NULL;

  g_test_summary ("DESIGN §4, §9: await_next() outside a coroutine is a critical and an "
                  "error, and the item it could have taken stays in the channel");
  g_test_bug ("18");

  g_assert_true (kaa_channel_try_send (ch, item_new (4)));
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*not called from a coroutine*");
  g_assert_false (kaa_channel_await_next (ch, &item, &error));
  g_test_assert_expected_messages ();
  g_assert_error (error, KAA_ERROR, KAA_ERROR_NOT_IN_COROUTINE);
  g_assert_true (kaa_channel_try_receive (ch, &item));
  g_assert_cmpint (*(gint *) item, ==, 4);
  g_free (item);
}

static void
test_values (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(KaaChannel) ch = kaa_channel_new_for_values (1);
  g_autoptr(KaaInProgress) send = NULL, receive = NULL, early = NULL, late = NULL;
  GValue value = G_VALUE_INIT, out = G_VALUE_INIT;

  g_test_summary ("DESIGN §9: GValues go through a channel made for values, the form "
                  "language bindings use");
  g_test_bug ("18");

  g_value_init (&value, G_TYPE_STRING);
  g_value_set_string (&value, "hello");
  send = kaa_channel_send_value (ch, &value);
  g_value_unset (&value);
  g_assert_true (kaa_in_progress_get_boolean (send));
  receive = kaa_channel_receive_value (ch);
  kaa_in_progress_get_value (receive, &out);
  g_assert_cmpstr (g_value_get_string (&out), ==, "hello");
  g_value_unset (&out);

  early = kaa_channel_receive_value (ch);
  g_value_init (&value, G_TYPE_INT);
  g_value_set_int (&value, 42);
  late = kaa_channel_send_value (ch, &value);
  kaa_in_progress_get_value (early, &out);
  g_assert_cmpint (g_value_get_int (&out), ==, 42);
  g_value_unset (&out);
  /* One left in the channel goes with it. */
  g_clear_pointer (&send, kaa_in_progress_unref);
  send = kaa_channel_send_value (ch, &value);
  g_assert_cmpuint (kaa_channel_get_length (ch), ==, 1);
}

/* ------------------------------------------------------------ threads */

#define N_THREAD_ITEMS 2000

static gpointer
job_send_items (KaaThreadJob *job,
                gpointer      data,
                GError      **error)
{
  KaaChannel *ch = data;

  for (gint i = 1; i <= N_THREAD_ITEMS; i++)
    if (!kaa_channel_send_blocking (ch, item_new (i), kaa_thread_job_get_cancellable (job), error))
      return NULL;
  return NULL;
}

static gpointer
job_receive_items (KaaThreadJob *job,
                   gpointer      data,
                   GError      **error)
{
  KaaChannel *ch = data;
  gint64 sum = 0;
  gpointer item;
  g_autoptr(GError) local = NULL;

  while (kaa_channel_receive_blocking (ch, &item, kaa_thread_job_get_cancellable (job), &local))
    {
      sum += *(gint *) item;
      g_free (item);
    }
  g_assert_error (local, KAA_ERROR, KAA_ERROR_CLOSED);
  kaa_thread_job_return_int64 (job, sum);
  return NULL;
}

static void
body_send_items (KaaCoroutine *co,
                 gpointer      data)
{
  for (gint i = 1; i <= N_THREAD_ITEMS; i++)
    if (!kaa_await (kaa_channel_send (data, item_new (i)), NULL))
      return;
}

typedef struct
{
  KaaChannel *ch;
  gint64      sum;
  gint        n;
} Sum;

static void
body_sum_items (KaaCoroutine *co,
                gpointer      data)
{
  Sum *sum = data;
  gpointer item;

  while (kaa_channel_await_next (sum->ch, &item, NULL))
    {
      sum->sum += *(gint *) item;
      sum->n++;
      g_free (item);
    }
}

static void
test_threads_to_coroutines (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(KaaThreadPool) pool = kaa_test_pool_new (4);
  g_autoptr(KaaChannel) ch = channel_new (8);
  KaaInProgress *producers[4], *consumers[2];
  Sum sums[2] = { { ch }, { ch } };
  g_autoptr(KaaInProgress) all = NULL;

  g_test_summary ("DESIGN §9: thread jobs send with backpressure to coroutines on the "
                  "main loop; every item is received exactly once");
  g_test_bug ("18");

  for (guint i = 0; i < G_N_ELEMENTS (producers); i++)
    producers[i] = kaa_thread_pool_run (pool, 0, job_send_items, ch, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (consumers); i++)
    consumers[i] = kaa_coroutine_spawn (body_sum_items, &sums[i], NULL);
  all = kaa_all (producers, G_N_ELEMENTS (producers));
  kaa_test_pump_until_done (f->context, all);
  kaa_channel_close (ch);
  for (guint i = 0; i < G_N_ELEMENTS (consumers); i++)
    {
      kaa_test_pump_until_done (f->context, consumers[i]);
      kaa_in_progress_unref (consumers[i]);
    }
  g_assert_cmpint (sums[0].n + sums[1].n, ==, 4 * N_THREAD_ITEMS);
  g_assert_cmpint (sums[0].sum + sums[1].sum, ==,
                   4 * (gint64) N_THREAD_ITEMS * (N_THREAD_ITEMS + 1) / 2);
  g_assert_cmpint (n_destroyed, ==, 0);
}

static void
test_coroutines_to_threads (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(KaaThreadPool) pool = kaa_test_pool_new (4);
  g_autoptr(KaaChannel) ch = channel_new (0);
  KaaInProgress *producers[3], *consumers[3];
  g_autoptr(KaaInProgress) sent = NULL;
  gint64 total = 0;

  g_test_summary ("DESIGN §9: coroutines send through a rendezvous channel to thread "
                  "jobs blocked in receive_blocking(); every item arrives once");
  g_test_bug ("18");

  for (guint i = 0; i < G_N_ELEMENTS (consumers); i++)
    consumers[i] = kaa_thread_pool_run (pool, 0, job_receive_items, ch, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (producers); i++)
    producers[i] = kaa_coroutine_spawn (body_send_items, ch, NULL);
  sent = kaa_all (producers, G_N_ELEMENTS (producers));
  kaa_test_pump_until_done (f->context, sent);
  kaa_channel_close (ch);
  for (guint i = 0; i < G_N_ELEMENTS (consumers); i++)
    {
      kaa_test_pump_until_done (f->context, consumers[i]);
      total += kaa_in_progress_get_int64 (consumers[i]);
      kaa_in_progress_unref (consumers[i]);
    }
  g_assert_cmpint (total, ==, 3 * (gint64) N_THREAD_ITEMS * (N_THREAD_ITEMS + 1) / 2);
}

typedef struct
{
  KaaChannel *ch;
  gint64      sum;      /* a receiver's */
  guint       n;        /* a receiver's */
} Mpmc;

static gpointer
thread_mpmc_send (gpointer data)
{
  Mpmc *mpmc = data;

  for (gint i = 1; i <= N_THREAD_ITEMS; i++)
    g_assert_true (kaa_channel_send_blocking (mpmc->ch, item_new (i), NULL, NULL));
  return NULL;
}

static gpointer
thread_mpmc_receive (gpointer data)
{
  Mpmc *mpmc = data;
  gpointer item;

  while (kaa_channel_receive_blocking (mpmc->ch, &item, NULL, NULL))
    {
      mpmc->sum += *(gint *) item;
      mpmc->n++;
      g_free (item);
    }
  return NULL;
}

static void
test_threads_mpmc (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(KaaChannel) ch = channel_new (2);
  Mpmc senders[4], receivers[4];
  GThread *threads[8];
  gint64 sum = 0;
  guint n = 0;

  g_test_summary ("DESIGN §9: four threads send and four receive through a channel of "
                  "two, all blocking; every item is received exactly once");
  g_test_bug ("18");

  for (guint i = 0; i < 4; i++)
    {
      senders[i] = (Mpmc) { ch, 0, 0 };
      receivers[i] = (Mpmc) { ch, 0, 0 };
      threads[i] = g_thread_new ("receiver", thread_mpmc_receive, &receivers[i]);
      threads[4 + i] = g_thread_new ("sender", thread_mpmc_send, &senders[i]);
    }
  for (guint i = 4; i < 8; i++)
    g_thread_join (threads[i]);
  kaa_channel_close (ch);
  for (guint i = 0; i < 4; i++)
    {
      g_thread_join (threads[i]);
      sum += receivers[i].sum;
      n += receivers[i].n;
    }
  g_assert_cmpuint (n, ==, 4 * N_THREAD_ITEMS);
  g_assert_cmpint (sum, ==, 4 * (gint64) N_THREAD_ITEMS * (N_THREAD_ITEMS + 1) / 2);
  g_assert_cmpint (n_destroyed, ==, 0);
}

typedef struct
{
  KaaChannel   *ch;
  GCancellable *cancellable;
  gint          started;
  gboolean      got;
  GError       *error;
} Blocker;

static gpointer
thread_blocked_receive (gpointer data)
{
  Blocker *blocker = data;
  gpointer item = NULL;

  g_atomic_int_set (&blocker->started, 1);
  blocker->got = kaa_channel_receive_blocking (blocker->ch, &item, blocker->cancellable,
                                               &blocker->error);
  return item;
}

static void
test_blocking_cancel (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(KaaChannel) ch = channel_new (1);
  Blocker blocker = { ch, g_cancellable_new () };
  GThread *thread;
  gpointer item;

  g_test_summary ("DESIGN §9: a thread blocked in receive_blocking() is woken by its "
                  "GCancellable and takes no item");
  g_test_bug ("18");

  thread = g_thread_new ("blocked", thread_blocked_receive, &blocker);
  kaa_test_spin_until (&blocker.started, 1);
  g_usleep (2000);
  g_cancellable_cancel (blocker.cancellable);
  g_assert_null (g_thread_join (thread));
  g_assert_false (blocker.got);
  g_assert_error (blocker.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&blocker.error);
  g_assert_true (kaa_channel_try_send (ch, item_new (3)));
  g_assert_true (kaa_channel_try_receive (ch, &item));
  g_free (item);
  g_object_unref (blocker.cancellable);
}

/* Receives cancelled on one thread while another sends: each item is
 * received exactly once or stays, whoever wins each race. */
typedef struct
{
  KaaChannel     *ch;
  KaaInProgress **receives;
  guint           n;
  gint            go;
} Race;

static gpointer
thread_cancel_all (gpointer data)
{
  Race *race = data;

  kaa_test_spin_until (&race->go, 1);
  for (guint i = 0; i < race->n; i++)
    kaa_in_progress_cancel (race->receives[i]);
  return NULL;
}

static gpointer
thread_send_all (gpointer data)
{
  Race *race = data;

  kaa_test_spin_until (&race->go, 1);
  for (guint i = 0; i < race->n; i++)
    g_assert_true (kaa_channel_try_send (race->ch, item_new ((gint) i)));
  return NULL;
}

static void
test_cancel_race (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(KaaChannel) ch = channel_new (KAA_CHANNEL_UNBOUNDED);
  Race race = { ch, NULL, 2000, 0 };
  GThread *canceller, *sender;
  guint n_received = 0, n_left = 0;
  gpointer item;

  g_test_summary ("DESIGN §9: a receive cancelled on another thread while items arrive "
                  "either got one item or none, and no item is lost");
  g_test_bug ("18");

  race.receives = g_new (KaaInProgress *, race.n);
  for (guint i = 0; i < race.n; i++)
    race.receives[i] = kaa_channel_receive (ch);
  canceller = g_thread_new ("canceller", thread_cancel_all, &race);
  sender = g_thread_new ("sender", thread_send_all, &race);
  g_atomic_int_set (&race.go, 1);
  g_thread_join (canceller);
  g_thread_join (sender);
  kaa_test_drain (f->context);
  for (guint i = 0; i < race.n; i++)
    {
      KaaState state = kaa_in_progress_get_state (race.receives[i]);

      g_assert_true (state == KAA_STATE_FINISHED || state == KAA_STATE_CANCELLED);
      n_received += state == KAA_STATE_FINISHED;
      kaa_in_progress_unref (race.receives[i]);
    }
  while (kaa_channel_try_receive (ch, &item))
    {
      n_left++;
      g_free (item);
    }
  g_assert_cmpuint (n_received + n_left, ==, race.n);
  g_assert_cmpint (n_destroyed, ==, (gint) n_received);
  g_free (race.receives);
}

static gpointer
thread_blocked_send (gpointer data)
{
  Blocker *blocker = data;

  g_atomic_int_set (&blocker->started, 1);
  blocker->got = kaa_channel_send_blocking (blocker->ch, item_new (9), NULL, &blocker->error);
  return NULL;
}

static void
test_last_unref_closes (Fixture       *f,
                        gconstpointer  data)
{
  KaaChannel *ch = channel_new (0);
  Blocker blocker = { ch };
  g_autoptr(KaaInProgress) receive = NULL;
  GThread *thread;

  g_test_summary ("DESIGN §9: dropping the last reference to a channel closes it: what "
                  "waits in it fails with KAA_ERROR_CLOSED, a blocked thread too");
  g_test_bug ("18");

  receive = kaa_channel_receive (ch);
  kaa_in_progress_pause (receive);
  thread = g_thread_new ("blocked", thread_blocked_send, &blocker);
  kaa_test_spin_until (&blocker.started, 1);
  g_usleep (2000);
  kaa_channel_unref (ch);
  g_thread_join (thread);
  /* The paused receive took nothing, so the send waited: the close failed
   * it, and its item went to the destroy notify. */
  g_assert_false (blocker.got);
  g_assert_error (blocker.error, KAA_ERROR, KAA_ERROR_CLOSED);
  g_clear_error (&blocker.error);
  g_assert_cmpint (n_destroyed, ==, 1);
  kaa_in_progress_resume (receive);
  kaa_test_drain (f->context);
  g_assert_error (kaa_in_progress_get_error (receive), KAA_ERROR, KAA_ERROR_CLOSED);
}

/* A cancel from another thread leaves the waiter in line until the owner
 * context runs the cascade: a blocking call that meets it there claims it
 * in vain, and must still drop what the claim took.
 *
 *   main                      canceller            main
 *   waiting = send/receive
 *                             cancel (waiting)
 *                             (queued to main)
 *                                                  *_blocking(), cancelled
 *                                                  cancellable: claims
 *                                                  `waiting` in vain, gives up
 *   drain: cascade, release
 */
static gpointer
thread_cancel (gpointer data)
{
  kaa_in_progress_cancel (data);
  return NULL;
}

static void
cancel_from_thread (KaaInProgress *ip)
{
  g_thread_join (g_thread_new ("canceller", thread_cancel, ip));
  g_assert_false (kaa_in_progress_is_done (ip));
}

static void
test_blocking_meets_cancelled (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(KaaChannel) ch = channel_new (0);
  g_autoptr(GCancellable) cancelled = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  KaaInProgress *waiting;
  gpointer item = NULL;

  g_test_summary ("DESIGN §9: a blocking send or receive that meets a waiter cancelled "
                  "from another thread leaks neither the waiter nor its item");
  g_test_bug ("18");

  g_cancellable_cancel (cancelled);
  waiting = kaa_channel_receive (ch);
  cancel_from_thread (waiting);
  g_assert_false (kaa_channel_send_blocking (ch, item_new (1), cancelled, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_cmpint (n_destroyed, ==, 1);
  kaa_test_drain (f->context);
  g_assert_cmpint (kaa_in_progress_get_state (waiting), ==, KAA_STATE_CANCELLED);
  kaa_in_progress_unref (waiting);

  waiting = kaa_channel_send (ch, item_new (2));
  cancel_from_thread (waiting);
  g_assert_false (kaa_channel_receive_blocking (ch, &item, cancelled, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (item);
  kaa_test_drain (f->context);
  g_assert_cmpint (kaa_in_progress_get_state (waiting), ==, KAA_STATE_CANCELLED);
  kaa_in_progress_unref (waiting);
  /* The cancelled send's item was freed, not kept by a lost reference. */
  g_assert_cmpint (n_destroyed, ==, 2);
}

static void
blocks_in_coroutine (KaaCoroutine *co,
                     gpointer      data)
{
  KaaChannel *ch = data;
  g_autoptr(GError) error = NULL;
  gpointer item = NULL;

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*called inside a coroutine*");
  g_assert_false (kaa_channel_receive_blocking (ch, &item, NULL, &error));
  g_test_assert_expected_messages ();
  g_assert_error (error, KAA_ERROR, KAA_ERROR_IN_COROUTINE);
  g_assert_null (item);
  g_clear_error (&error);

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*called inside a coroutine*");
  g_assert_false (kaa_channel_send_blocking (ch, item_new (2), NULL, &error));
  g_test_assert_expected_messages ();
  g_assert_error (error, KAA_ERROR, KAA_ERROR_IN_COROUTINE);
}

static void
test_blocking_in_coroutine (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(KaaChannel) ch = channel_new (1);
  g_autoptr(KaaInProgress) co = NULL;
  gpointer item;

  g_test_summary ("DESIGN §4, §9: a coroutine never blocks its thread in a channel: "
                  "send_blocking and receive_blocking inside one are a critical and "
                  "KAA_ERROR_IN_COROUTINE, even when they would not block, and move "
                  "no item");
  g_test_bug ("18");

  /* An item to take and room to send into: neither would block. */
  g_assert_true (kaa_channel_try_send (ch, item_new (1)));
  co = kaa_coroutine_spawn (blocks_in_coroutine, ch, NULL);
  g_assert_cmpint (kaa_in_progress_get_state (co), ==, KAA_STATE_FINISHED);
  g_assert_cmpint (n_destroyed, ==, 1);
  g_assert_true (kaa_channel_try_receive (ch, &item));
  g_assert_cmpint (*(gint *) item, ==, 1);
  g_free (item);
}

/* -------------------------------------------------------------- death */

static void
test_context_death (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(KaaChannel) ch = channel_new (0);
  g_autoptr(KaaInProgress) receive = NULL, send = NULL;
  gpointer item;

  g_test_summary ("DESIGN §3, §9: when a context dies, its waiting sends and receives "
                  "settle CANCELLED; a send's item is freed, a receive takes none");
  g_test_bug ("18");

  receive = kaa_channel_receive (ch);
  kaa_test_fixture_kill_context (f);
  g_assert_cmpint (kaa_in_progress_get_state (receive), ==, KAA_STATE_CANCELLED);
  g_assert_false (kaa_channel_try_send (ch, GINT_TO_POINTER (1)));

  f->context = g_main_context_new ();
  g_main_context_push_thread_default (f->context);
  send = kaa_channel_send (ch, item_new (1));
  g_assert_false (kaa_in_progress_is_done (send));
  kaa_test_fixture_kill_context (f);
  g_assert_cmpint (kaa_in_progress_get_state (send), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (n_destroyed, ==, 1);
  g_assert_false (kaa_channel_try_receive (ch, &item));

  f->context = g_main_context_new ();
  g_main_context_push_thread_default (f->context);
}

/* A receiver that takes the items of sends the owner pauses and resumes. */
static void
receive_batch (gpointer item)
{
  for (guint i = 0; i < KAA_TEST_RACE_BATCH; i++)
    {
      gpointer received = NULL;

      g_assert_true (kaa_channel_receive_blocking (item, &received, NULL, NULL));
      item_free (received);
    }
}

static void
test_receive_races_pause (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(KaaChannel) ch = channel_new (0);
  KaaTestSettler settler;
  guint batches = 80;

  g_test_summary ("DESIGN §2, §9: a receive on one thread that takes the item of a send "
                  "while the owner pauses and resumes it releases the send's waiter "
                  "once, never under its pause or resume hook");

  /*   main                                 settler
   *   send x 256, waiting in line
   *   pause, resume the first not done     receive_blocking x 256: each takes
   *   (a paused send waits: its resume       an item, settles its send and
   *    hands the item over)                  releases it */
  kaa_test_settler_start (&settler, receive_batch);
  for (guint batch = 0; batch < batches; batch++)
    {
      KaaInProgress *sends[KAA_TEST_RACE_BATCH];

      for (guint i = 0; i < KAA_TEST_RACE_BATCH; i++)
        sends[i] = kaa_channel_send (ch, item_new ((gint) i));
      kaa_test_settler_race (&settler, ch, sends, KAA_TEST_RACE_BATCH);
      for (guint i = 0; i < KAA_TEST_RACE_BATCH; i++)
        {
          kaa_test_pump_until_done (f->context, sends[i]);
          g_assert_cmpint (kaa_in_progress_get_state (sends[i]), ==, KAA_STATE_FINISHED);
          kaa_in_progress_unref (sends[i]);
        }
    }
  kaa_test_settler_stop (&settler);
  kaa_test_drain (f->context);
  g_assert_cmpint (g_atomic_int_get (&n_destroyed), ==, batches * KAA_TEST_RACE_BATCH);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  /* GCancellable's class is initialized here, not by the first job that
   * asks for its cancellable: GLib publishes a class through its own
   * uninstrumented atomics, which ThreadSanitizer would take for a race
   * with the next job's G_IS_CANCELLABLE(). */
  g_type_class_unref (g_type_class_ref (G_TYPE_CANCELLABLE));

  KAA_TEST_ADD ("buffered", test_buffered);
  KAA_TEST_ADD ("rendezvous", test_rendezvous);
  KAA_TEST_ADD ("unbounded", test_unbounded);
  KAA_TEST_ADD ("close", test_close);
  KAA_TEST_ADD ("close-wakes-receivers", test_close_wakes_receivers);
  KAA_TEST_ADD ("cancel-send", test_cancel_send);
  KAA_TEST_ADD ("cancel-receive", test_cancel_receive);
  KAA_TEST_ADD ("pause-receive", test_pause_receive);
  KAA_TEST_ADD ("pause-send", test_pause_send);
  KAA_TEST_ADD ("coroutines", test_coroutines);
  KAA_TEST_ADD ("await-next-cancel", test_await_next_cancel);
  KAA_TEST_ADD ("misuse", test_misuse);
  KAA_TEST_ADD ("await-next-outside", test_await_next_outside);
  KAA_TEST_ADD ("values", test_values);
  KAA_TEST_ADD ("threads-to-coroutines", test_threads_to_coroutines);
  KAA_TEST_ADD ("coroutines-to-threads", test_coroutines_to_threads);
  KAA_TEST_ADD ("threads-mpmc", test_threads_mpmc);
  KAA_TEST_ADD ("blocking-cancel", test_blocking_cancel);
  KAA_TEST_ADD ("cancel-race", test_cancel_race);
  KAA_TEST_ADD ("receive-races-pause", test_receive_races_pause);
  KAA_TEST_ADD ("blocking-meets-cancelled", test_blocking_meets_cancelled);
  KAA_TEST_ADD ("blocking-in-coroutine", test_blocking_in_coroutine);
  KAA_TEST_ADD ("context-death", test_context_death);
  KAA_TEST_ADD ("last-unref-closes", test_last_unref_closes);
  return g_test_run ();
}
