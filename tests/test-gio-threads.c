/* test-gio-threads.c: the GIO and signal bridges across threads (issue 17
 * §4) and kaa_io_wait on an fd that is not open (§6)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The races are driven in tight loops: the owner thread makes a wait on
 * something already ready (a readable pipe, an exited child, a delivered
 * signal) and hands the only reference to a worker that drops it, while
 * the owner dispatches the ready source. Without the fix, ASan reports a
 * heap-use-after-free and TSan a race within a few thousand rounds.
 */
#include "config.h"

#include <signal.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <glib-unix.h>

#include "kaa-test-util.h"

#if HAVE_VALGRIND
# include <valgrind/valgrind.h>
#else
# define RUNNING_ON_VALGRIND 0
#endif

typedef KaaTestFixture Fixture;

#define KAA_TEST_AREA "gio-threads"

/* ---------------------------------------------------------- the dropper */

/* A worker that drops whatever InProgress it is handed: one slot,
 * exchanged atomically, so that TSan sees the hand-over. */
typedef struct
{
  KaaInProgress *slot;      /* atomic */
  gint           stop;      /* atomic */
  gint           dropped;   /* atomic */
  GThread       *thread;
} Dropper;

static gpointer
dropper_run (gpointer data)
{
  Dropper *dropper = data;

  while (!g_atomic_int_get (&dropper->stop))
    {
      KaaInProgress *ip = g_atomic_pointer_exchange (&dropper->slot, NULL);

      if (ip == NULL)
        {
          g_thread_yield ();
          continue;
        }
      kaa_in_progress_unref (ip);
      g_atomic_int_inc (&dropper->dropped);
    }
  return NULL;
}

static void
dropper_start (Dropper *dropper)
{
  memset (dropper, 0, sizeof *dropper);
  dropper->thread = g_thread_new ("kaa-dropper", dropper_run, dropper);
}

/* Hands @ip (transfer full) over; the previous one was taken already. */
static void
dropper_hand (Dropper       *dropper,
              KaaInProgress *ip)
{
  g_atomic_pointer_set (&dropper->slot, ip);
}

/* kaa_test_spin_until() without its sleeps: the rounds here are short,
 * and a sleep per round would make the loops slow, not the race likelier. */
static void
yield_until (gint *flag,
             gint  value)
{
  gint64 deadline = g_get_monotonic_time () + KAA_TEST_WATCHDOG_SEC * G_USEC_PER_SEC;

  while (g_atomic_int_get (flag) < value)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("watchdog: a flag did not reach %d within %d s", value, KAA_TEST_WATCHDOG_SEC);
      g_thread_yield ();
    }
}

/* Waits until the worker dropped @n InProgresses in all. */
static void
dropper_wait (Dropper *dropper,
              gint     n)
{
  yield_until (&dropper->dropped, n);
}

static void
dropper_stop (Dropper *dropper)
{
  g_atomic_int_set (&dropper->stop, TRUE);
  g_thread_join (dropper->thread);
}

typedef KaaInProgress *(*WaitNew) (gpointer data);
typedef void           (*Fire)    (Fixture *f,
                                   gpointer data);

/* A source's readiness is seen by the owner's next iteration. */
static void
fire_by_iterating (Fixture *f,
                   gpointer data)
{
  g_main_context_iteration (f->context, FALSE);
}

/* One round per iteration:
 *
 *   owner                                  dropper
 *   ip = wait_new () (source armed, ready)
 *   hand ip over ───────────────────────▶  unref (the last reference)
 *   fire: the ready source dispatches      │ finalize: release the
 *     (or the signal is emitted) and       │ producer, free ip
 *     settles ip ◀─────── races ─────────▶ │
 *   wait for the drop
 *
 * Whoever wins, nothing is touched after it is freed, and nothing stays
 * behind (the fixture's teardown counts the live InProgresses). */
