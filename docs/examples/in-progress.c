/* in-progress.c: the guide's InProgress examples, as one program
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * docs/guide.md shows this file in pieces; tools/check-guide.py keeps the
 * two in step, and the test suite runs it.
 */
#include <kaa/kaa.h>

static void
on_settled (KaaInProgress *ip,
            gpointer       user_data)
{
  g_autoptr(GError) error = NULL;
  int *calls = user_data;

  (*calls)++;
  if (kaa_in_progress_propagate (ip, &error))
    g_print ("%s finished: %" G_GINT64_FORMAT "\n",
             kaa_in_progress_get_name (ip), kaa_in_progress_get_int64 (ip));
  else
    g_print ("%s failed: %s\n", kaa_in_progress_get_name (ip), error->message);
}

static void
producer_and_consumer (void)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  int calls = 0;

  kaa_in_progress_set_name (ip, "answer");
  kaa_in_progress_connect (ip, on_settled, &calls, NULL);

  /* On the owner thread, the callbacks connected so far run right here. */
  kaa_in_progress_finish_int64 (ip, 42);
  g_assert_cmpint (calls, ==, 1);

  /* A late connect is still called once, on the next dispatch. */
  kaa_in_progress_connect (ip, on_settled, &calls, NULL);
  g_assert_cmpint (calls, ==, 1);
  while (calls < 2)
    g_main_context_iteration (NULL, TRUE);
}

static void
failing (void)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  g_autoptr(GError) error = NULL;

  kaa_in_progress_fail_literal (ip, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                                "no such file");
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_FAILED);

  /* Reading the error counts as handling it: no warning at release. */
  g_assert_false (kaa_in_progress_wait (ip, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

static void
results (void)
{
  g_autoptr(KaaInProgress) text = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) object = kaa_in_progress_new ();
  g_autoptr(GFile) file = g_file_new_for_path ("/tmp");
  g_autoptr(GFile) same = NULL;
  g_autofree char *copy = NULL;

  kaa_in_progress_finish_string (text, "hello");       /* copied */
  kaa_in_progress_finish_object (object, file);        /* a new reference */

  copy = kaa_in_progress_dup_string (text);             /* yours */
  same = kaa_in_progress_dup_object (object);           /* yours */
  g_assert_cmpstr (kaa_in_progress_get_string (text), ==, copy);
  g_assert_true (same == file);
}

static void
chaining (void)
{
  g_autoptr(KaaInProgress) source = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) follower = kaa_in_progress_new ();
  /* Both take the reference they are given: we keep our own to source. */
  g_autoptr(KaaInProgress) shielded = kaa_in_progress_shield (kaa_in_progress_ref (source));

  kaa_in_progress_finish_from (follower, kaa_in_progress_ref (source));

  /* Cancelling the shield stops only the following. */
  kaa_in_progress_cancel (shielded);
  g_assert_false (kaa_in_progress_is_done (source));

  kaa_in_progress_finish_int64 (source, 7);
  g_assert_true (kaa_in_progress_wait (follower, NULL));
  g_assert_cmpint (kaa_in_progress_get_int64 (follower), ==, 7);
}

int
main (void)
{
  producer_and_consumer ();
  failing ();
  results ();
  chaining ();
  return 0;
}
