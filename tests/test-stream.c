/* test-stream.c: streams of signals, Unix signals and lines (DESIGN §9; issue #18)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * An Emitter is a small GObject with one signal, "tick", carrying an int:
 * each test emits it and reads the stream back.
 */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <glib-unix.h>
#include <gio/gunixinputstream.h>
#include <gio/gunixoutputstream.h>

#include "kaa-test-util.h"

typedef KaaTestFixture Fixture;

#define KAA_TEST_AREA "stream"

#define EMITTER_TYPE (emitter_get_type ())
G_DECLARE_FINAL_TYPE (Emitter, emitter, TEST, EMITTER, GObject)

struct _Emitter
{
  GObject parent;
};

G_DEFINE_FINAL_TYPE (Emitter, emitter, G_TYPE_OBJECT)

static guint tick_signal;

static void
emitter_class_init (EmitterClass *klass)
{
  tick_signal = g_signal_new ("tick", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                              NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);
}

static void
emitter_init (Emitter *self)
{
}

static void
tick (Emitter *emitter,
      gint     value)
{
  g_signal_emit (emitter, tick_signal, 0, value);
}

/* The int of a "tick" item, which it frees. */
static gint
tick_value (gpointer item)
{
  GArray *args = item;
  gint value;

  g_assert_cmpuint (args->len, ==, 1);
  value = g_value_get_int (&g_array_index (args, GValue, 0));
  g_array_unref (args);
  return value;
}

typedef struct
{
  KaaChannel *stream;
  Emitter    *emitter;
  GArray     *seen;
  gboolean    ended;
  GError     *error;
} Reader;

/* The loop of the issue: work between two awaits, during which the
 * emitter fires twice back to back. */
static void
body_reader (KaaCoroutine *co,
             gpointer      data)
{
  Reader *reader = data;
  gpointer item;

  while (kaa_channel_await_next (reader->stream, &item, &reader->error))
    {
      gint value = tick_value (item);

      g_array_append_val (reader->seen, value);
      if (reader->emitter != NULL && value % 2 == 1 && value < 9)
        {
          tick (reader->emitter, value + 1);
          tick (reader->emitter, value + 2);
        }
    }
  reader->ended = TRUE;
}

static void
test_signal_none_lost (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(Emitter) emitter = g_object_new (EMITTER_TYPE, NULL);
  g_autoptr(KaaChannel) stream = kaa_channel_new_for_signal (emitter, "tick", 16,
                                                             KAA_OVERFLOW_FAIL);
  Reader reader = { stream, emitter, g_array_new (FALSE, FALSE, sizeof (gint)) };
  g_autoptr(KaaInProgress) co = NULL;

  g_test_summary ("DESIGN §9: every emission after a signal stream was made is queued, "
                  "also those between two awaits, in order, and the object's end ends it");
  g_test_bug ("18");

  co = kaa_coroutine_spawn (body_reader, &reader, NULL);
  tick (emitter, 1);
  kaa_test_drain (f->context);
  g_assert_cmpuint (reader.seen->len, ==, 9);
  for (guint i = 0; i < reader.seen->len; i++)
    g_assert_cmpint (g_array_index (reader.seen, gint, i), ==, (gint) i + 1);
  g_assert_false (reader.ended);

  tick (emitter, 10);
  reader.emitter = NULL;
  g_clear_object (&emitter);
  kaa_test_pump_until_done (f->context, co);
  g_assert_true (reader.ended);
  g_assert_no_error (reader.error);
  g_assert_cmpuint (reader.seen->len, ==, 10);
  g_array_unref (reader.seen);
}

static GArray *
collect (Fixture    *f,
         KaaChannel *stream,
         GError    **error)
{
  Reader reader = { stream, NULL, g_array_new (FALSE, FALSE, sizeof (gint)) };
  g_autoptr(KaaInProgress) co = kaa_coroutine_spawn (body_reader, &reader, NULL);

  kaa_channel_close (stream);
  kaa_test_pump_until_done (f->context, co);
  g_assert_true (reader.ended);
  if (reader.error != NULL)
    g_propagate_error (error, reader.error);
  return reader.seen;
}