static void
race_last_unref (Fixture *f,
                 WaitNew  wait_new,
                 Fire     fire,
                 gpointer data,
                 guint    rounds)
{
  Dropper dropper;

  dropper_start (&dropper);
  for (guint i = 0; i < rounds; i++)
    {
      dropper_hand (&dropper, wait_new (data));
      fire (f, data);
      dropper_wait (&dropper, i + 1);
      kaa_test_drain (f->context);
    }
  dropper_stop (&dropper);
}

/* Memcheck runs one thread at a time, slowly: a few rounds still check
 * the memory of both outcomes there; the races are for the sanitizers. */
static guint
rounds (guint n)
{
  if (RUNNING_ON_VALGRIND)
    return MAX (n / 50, 10);
  return g_test_slow () ? n * 10 : n;
}

/* ------------------------------------------------------- fds and sockets */

static KaaInProgress *
io_wait_new (gpointer data)
{
  return kaa_io_wait (GPOINTER_TO_INT (data), G_IO_IN);
}

static void
test_io_wait_last_unref (Fixture       *f,
                         gconstpointer  data)
{
  int fds[2];

  g_test_summary ("Issue 17 §4: the last reference to a pending kaa_io_wait dropped on "
                  "a worker while the owner dispatches its ready fd frees nothing in use");
  g_test_bug ("17");

  g_assert_no_errno (pipe (fds));
  g_assert_cmpint (write (fds[1], "x", 1), ==, 1);   /* readable for ever */
  race_last_unref (f, io_wait_new, fire_by_iterating, GINT_TO_POINTER (fds[0]), rounds (20000));
  close (fds[0]);
  close (fds[1]);
}

static KaaInProgress *
socket_wait_new (gpointer data)
{
  return kaa_socket_wait (data, G_IO_IN);
}

static void
test_socket_wait_last_unref (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = NULL;
  int fds[2];

  g_test_summary ("Issue 17 §4: the same race for kaa_socket_wait on a readable socket");
  g_test_bug ("17");

  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM, 0, fds));
  socket = g_socket_new_from_fd (fds[0], &error);
  g_assert_no_error (error);
  g_assert_cmpint (write (fds[1], "x", 1), ==, 1);
  race_last_unref (f, socket_wait_new, fire_by_iterating, socket, rounds (20000));
  close (fds[1]);
}

/* ---------------------------------------------------- children, signals */

/* A child that has exited but is not reaped yet: its watch is ready. */
static GPid
spawn_exited_child (void)
{
  char *argv[] = { (char *) "/bin/true", NULL };
  g_autoptr(GError) error = NULL;
  siginfo_t info;
  GPid pid;

  /* Spawned, not forked: under Valgrind a forked copy of this process
   * would report the other threads' memory as lost when it exits. */
  g_assert_true (g_spawn_async (NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                &pid, &error));
  g_assert_no_error (error);
  g_assert_no_errno (waitid (P_PID, (id_t) pid, &info, WEXITED | WNOWAIT));
  return pid;
}

static KaaInProgress *
child_wait_new (gpointer data)
{
  GPid *pid = data;

  *pid = spawn_exited_child ();
  return kaa_child_wait (*pid);
}

static void
test_child_wait_last_unref (Fixture       *f,
                            gconstpointer  data)
{
  Dropper dropper;
  GPid pid;
  guint n = rounds (300);

  g_test_summary ("Issue 17 §4: the same race for kaa_child_wait on an exited child");
  g_test_bug ("17");

  dropper_start (&dropper);
  for (guint i = 0; i < n; i++)
    {
      dropper_hand (&dropper, child_wait_new (&pid));
      g_main_context_iteration (f->context, FALSE);
      dropper_wait (&dropper, i + 1);
      kaa_test_drain (f->context);
      /* Reaped by the watch if it fired, else by us. */
      waitpid (pid, NULL, WNOHANG);
    }
  dropper_stop (&dropper);
}

