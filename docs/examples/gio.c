/* gio.c: the guide's GIO examples, as one program
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * docs/guide.md shows this file in pieces; tools/check-guide.py keeps the
 * two in step, and the test suite runs it.
 */
#include <kaa/kaa.h>
#include <glib/gstdio.h>

static void
load_by_hand (KaaCoroutine *self,
              gpointer      user_data)
{
  GFile *file = user_data;
  KaaInProgress *ip = kaa_in_progress_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;

  /* Any g_*_async() call: cancelling the coroutine cancels the call. */
  g_file_load_contents_async (file, kaa_in_progress_get_cancellable (ip),
                              kaa_async_ready, kaa_async_data (ip));
  result = kaa_await_object (ip, &error);
  if (result == NULL
      || !g_file_load_contents_finish (file, result, &contents, NULL, NULL, &error))
    {
      kaa_coroutine_throw (self, g_steal_pointer (&error));
      return;
    }
  kaa_coroutine_return_string (self, contents);
}

static void
load_the_short_way (KaaCoroutine *self,
                    gpointer      user_data)
{
  g_autoptr(KaaInProgress) ip = kaa_file_load_contents (user_data);
  GBytes *bytes;

  if (!kaa_await_borrowed (ip, NULL))          /* ip stays ours */
    return;
  bytes = kaa_in_progress_get_pointer (ip);     /* owned by ip */
  kaa_coroutine_return_int64 (self, g_bytes_get_size (bytes));
}

static void
wait_for_activation (KaaCoroutine *self,
                     gpointer      user_data)
{
  /* The next emission of a signal, as an InProgress. */
  if (kaa_await (kaa_in_progress_new_for_signal (user_data, "activate"), NULL))
    kaa_coroutine_return_boolean (self, TRUE);
}

/* A coroutine offered as a standard _async()/_finish() pair. */
static void
file_size_async (GFile               *file,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  g_autoptr(KaaInProgress) ip = kaa_coroutine_spawn (load_the_short_way,
                                                     g_object_ref (file),
                                                     g_object_unref);

  kaa_in_progress_to_task (ip, file, cancellable, callback, user_data,
                           file_size_async);
}

static gint64
file_size_finish (GFile         *file,
                  GAsyncResult  *result,
                  GError       **error)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_from_task (result, file,
                                                           file_size_async,
                                                           error);

  return ip != NULL ? kaa_in_progress_get_int64 (ip) : -1;
}

static void
on_file_size (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  gint64 *size = user_data;

  *size = file_size_finish (G_FILE (source), result, NULL);
}

int
main (void)
{
  g_autofree char *path = g_build_filename (g_get_tmp_dir (), "kaa-guide-gio.txt", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GSimpleAction) action = g_simple_action_new ("go", NULL);
  g_autoptr(KaaInProgress) by_hand = NULL;
  g_autoptr(KaaInProgress) activated = NULL;
  gint64 size = 0;

  g_assert_true (g_file_set_contents (path, "twelve bytes", -1, NULL));

  by_hand = kaa_coroutine_spawn (load_by_hand, file, NULL);
  g_assert_true (kaa_in_progress_wait (by_hand, NULL));
  g_assert_cmpstr (kaa_in_progress_get_string (by_hand), ==, "twelve bytes");

  file_size_async (file, NULL, on_file_size, &size);
  while (size == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (size, ==, 12);

  activated = kaa_coroutine_spawn (wait_for_activation, action, NULL);
  g_action_activate (G_ACTION (action), NULL);
  g_assert_true (kaa_in_progress_wait (activated, NULL));

  g_print ("read \"%s\", %" G_GINT64_FORMAT " bytes\n",
           kaa_in_progress_get_string (by_hand), size);
  g_unlink (path);
  return 0;
}