static void
test_overflow (Fixture       *f,
               gconstpointer  data)
{
  static const gint expected[3][2] = { { 4, 5 }, { 1, 2 }, { 1, 2 } };

  g_test_summary ("DESIGN §9: a stream keeps at most its bound; the overflow policy "
                  "drops the oldest, drops the newest, or fails the stream after what it holds");
  g_test_bug ("18");

  for (KaaOverflow overflow = KAA_OVERFLOW_DROP_OLDEST; overflow <= KAA_OVERFLOW_FAIL; overflow++)
    {
      g_autoptr(Emitter) emitter = g_object_new (EMITTER_TYPE, NULL);
      g_autoptr(KaaChannel) stream = kaa_channel_new_for_signal (emitter, "tick", 2, overflow);
      g_autoptr(GError) error = NULL;
      g_autoptr(GArray) seen = NULL;

      for (gint i = 1; i <= 5; i++)
        tick (emitter, i);
      seen = collect (f, stream, &error);
      g_assert_cmpuint (seen->len, ==, 2);
      g_assert_cmpint (g_array_index (seen, gint, 0), ==, expected[overflow][0]);
      g_assert_cmpint (g_array_index (seen, gint, 1), ==, expected[overflow][1]);
      if (overflow == KAA_OVERFLOW_FAIL)
        g_assert_error (error, KAA_ERROR, KAA_ERROR_OVERFLOW);
      else
        g_assert_no_error (error);
    }
}

static void
test_close_disconnects (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(Emitter) emitter = g_object_new (EMITTER_TYPE, NULL);
  g_autoptr(KaaChannel) stream = kaa_channel_new_for_signal (emitter, "tick", 4,
                                                             KAA_OVERFLOW_DROP_NEWEST);
  g_autoptr(KaaInProgress) after = NULL;

  g_test_summary ("DESIGN §9: closing a stream disconnects its handler; what was queued "
                  "is still received");
  g_test_bug ("18");

  tick (emitter, 1);
  g_assert_true (g_signal_has_handler_pending (emitter, tick_signal, 0, FALSE));
  kaa_channel_close (stream);
  g_assert_false (g_signal_has_handler_pending (emitter, tick_signal, 0, FALSE));
  tick (emitter, 2);
  g_assert_cmpuint (kaa_channel_get_length (stream), ==, 1);
  after = kaa_channel_receive (stream);
  g_assert_cmpint (kaa_in_progress_get_state (after), ==, KAA_STATE_FINISHED);
}

static void
test_drop_disconnects (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(Emitter) emitter = g_object_new (EMITTER_TYPE, NULL);
  KaaChannel *stream = kaa_channel_new_for_signal (emitter, "tick", 4, KAA_OVERFLOW_DROP_NEWEST);

  g_test_summary ("DESIGN §9: dropping the last reference to a stream disconnects its "
                  "handler, and frees what it had queued");
  g_test_bug ("18");

  tick (emitter, 1);
  kaa_channel_unref (stream);
  g_assert_false (g_signal_has_handler_pending (emitter, tick_signal, 0, FALSE));
  tick (emitter, 2);
}

static void
test_cancel_and_pause (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(Emitter) emitter = g_object_new (EMITTER_TYPE, NULL);
  g_autoptr(KaaChannel) stream = kaa_channel_new_for_signal (emitter, "tick", 4,
                                                             KAA_OVERFLOW_FAIL);
  Reader reader = { stream, NULL, g_array_new (FALSE, FALSE, sizeof (gint)) };
  g_autoptr(KaaInProgress) co = NULL;
  g_autoptr(KaaInProgress) receive = NULL;

  g_test_summary ("DESIGN §9, §6: a paused reader of a stream takes no emission until "
                  "resumed; a cancelled one takes none, and they stay for the next reader");
  g_test_bug ("18");

  co = kaa_coroutine_spawn (body_reader, &reader, NULL);
  kaa_in_progress_pause (co);
  tick (emitter, 1);
  kaa_test_drain (f->context);
  g_assert_cmpuint (reader.seen->len, ==, 0);
  kaa_in_progress_resume (co);
  kaa_test_drain (f->context);
  g_assert_cmpuint (reader.seen->len, ==, 1);

  kaa_in_progress_cancel (co);
  g_assert_error (reader.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&reader.error);
  tick (emitter, 2);
  receive = kaa_channel_receive (stream);
  g_assert_cmpint (g_value_get_int (&g_array_index ((GArray *) kaa_in_progress_get_pointer (receive),
                                                  GValue, 0)), ==, 2);
  g_array_unref (reader.seen);
  kaa_channel_close (stream);
}

