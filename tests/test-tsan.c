/* test-tsan.c: checks the ThreadSanitizer stage itself.
 *
 * Built only with -fsanitize=thread (tests/meson.build).  Each subtest
 * hands plain, non-atomic data from one thread to another through one of
 * the GLib primitives that kaa-tsan-glib.c annotates; without the shim
 * TSan reports a race there and, with halt_on_error=1, the test fails.
 * Run with --race it makes a real race instead, which TSan must report:
 * meson runs that as a test that should fail, so that a stage where TSan
 * is off or ignores its errors cannot pass.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include <glib.h>

#define N_THREADS 4
#define N_ROUNDS  2000

/* ------------------------------------------------------------- GMutex */

static GMutex counter_lock;
static guint  counter;

static gpointer
mutex_thread (gpointer data)
{
  for (guint i = 0; i < N_ROUNDS; i++)
    {
      g_mutex_lock (&counter_lock);
      counter++;
      g_mutex_unlock (&counter_lock);
    }
  return NULL;
}

static gpointer
trylock_thread (gpointer data)
{
  for (guint i = 0; i < N_ROUNDS; i++)
    {
      while (!g_mutex_trylock (&counter_lock))
        g_thread_yield ();
      counter++;
      g_mutex_unlock (&counter_lock);
    }
  return NULL;
}

static void
test_mutex (void)
{
  GThread *threads[N_THREADS];

  g_test_summary ("a plain counter guarded by a GMutex (lock and trylock) is "
                  "no race to TSan");
  counter = 0;
  for (guint i = 0; i < N_THREADS; i++)
    threads[i] = g_thread_new ("mutex", i % 2 ? trylock_thread : mutex_thread, NULL);
  for (guint i = 0; i < N_THREADS; i++)
    g_thread_join (threads[i]);
  g_assert_cmpuint (counter, ==, N_THREADS * N_ROUNDS);
}

/* ---------------------------------------------------------- GRecMutex */

static GRecMutex rec_lock;
static guint     rec_counter;

static void
rec_add (guint depth)
{
  g_rec_mutex_lock (&rec_lock);
  rec_counter++;
  if (depth > 0)
    rec_add (depth - 1);
  g_rec_mutex_unlock (&rec_lock);
}

static gpointer
rec_thread (gpointer data)
{
  for (guint i = 0; i < N_ROUNDS; i++)
    {
      if (g_rec_mutex_trylock (&rec_lock))
        {
          rec_add (2);
          g_rec_mutex_unlock (&rec_lock);
        }
      else
        rec_add (2);
    }
  return NULL;
}

static void
test_rec_mutex (void)
{
  GThread *threads[N_THREADS];

  g_test_summary ("a GRecMutex taken three deep guards a plain counter: "
                  "TSan sees GLib's pthread-based GRecMutex without the shim");
  g_rec_mutex_init (&rec_lock);
  rec_counter = 0;
  for (guint i = 0; i < N_THREADS; i++)
    threads[i] = g_thread_new ("rec", rec_thread, NULL);
  for (guint i = 0; i < N_THREADS; i++)
    g_thread_join (threads[i]);
  g_assert_cmpuint (rec_counter, ==, N_THREADS * N_ROUNDS * 3);
  g_rec_mutex_clear (&rec_lock);
}

/* -------------------------------------------------------------- GCond */

typedef struct
{
  GMutex   lock;
  GCond    cond;
  gboolean full;
  guint    value;   /* plain, handed over through the condition */
} Slot;

static gpointer
cond_consumer (gpointer data)
{
  Slot *slot = data;
  guint sum = 0;

  for (guint i = 0; i < N_ROUNDS; i++)
    {
      g_mutex_lock (&slot->lock);
      while (!slot->full)
        {
          if (i % 2)
            g_cond_wait (&slot->cond, &slot->lock);
          else
            g_cond_wait_until (&slot->cond, &slot->lock,
                               g_get_monotonic_time () + G_TIME_SPAN_SECOND);
        }
      sum += slot->value;
      slot->full = FALSE;
      g_cond_signal (&slot->cond);
      g_mutex_unlock (&slot->lock);
    }
  return GUINT_TO_POINTER (sum);
}

static void
test_cond (void)
{
  Slot slot;
  GThread *consumer;
  guint expected = 0;

  g_test_summary ("values handed over through a GMutex and a GCond are no "
                  "race to TSan");
  memset (&slot, 0, sizeof slot);
  g_mutex_init (&slot.lock);
  g_cond_init (&slot.cond);
  consumer = g_thread_new ("consumer", cond_consumer, &slot);
  for (guint i = 0; i < N_ROUNDS; i++)
    {
      g_mutex_lock (&slot.lock);
      while (slot.full)
        g_cond_wait (&slot.cond, &slot.lock);
      slot.value = i;
      slot.full = TRUE;
      expected += i;
      if (i % 2)
        g_cond_broadcast (&slot.cond);
      else
        g_cond_signal (&slot.cond);
      g_mutex_unlock (&slot.lock);
    }
  g_assert_cmpuint (GPOINTER_TO_UINT (g_thread_join (consumer)), ==, expected);
  g_cond_clear (&slot.cond);
  g_mutex_clear (&slot.lock);
}

/* --------------------------------------------------- g_once_init_enter */

typedef struct
{
  guint magic;
} Table;

static Table  *table_storage;
static gsize   table_once;
static guint   n_initialised;   /* plain: only the initialiser writes it */

static Table *
get_table (void)
{
  if (g_once_init_enter (&table_once))
    {
      table_storage = g_new (Table, 1);
      table_storage->magic = 0x4b4141;
      n_initialised++;
      g_once_init_leave (&table_once, 1);
    }
  return table_storage;
}