static KaaInProgress *
unix_signal_new (gpointer data)
{
  KaaInProgress *ip = kaa_unix_signal (SIGUSR1);

  g_assert_no_errno (kill (getpid (), SIGUSR1));
  return ip;
}

static gboolean
keep_going (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static void
test_unix_signal_last_unref (Fixture       *f,
                             gconstpointer  data)
{
  GSource *keep = g_unix_signal_source_new (SIGUSR1);

  g_test_summary ("Issue 17 §4: the same race for kaa_unix_signal on a delivered signal");
  g_test_bug ("17");

  /* GLib restores SIGUSR1's default action, which ends the process, when
   * its last source goes, and kill() may deliver the signal to another
   * thread a little later: this source keeps GLib's handler installed. */
  g_source_set_callback (keep, keep_going, NULL, NULL);
  g_source_attach (keep, f->context);
  race_last_unref (f, unix_signal_new, fire_by_iterating, NULL, rounds (5000));
  g_source_destroy (keep);
  g_source_unref (keep);
}

/* ------------------------------------------------------- GObject signals */

typedef struct
{
  GSimpleAction *action;
  gint           round;    /* atomic: the owner's request */
  gint           done;     /* atomic: the worker's answer */
  gint           stop;     /* atomic */
  gint           starting; /* atomic: the round about to be emitted */
  gint           delay;    /* atomic: the owner's delay loop counts here */
} Emitter;

/* Emits "activate" once per round the owner asks for. */
static gpointer
emitter_run (gpointer data)
{
  Emitter *emitter = data;
  gint done = 0;

  while (!g_atomic_int_get (&emitter->stop))
    {
      if (g_atomic_int_get (&emitter->round) == done)
        {
          g_thread_yield ();
          continue;
        }
      g_atomic_int_set (&emitter->starting, done + 1);
      g_action_activate (G_ACTION (emitter->action), NULL);
      g_atomic_int_set (&emitter->done, ++done);
    }
  return NULL;
}

static KaaInProgress *
signal_wait_new (gpointer data)
{
  return kaa_in_progress_new_for_signal (data, "activate");
}

static void
fire_by_emitting (Fixture *f,
                  gpointer data)
{
  g_action_activate (G_ACTION (data), NULL);
}

static void
test_signal_last_unref (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GSimpleAction) action = g_simple_action_new ("go", NULL);

  g_test_summary ("Issue 17 §4: the last reference to a signal wait dropped on a worker "
                  "while the owner emits the signal frees nothing in use");
  g_test_bug ("17");

  race_last_unref (f, signal_wait_new, fire_by_emitting, action, rounds (20000));
  g_assert_false (g_signal_has_handler_pending (action, g_signal_lookup ("activate",
                                                                         G_TYPE_SIMPLE_ACTION),
                                                0, FALSE));
}

/* One round per iteration:
 *
 *   owner                                 emitter
 *   ip = signal wait (handler connected)
 *   round++ ───────────────────────────▶  starting++
 *   (every other round: see starting)      emit "activate": the handler
 *   cancel ip ◀──────── races ─────────▶   detaches and finishes ip
 *   wait for the emitter's round
 *   ip is done, one way or the other, and its handler is gone
 */