static gpointer
thread_ticks (gpointer data)
{
  for (gint i = 0; i < 1000; i++)
    tick (data, i);
  return NULL;
}

static void
test_other_thread (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(Emitter) emitter = g_object_new (EMITTER_TYPE, NULL);
  g_autoptr(KaaChannel) stream = kaa_channel_new_for_signal (emitter, "tick", KAA_CHANNEL_UNBOUNDED,
                                                             KAA_OVERFLOW_FAIL);
  Reader reader = { stream, NULL, g_array_new (FALSE, FALSE, sizeof (gint)) };
  g_autoptr(KaaInProgress) co = kaa_coroutine_spawn (body_reader, &reader, NULL);
  GThread *thread = g_thread_new ("ticks", thread_ticks, emitter);

  g_test_summary ("DESIGN §9: a signal emitted on another thread reaches a coroutine "
                  "reading the stream on the main loop, every emission once, in order");
  g_test_bug ("18");

  g_thread_join (thread);
  g_clear_object (&emitter);
  kaa_test_pump_until_done (f->context, co);
  g_assert_no_error (reader.error);
  g_assert_cmpuint (reader.seen->len, ==, 1000);
  for (guint i = 0; i < reader.seen->len; i++)
    g_assert_cmpint (g_array_index (reader.seen, gint, i), ==, (gint) i);
  g_array_unref (reader.seen);
}

static void
test_bad_signal (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(Emitter) emitter = g_object_new (EMITTER_TYPE, NULL);
  g_autoptr(KaaChannel) stream = NULL;
  g_autoptr(KaaInProgress) receive = NULL;

  g_test_summary ("STYLE §5: a stream of a signal the object lacks is a critical naming "
                  "them, and a stream closed with KAA_ERROR_INVALID_ARGUMENT");
  g_test_bug ("18");

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*no signal 'tock' on Emitter*stream 0x*");
  stream = kaa_channel_new_for_signal (emitter, "tock", 4, KAA_OVERFLOW_FAIL);
  g_test_assert_expected_messages ();
  receive = kaa_channel_receive (stream);
  g_assert_error (kaa_in_progress_get_error (receive), KAA_ERROR, KAA_ERROR_INVALID_ARGUMENT);
}

/* -------------------------------------------------------- Unix signals */

static void
test_unix_signal (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(KaaChannel) stream = kaa_channel_new_for_unix_signal (SIGUSR1, 8, KAA_OVERFLOW_FAIL);
  g_autoptr(KaaInProgress) first = kaa_channel_receive (stream);
  g_autoptr(KaaInProgress) second = NULL;

  g_test_summary ("DESIGN §9: a stream of a Unix signal's deliveries, one item each, "
                  "until closed");
  g_test_bug ("18");

  raise (SIGUSR1);
  kaa_test_pump_until_done (f->context, first);
  g_assert_cmpint (GPOINTER_TO_INT (kaa_in_progress_get_pointer (first)), ==, SIGUSR1);
  raise (SIGUSR1);
  second = kaa_channel_receive (stream);
  kaa_test_pump_until_done (f->context, second);
  g_assert_cmpint (GPOINTER_TO_INT (kaa_in_progress_get_pointer (second)), ==, SIGUSR1);
  kaa_channel_close (stream);
}

static void
test_unix_signal_death (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(KaaChannel) stream = kaa_channel_new_for_unix_signal (SIGUSR2, 8, KAA_OVERFLOW_FAIL);
  g_autoptr(KaaInProgress) receive = NULL;

  g_test_summary ("DESIGN §3, §9: a Unix signal stream whose context is finalized ends, "
                  "as a close would");
  g_test_bug ("18");

  kaa_test_fixture_kill_context (f);
  g_assert_true (kaa_channel_is_closed (stream));
  receive = kaa_channel_receive (stream);
  g_assert_error (kaa_in_progress_get_error (receive), KAA_ERROR, KAA_ERROR_CLOSED);
  f->context = g_main_context_new ();
  g_main_context_push_thread_default (f->context);
}

static void
assert_refused (KaaChannel *stream)
{
  g_autoptr(KaaInProgress) receive = kaa_channel_receive (stream);

  g_assert_true (kaa_channel_is_closed (stream));
  g_assert_error (kaa_in_progress_get_error (receive), KAA_ERROR, KAA_ERROR_INVALID_ARGUMENT);
  kaa_channel_unref (stream);
}