/* Not a GAsyncQueue: its list nodes are allocated by the pusher and freed
 * by the popper inside libglib, under a lock the shim cannot reach. */
typedef struct
{
  GMutex   lock;
  GCond    cond;
  gboolean open;
} Gate;

static gpointer
once_thread (gpointer data)
{
  Gate *start = data;

  g_mutex_lock (&start->lock);
  while (!start->open)
    g_cond_wait (&start->cond, &start->lock);
  g_mutex_unlock (&start->lock);
  return GUINT_TO_POINTER (get_table ()->magic);
}

static void
test_once (void)
{
  GThread *threads[N_THREADS];
  Gate start;

  g_test_summary ("what g_once_init_leave() publishes is seen by every "
                  "thread that passes g_once_init_enter(), as TSan sees it");
  g_mutex_init (&start.lock);
  g_cond_init (&start.cond);
  start.open = FALSE;
  for (guint i = 0; i < N_THREADS; i++)
    threads[i] = g_thread_new ("once", once_thread, &start);
  /* Let them all race for the initialisation at once. */
  g_mutex_lock (&start.lock);
  start.open = TRUE;
  g_cond_broadcast (&start.cond);
  g_mutex_unlock (&start.lock);
  for (guint i = 0; i < N_THREADS; i++)
    g_assert_cmpuint (GPOINTER_TO_UINT (g_thread_join (threads[i])), ==, 0x4b4141);
  g_assert_cmpuint (n_initialised, ==, 1);
  g_cond_clear (&start.cond);
  g_mutex_clear (&start.lock);
  g_clear_pointer (&table_storage, g_free);
}

/* ------------------------------------------------ g_main_context_invoke */

typedef struct
{
  GMainContext *context;
  GMainLoop    *loop;
  GMutex        lock;
  GCond         cond;
  gboolean      running;
  guint         value;   /* plain: written by the caller, read by the loop */
  guint         sum;     /* plain: loop thread only, read after the join */
} Worker;

static gboolean
worker_started_cb (gpointer data)
{
  Worker *worker = data;

  g_mutex_lock (&worker->lock);
  worker->running = TRUE;
  g_cond_signal (&worker->cond);
  g_mutex_unlock (&worker->lock);
  return G_SOURCE_REMOVE;
}

static gpointer
worker_main (gpointer data)
{
  Worker *worker = data;

  g_main_context_push_thread_default (worker->context);
  g_main_loop_run (worker->loop);
  g_main_context_pop_thread_default (worker->context);
  return NULL;
}

static gboolean
add_value_cb (gpointer data)
{
  Worker *worker = data;

  worker->sum += worker->value;
  return G_SOURCE_REMOVE;
}

static gboolean
quit_cb (gpointer data)
{
  Worker *worker = data;

  g_main_loop_quit (worker->loop);
  return G_SOURCE_REMOVE;
}

static void
test_invoke (void)
{
  Worker worker;
  GThread *thread;
  GSource *started;

  g_test_summary ("data written before g_main_context_invoke() from another "
                  "thread is seen by the callback on the context's thread, "
                  "as TSan sees it");
  memset (&worker, 0, sizeof worker);
  worker.context = g_main_context_new ();
  worker.loop = g_main_loop_new (worker.context, FALSE);
  g_mutex_init (&worker.lock);
  g_cond_init (&worker.cond);

  /* The start signal comes from the worker's own context. */
  started = g_idle_source_new ();
  g_source_set_callback (started, worker_started_cb, &worker, NULL);
  g_source_attach (started, worker.context);
  g_source_unref (started);
  thread = g_thread_new ("invoke", worker_main, &worker);
  g_mutex_lock (&worker.lock);
  while (!worker.running)
    g_cond_wait (&worker.cond, &worker.lock);
  g_mutex_unlock (&worker.lock);

  /* One value at a time: the callback must read the value the caller
   * wrote, so each round waits for the previous one to be added. */
  for (guint i = 1; i <= 50; i++)
    {
      g_mutex_lock (&worker.lock);
      worker.running = FALSE;
      g_mutex_unlock (&worker.lock);
      worker.value = i;
      g_main_context_invoke (worker.context, add_value_cb, &worker);
      g_main_context_invoke_full (worker.context, G_PRIORITY_DEFAULT,
                                  worker_started_cb, &worker, NULL);
      g_mutex_lock (&worker.lock);
      while (!worker.running)
        g_cond_wait (&worker.cond, &worker.lock);
      g_mutex_unlock (&worker.lock);
    }
  g_main_context_invoke (worker.context, quit_cb, &worker);
  g_thread_join (thread);
  g_assert_cmpuint (worker.sum, ==, 50 * 51 / 2);

  g_cond_clear (&worker.cond);
  g_mutex_clear (&worker.lock);
  g_main_loop_unref (worker.loop);
  g_main_context_unref (worker.context);
}

/* -------------------------------------------------------------- --race */

static guint racy;

static gpointer
race_thread (gpointer data)
{
  racy++;
  return NULL;
}

/* Two threads write one plain variable with nothing between them. */
static int
make_race (void)
{
  GThread *a = g_thread_new ("race-a", race_thread, NULL);
  GThread *b = g_thread_new ("race-b", race_thread, NULL);

  g_thread_join (a);
  g_thread_join (b);
  g_printerr ("test-tsan: no report for a race: is TSan on, with "
              "halt_on_error=1?\n");
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc == 2 && strcmp (argv[1], "--race") == 0)
    return make_race ();

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tsan/mutex", test_mutex);
  g_test_add_func ("/tsan/rec-mutex", test_rec_mutex);
  g_test_add_func ("/tsan/cond", test_cond);
  g_test_add_func ("/tsan/once", test_once);
  g_test_add_func ("/tsan/invoke", test_invoke);
  return g_test_run ();
}