static void
test_signal_emitted_on_worker (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(GSimpleAction) action = g_simple_action_new ("go", NULL);
  guint signal_id = g_signal_lookup ("activate", G_TYPE_SIMPLE_ACTION);
  Emitter emitter = { action, 0, 0, FALSE, 0, 0 };
  guint finished = 0, cancelled = 0, n = rounds (20000);
  GThread *thread = g_thread_new ("kaa-emitter", emitter_run, &emitter);

  g_test_summary ("Issue 17 §4: a signal emitted on a worker while the owner cancels "
                  "settles the wait exactly once and disconnects its handler once");
  g_test_bug ("17");

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(KaaInProgress) ip = kaa_in_progress_new_for_signal (action, "activate");

      g_atomic_int_set (&emitter.round, (gint) i + 1);
      /* Every other round, the cancel comes as the emission starts, so
       * that both orders come up whatever the speed of either side. */
      if (i % 2 == 1)
        yield_until (&emitter.starting, (gint) i + 1);
      for (guint k = 0; k < i % 64; k++)
        g_atomic_int_inc (&emitter.delay);
      kaa_in_progress_cancel (ip);
      yield_until (&emitter.done, (gint) i + 1);
      kaa_test_drain (f->context);

      g_assert_true (kaa_in_progress_is_done (ip));
      g_assert_false (g_signal_has_handler_pending (action, signal_id, 0, FALSE));
      if (kaa_in_progress_get_state (ip) == KAA_STATE_FINISHED)
        finished++;
      else
        cancelled++;
    }
  g_atomic_int_set (&emitter.stop, TRUE);
  g_thread_join (thread);
  g_test_message ("%u finished by the emitter, %u cancelled first", finished, cancelled);
}

static void
activate_once (gpointer item)
{
  g_action_activate (item, NULL);
}

static void
test_signal_emission_races_pause (Fixture       *f,
                                  gconstpointer  data)
{
  g_autoptr(GSimpleAction) action = g_simple_action_new ("go", NULL);
  guint signal_id = g_signal_lookup ("activate", G_TYPE_SIMPLE_ACTION);
  guint finished = 0, batches = rounds (80);
  KaaTestSettler settler;

  g_test_summary ("DESIGN §2: a signal emitted on a worker finishes waits while the "
                  "owner pauses and resumes them: each wait is freed once, never "
                  "under its pause or resume hook");

  /*   main                                 settler
   *   new_for_signal x 256
   *   pause, resume the first not done     activate: finishes each wait in
   *                                          turn and releases it (or goes
   *                                          by a paused one)
   *   cancel what the emission went by */
  kaa_test_settler_start (&settler, activate_once);
  for (guint batch = 0; batch < batches; batch++)
    {
      KaaInProgress *waits[KAA_TEST_RACE_BATCH];

      for (guint i = 0; i < KAA_TEST_RACE_BATCH; i++)
        waits[i] = kaa_in_progress_new_for_signal (action, "activate");
      kaa_test_settler_race (&settler, action, waits, KAA_TEST_RACE_BATCH);
      for (guint i = 0; i < KAA_TEST_RACE_BATCH; i++)
        {
          if (kaa_in_progress_is_done (waits[i]))
            finished++;
          else
            kaa_in_progress_cancel (waits[i]);
          kaa_in_progress_unref (waits[i]);
        }
      kaa_test_drain (f->context);
    }
  kaa_test_settler_stop (&settler);
  g_assert_false (g_signal_has_handler_pending (action, signal_id, 0, FALSE));
  g_test_message ("%u of %u finished by the emission", finished, batches * KAA_TEST_RACE_BATCH);
}

/* The emission finishes the wait on the worker; the callback runs on the
 * owner context, with the emission's arguments. */
static gpointer
activate_with_seven (gpointer data)
{
  g_action_activate (data, g_variant_new_int32 (7));
  return NULL;
}

static void
record_thread (KaaInProgress *ip,
               gpointer       data)
{
  *(GThread **) data = g_thread_self ();
}