static void
test_unix_signal_bad (Fixture       *f,
                      gconstpointer  data)
{
  static const int signals[] = { SIGKILL, 0, -1, SIGSTOP };
  KaaChannel *stream;

  g_test_summary ("STYLE §5: a Unix signal stream of a signal GLib cannot watch, or with "
                  "a bad overflow policy, is a critical and a stream already closed with "
                  "KAA_ERROR_INVALID_ARGUMENT; nothing leaks");
  g_test_bug ("18");

  for (guint i = 0; i < G_N_ELEMENTS (signals); i++)
    {
      g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*kaa_unix_signal_is_supported*");
      stream = kaa_channel_new_for_unix_signal (signals[i], 4, KAA_OVERFLOW_FAIL);
      g_test_assert_expected_messages ();
      assert_refused (stream);
    }
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*overflow*");
  stream = kaa_channel_new_for_unix_signal (SIGUSR1, 4, (KaaOverflow) 77);
  g_test_assert_expected_messages ();
  assert_refused (stream);
}

/* --------------------------------------------------------------- lines */

typedef struct
{
  KaaChannel *stream;
  GString    *text;
  GError     *error;
} Lines;

static void
body_lines (KaaCoroutine *co,
            gpointer      data)
{
  Lines *lines = data;
  gpointer line;

  while (kaa_channel_await_next (lines->stream, &line, &lines->error))
    {
      g_string_append_printf (lines->text, "[%s]", (char *) line);
      g_free (line);
    }
}

static void
test_child_lines (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) child = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                                                   "printf", "one\\ntwo\\n\\nfour", NULL);
  Lines lines = { NULL, g_string_new (NULL) };
  g_autoptr(KaaChannel) stream = NULL;
  g_autoptr(KaaInProgress) co = NULL;

  g_test_summary ("DESIGN §9: a stream of a child's output lines, read with backpressure, "
                  "ends without an error at the end of the output");
  g_test_bug ("18");

  g_assert_no_error (error);
  stream = kaa_channel_new_for_lines (g_subprocess_get_stdout_pipe (child), 1);
  lines.stream = stream;
  co = kaa_coroutine_spawn (body_lines, &lines, NULL);
  kaa_test_pump_until_done (f->context, co);
  g_assert_no_error (lines.error);
  g_assert_cmpstr (lines.text->str, ==, "[one][two][][four]");
  g_string_free (lines.text, TRUE);
  g_assert_true (g_subprocess_wait (child, NULL, NULL));
}

static void
test_lines_close (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GInputStream) input = NULL;
  g_autoptr(GOutputStream) output = NULL;
  g_autoptr(KaaChannel) stream = NULL;
  g_autoptr(KaaInProgress) receive = NULL;
  int fds[2];

  g_test_summary ("DESIGN §9: closing a line stream stops its pending read");
  g_test_bug ("18");

  g_assert_true (g_unix_open_pipe (fds, FD_CLOEXEC, NULL));
  input = g_unix_input_stream_new (fds[0], TRUE);
  output = g_unix_output_stream_new (fds[1], TRUE);
  stream = kaa_channel_new_for_lines (input, 4);
  g_assert_true (g_output_stream_write_all (output, "a\n", 2, NULL, NULL, NULL));
  receive = kaa_channel_receive (stream);
  kaa_test_pump_until_done (f->context, receive);
  g_assert_cmpstr (kaa_in_progress_get_pointer (receive), ==, "a");
  kaa_channel_close (stream);
  /* The cancelled read comes back and frees the reader. */
  kaa_test_pump_for (50);
}

