/* test-signal-args.c: a signal's arguments as a KaaSignalArgs (issue #22)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * kaa_in_progress_new_for_signal() and a signal stream hand over the
 * emission's arguments. C reads them as a GArray of GValue, as before; a
 * binding reads them through kaa_in_progress_get_value(), which must give
 * the boxed KaaSignalArgs, not a bare G_TYPE_POINTER. tests/test-gi.py
 * reads them from Python.
 */
#include "config.h"

#include "kaa-test-util.h"

#define KAA_TEST_AREA "signal-args"

/* Reads @ip's result through get_value(): one argument, the int32
 * variant @expected. */
static void
assert_args_value (KaaInProgress *ip,
                   gint32         expected)
{
  g_auto(GValue) value = G_VALUE_INIT;
  KaaSignalArgs *args;

  kaa_in_progress_get_value (ip, &value);
  g_assert_cmpstr (G_VALUE_TYPE_NAME (&value), ==, "KaaSignalArgs");
  args = g_value_get_boxed (&value);
  g_assert_cmpuint (kaa_signal_args_get_length (args), ==, 1);
  g_assert_true (G_VALUE_HOLDS_VARIANT (kaa_signal_args_get (args, 0)));
  g_assert_cmpint (g_variant_get_int32 (g_value_get_variant (kaa_signal_args_get (args, 0))),
                   ==, expected);
}

static void
test_wait_reads_as_signal_args (KaaTestFixture *f,
                                gconstpointer   data)
{
  g_autoptr(GSimpleAction) action = g_simple_action_new ("go", G_VARIANT_TYPE_INT32);
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new_for_signal (action, "activate");
  GArray *array;

  g_test_summary ("Issue 22 §2: the arguments of a signal wait read through "
                  "kaa_in_progress_get_value() as a KaaSignalArgs, and still as a GArray "
                  "of GValue from C");
  g_test_bug ("22");

  g_action_activate (G_ACTION (action), g_variant_new_int32 (7));
  g_assert_true (kaa_in_progress_is_done (ip));
  assert_args_value (ip, 7);

  array = kaa_in_progress_get_pointer (ip);
  g_assert_cmpuint (array->len, ==, 1);
  g_assert_true (&g_array_index (array, GValue, 0) ==
                 kaa_signal_args_get ((KaaSignalArgs *) array, 0));
}

static void
test_stream_items_read_as_signal_args (KaaTestFixture *f,
                                       gconstpointer   data)
{
  g_autoptr(GSimpleAction) action = g_simple_action_new ("go", G_VARIANT_TYPE_INT32);
  g_autoptr(KaaChannel) stream = kaa_channel_new_for_signal (action, "activate", 8,
                                                             KAA_OVERFLOW_FAIL);

  g_test_summary ("Issue 22 §2: kaa_channel_receive_value() receives a signal stream's "
                  "items, which read through get_value() as a KaaSignalArgs");
  g_test_bug ("22");

  for (gint32 i = 0; i < 3; i++)
    g_action_activate (G_ACTION (action), g_variant_new_int32 (i));
  for (gint32 i = 0; i < 3; i++)
    {
      g_autoptr(KaaInProgress) receive = kaa_channel_receive_value (stream);

      kaa_test_pump_until_done (f->context, receive);
      g_assert_true (kaa_in_progress_propagate (receive, NULL));
      assert_args_value (receive, i);
    }
  kaa_channel_close (stream);
}

static void
test_bad_index (KaaTestFixture *f,
                gconstpointer   data)
{
  g_autoptr(GSimpleAction) action = g_simple_action_new ("go", NULL);
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new_for_signal (action, "activate");
  g_autoptr(KaaSignalArgs) args = NULL;

  g_test_summary ("Issue 22 §2: reading past a KaaSignalArgs' last argument is a "
                  "programming error: a critical and NULL");
  g_test_bug ("22");

  g_action_activate (G_ACTION (action), NULL);
  args = kaa_signal_args_ref (kaa_in_progress_get_pointer (ip));
  g_assert_cmpuint (kaa_signal_args_get_length (args), ==, 1);   /* the NULL parameter */
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*index < args->len*");
  g_assert_null (kaa_signal_args_get (args, 1));
  g_test_assert_expected_messages ();
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  KAA_TEST_ADD ("wait-reads-as-signal-args", test_wait_reads_as_signal_args);
  KAA_TEST_ADD ("stream-items-read-as-signal-args", test_stream_items_read_as_signal_args);
  KAA_TEST_ADD ("bad-index", test_bad_index);
  return g_test_run ();
}