static void
test_signal_finished_on_worker (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(GSimpleAction) action = g_simple_action_new ("go", G_VARIANT_TYPE_INT32);
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new_for_signal (action, "activate");
  GThread *callback_thread = NULL;
  GArray *args;

  g_test_summary ("Issue 17 §4: a signal emitted on another thread finishes the wait "
                  "with the emission's arguments; its callbacks run on the owner");
  g_test_bug ("17");

  kaa_in_progress_connect (ip, record_thread, &callback_thread, NULL);
  g_thread_join (g_thread_new ("kaa-emitter", activate_with_seven, action));
  g_assert_true (kaa_in_progress_is_done (ip));
  g_assert_false (g_signal_has_handler_pending (action, g_signal_lookup ("activate",
                                                                         G_TYPE_SIMPLE_ACTION),
                                                0, FALSE));
  kaa_test_drain (f->context);
  g_assert_true (callback_thread == g_thread_self ());
  args = kaa_in_progress_get_pointer (ip);
  g_assert_cmpuint (args->len, ==, 1);
  g_assert_cmpint (g_variant_get_int32 (g_value_get_variant (&g_array_index (args, GValue, 0))),
                   ==, 7);
}

/* ------------------------------------------------------------ bad input */

static void
test_unknown_signal (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GSimpleAction) action = g_simple_action_new ("go", NULL);
  g_autoptr(KaaInProgress) ip = NULL;
  const GError *error;

  g_test_summary ("Issue 17: an unknown signal name is a critical naming the type and "
                  "the signal, and an InProgress failed with the same words");
  g_test_bug ("17");

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*GSimpleAction has no signal*clikced*");
  ip = kaa_in_progress_new_for_signal (action, "clikced");
  g_test_assert_expected_messages ();
  error = kaa_in_progress_get_error (ip);
  g_assert_error (error, KAA_ERROR, KAA_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "GSimpleAction has no signal “clikced”");
}

/* A number that is no open fd: one that was open a moment ago. */
static int
closed_fd (void)
{
  int fd = dup (STDERR_FILENO);

  g_assert_cmpint (fd, >=, 0);
  close (fd);
  return fd;
}

static void
test_io_wait_not_open (Fixture       *f,
                       gconstpointer  data)
{
  int fd = closed_fd ();
  g_autofree char *number = g_strdup_printf ("%d", fd);
  g_autoptr(KaaInProgress) never = kaa_io_wait (fd, G_IO_IN);
  g_autoptr(KaaInProgress) closed = NULL;
  const GError *error;
  int fds[2];

  g_test_summary ("Issue 17 §6: kaa_io_wait on an fd that is not open, or that is "
                  "closed while it waits, fails with G_IO_ERROR_CLOSED naming the fd");
  g_test_bug ("17");

  g_assert_false (kaa_in_progress_wait (never, NULL));
  error = kaa_in_progress_get_error (never);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  g_assert_nonnull (strstr (error->message, number));

  g_assert_no_errno (pipe (fds));
  closed = kaa_io_wait (fds[0], G_IO_IN);
  kaa_test_drain (f->context);
  g_assert_false (kaa_in_progress_is_done (closed));
  close (fds[0]);
  g_assert_false (kaa_in_progress_wait (closed, NULL));
  g_assert_error (kaa_in_progress_get_error (closed), G_IO_ERROR, G_IO_ERROR_CLOSED);
  close (fds[1]);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);


  KAA_TEST_ADD ("io-wait-last-unref", test_io_wait_last_unref);
  KAA_TEST_ADD ("socket-wait-last-unref", test_socket_wait_last_unref);
  KAA_TEST_ADD ("child-wait-last-unref", test_child_wait_last_unref);
  KAA_TEST_ADD ("unix-signal-last-unref", test_unix_signal_last_unref);
  KAA_TEST_ADD ("signal-last-unref", test_signal_last_unref);
  KAA_TEST_ADD ("signal-emitted-on-worker", test_signal_emitted_on_worker);
  KAA_TEST_ADD ("signal-emission-races-pause", test_signal_emission_races_pause);
  KAA_TEST_ADD ("signal-finished-on-worker", test_signal_finished_on_worker);
  KAA_TEST_ADD ("unknown-signal", test_unknown_signal);
  KAA_TEST_ADD ("io-wait-not-open", test_io_wait_not_open);

  return g_test_run ();
}