static void
test_lines_backpressure (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GInputStream) input = NULL;
  g_autoptr(GOutputStream) output = NULL;
  g_autoptr(KaaInProgress) co = NULL;
  Lines lines = { NULL, g_string_new (NULL) };
  int fds[2];

  g_test_summary ("DESIGN §9: a line stream whose consumer is behind waits with the "
                  "next line instead of dropping it");
  g_test_bug ("18");

  g_assert_true (g_unix_open_pipe (fds, FD_CLOEXEC, NULL));
  input = g_unix_input_stream_new (fds[0], TRUE);
  output = g_unix_output_stream_new (fds[1], TRUE);
  lines.stream = kaa_channel_new_for_lines (input, 1);
  g_assert_true (g_output_stream_write_all (output, "1\n2\n3\n4\n", 8, NULL, NULL, NULL));
  g_assert_true (g_output_stream_close (output, NULL, NULL));
  /* Nobody reads yet: one line waits in the channel, the next in a send. */
  kaa_test_pump_for (30);
  co = kaa_coroutine_spawn (body_lines, &lines, NULL);
  kaa_test_pump_until_done (f->context, co);
  g_assert_no_error (lines.error);
  g_assert_cmpstr (lines.text->str, ==, "[1][2][3][4]");
  g_string_free (lines.text, TRUE);
  kaa_channel_unref (lines.stream);
}

/* ------------------------------------------------------------------ fd */

typedef struct
{
  KaaChannel *stream;
  int         fd;
  GString    *text;
} FdReader;

/* Reads what is there until EAGAIN at each readiness; "." ends it. */
static void
body_fd_reader (KaaCoroutine *co,
                gpointer      data)
{
  FdReader *reader = data;
  gpointer condition;

  while (kaa_channel_await_next (reader->stream, &condition, NULL))
    {
      char c;

      g_assert_true (GPOINTER_TO_UINT (condition) & G_IO_IN);
      while (read (reader->fd, &c, 1) == 1)
        {
          if (c == '.')
            return;
          g_string_append_c (reader->text, c);
        }
    }
}

static void
test_fd (Fixture       *f,
         gconstpointer  data)
{
  FdReader reader = { NULL, -1, g_string_new (NULL) };
  g_autoptr(KaaInProgress) co = NULL;
  g_autoptr(KaaInProgress) late = NULL;
  int fds[2];

  g_test_summary ("DESIGN §9: a stream of an fd's readiness watches again only once "
                  "the last item was taken, and its close removes the watch");
  g_test_bug ("18");

  g_assert_true (g_unix_open_pipe (fds, FD_CLOEXEC, NULL));
  g_assert_true (g_unix_set_fd_nonblocking (fds[0], TRUE, NULL));
  reader.fd = fds[0];
  reader.stream = kaa_channel_new_for_fd (fds[0], G_IO_IN);
  co = kaa_coroutine_spawn (body_fd_reader, &reader, NULL);
  g_assert_cmpint (write (fds[1], "ab", 2), ==, 2);
  kaa_test_drain (f->context);
  g_assert_cmpint (write (fds[1], "c.", 2), ==, 2);
  kaa_test_pump_until_done (f->context, co);
  g_assert_cmpstr (reader.text->str, ==, "abc");

  /* Readable, but nobody took the item: it waits, alone, in the stream. */
  g_assert_cmpint (write (fds[1], "d", 1), ==, 1);
  kaa_test_pump_for (20);
  kaa_channel_close (reader.stream);
  late = kaa_channel_receive (reader.stream);
  g_assert_cmpint (kaa_in_progress_get_state (late), !=, KAA_STATE_PENDING);
  (void) kaa_in_progress_get_error (late);
  kaa_test_drain (f->context);
  kaa_channel_unref (reader.stream);
  g_string_free (reader.text, TRUE);
  close (fds[0]);
  close (fds[1]);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  KAA_TEST_ADD ("signal-none-lost", test_signal_none_lost);
  KAA_TEST_ADD ("overflow", test_overflow);
  KAA_TEST_ADD ("close-disconnects", test_close_disconnects);
  KAA_TEST_ADD ("drop-disconnects", test_drop_disconnects);
  KAA_TEST_ADD ("cancel-and-pause", test_cancel_and_pause);
  KAA_TEST_ADD ("other-thread", test_other_thread);
  KAA_TEST_ADD ("bad-signal", test_bad_signal);
  KAA_TEST_ADD ("unix-signal", test_unix_signal);
  KAA_TEST_ADD ("unix-signal-death", test_unix_signal_death);
  KAA_TEST_ADD ("unix-signal-bad", test_unix_signal_bad);
  KAA_TEST_ADD ("child-lines", test_child_lines);
  KAA_TEST_ADD ("lines-close", test_lines_close);
  KAA_TEST_ADD ("lines-backpressure", test_lines_backpressure);
  KAA_TEST_ADD ("fd", test_fd);
  return g_test_run ();
}
