/* test-gio-more.c: kaa_file_read(), kaa_file_query_info(), kaa_bus_get(),
 * kaa_await_bytes() and kaa_channel_new_for_children() (issue #22)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <glib/gstdio.h>

#include "kaa-test-util.h"

#define CONTENTS "kaa reads this"

static GFile *
temp_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (g_get_tmp_dir (), "kaa-gio-more-XXXXXX", NULL);
  int fd = g_mkstemp (path);

  g_assert_cmpint (fd, >=, 0);
  g_assert_true (g_file_set_contents (path, CONTENTS, -1, &error));
  close (fd);
  return g_file_new_for_path (path);
}

static void
test_file_read_and_query (void)
{
  g_autoptr(GFile) file = temp_file ();
  g_autoptr(GFile) missing = g_file_new_for_path ("/nonexistent/kaa");
  g_autoptr(GError) error = NULL;
  KaaInProgress *ip;
  GFileInfo *info;
  char buffer[64] = { 0 };
  gsize n = 0;

  ip = kaa_file_read (file);
  g_assert_true (kaa_in_progress_wait (ip, &error));
  g_assert_true (G_IS_FILE_INPUT_STREAM (kaa_in_progress_get_object (ip)));
  g_assert_true (g_input_stream_read_all (kaa_in_progress_get_object (ip), buffer,
                                          sizeof buffer - 1, &n, NULL, &error));
  g_assert_cmpstr (buffer, ==, CONTENTS);
  kaa_in_progress_unref (ip);

  ip = kaa_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_SIZE, G_FILE_QUERY_INFO_NONE);
  g_assert_true (kaa_in_progress_wait (ip, &error));
  info = kaa_in_progress_get_object (ip);
  g_assert_true (G_IS_FILE_INFO (info));
  g_assert_cmpint (g_file_info_get_size (info), ==, strlen (CONTENTS));
  kaa_in_progress_unref (ip);

  ip = kaa_file_read (missing);
  g_assert_false (kaa_in_progress_wait (ip, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  kaa_in_progress_unref (ip);

  g_file_delete (file, NULL, NULL);
}

/* No bus there (tests/meson.build gives none): it fails, and does not
 * hang. */
static void
test_bus_get_fails_without_a_bus (void)
{
  g_autoptr(GError) error = NULL;
  KaaInProgress *ip = kaa_bus_get (G_BUS_TYPE_SESSION);

  g_assert_false (kaa_in_progress_wait (ip, &error));
  g_assert_nonnull (error);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_FAILED);
  kaa_in_progress_unref (ip);
}

static void
await_contents (KaaCoroutine *self,
                gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = kaa_await_bytes (kaa_file_load_contents (user_data), &error);
  g_autoptr(GInputStream) stream = g_memory_input_stream_new_from_data ("abcdef", 6, NULL);
  g_autoptr(GBytes) part = kaa_await_bytes (kaa_input_stream_read_bytes (stream, 4), &error);
  g_autoptr(GBytes) wrong = NULL;

  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                   CONTENTS, strlen (CONTENTS));
  g_assert_cmpmem (g_bytes_get_data (part, NULL), g_bytes_get_size (part), "abcd", 4);

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*not GBytes*");
  wrong = kaa_await_bytes (kaa_file_query_info (user_data, "standard::size", 0), &error);
  g_test_assert_expected_messages ();
  g_assert_null (wrong);
  g_assert_error (error, KAA_ERROR, KAA_ERROR_WRONG_RESULT_TYPE);
  kaa_coroutine_return_boolean (self, TRUE);
}

static void
test_await_bytes (void)
{
  g_autoptr(GFile) file = temp_file ();
  g_autoptr(GError) error = NULL;
  KaaInProgress *ip = kaa_coroutine_spawn (await_contents, file, NULL);

  g_assert_true (kaa_in_progress_wait (ip, &error));
  g_assert_true (kaa_in_progress_get_boolean (ip));
  kaa_in_progress_unref (ip);
  g_file_delete (file, NULL, NULL);
}

/* ------------------------------------------------------------ children */

typedef struct
{
  GFile     *directory;
  GPtrArray *names;      /* what the loop received */
  GError    *error;      /* how it ended */
  guint      stop_after; /* close the stream after that many, 0 for never */
} Listing;

static void
list_children (KaaCoroutine *self,
               gpointer      user_data)
{
  Listing *listing = user_data;
  g_autoptr(KaaChannel) children =
    kaa_channel_new_for_children (listing->directory, G_FILE_ATTRIBUTE_STANDARD_NAME,
                                  G_FILE_QUERY_INFO_NONE, 2);
  gpointer item;

  while (kaa_channel_await_next (children, &item, &listing->error))
    {
      g_ptr_array_add (listing->names, g_strdup (g_file_info_get_name (item)));
      g_object_unref (item);
      if (listing->names->len == listing->stop_after)
        kaa_channel_close (children);
    }
  kaa_coroutine_return_boolean (self, TRUE);
}

static void
run_listing (Listing *listing)
{
  KaaInProgress *ip = kaa_coroutine_spawn (list_children, listing, NULL);

  g_assert_true (kaa_in_progress_wait (ip, NULL));
  kaa_in_progress_unref (ip);
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(char **) a, *(char **) b);
}

static void
test_children_stream (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_dir_make_tmp ("kaa-children-XXXXXX", &error);
  g_autoptr(GFile) missing = g_file_new_for_path ("/nonexistent/kaa-dir");
  Listing listing = { 0 };

  g_assert_no_error (error);
  for (int i = 0; i < 5; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s/child-%d", path, i);

      g_assert_true (g_file_set_contents (name, "x", 1, NULL));
    }

  /* All five, though the channel holds two at a time, then the end. */
  listing.directory = g_file_new_for_path (path);
  listing.names = g_ptr_array_new_with_free_func (g_free);
  run_listing (&listing);
  g_assert_no_error (listing.error);
  g_assert_cmpuint (listing.names->len, ==, 5);
  g_ptr_array_sort (listing.names, compare_names);
  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *expected = g_strdup_printf ("child-%u", i);

      g_assert_cmpstr (listing.names->pdata[i], ==, expected);
    }

  /* Closed after two: the listing stops, nothing leaks. */
  g_ptr_array_set_size (listing.names, 0);
  listing.stop_after = 2;
  run_listing (&listing);
  g_assert_cmpuint (listing.names->len, ==, 2);
  g_clear_error (&listing.error);
  for (int i = 0; i < 5; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s/child-%d", path, i);

      g_unlink (name);
    }
  g_rmdir (path);
  g_object_unref (listing.directory);

  /* Not there: the loop ends with the error. */
  listing.directory = missing;
  listing.stop_after = 0;
  g_ptr_array_set_size (listing.names, 0);
  run_listing (&listing);
  g_assert_error (listing.error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&listing.error);
  g_ptr_array_unref (listing.names);
}

int
main (int    argc,
      char **argv)
{
  g_setenv ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/kaa-bus", TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/kaa/gio-more/file-read-and-query", test_file_read_and_query);
  g_test_add_func ("/kaa/gio-more/bus-get", test_bus_get_fails_without_a_bus);
  g_test_add_func ("/kaa/gio-more/await-bytes", test_await_bytes);
  g_test_add_func ("/kaa/gio-more/children-stream", test_children_stream);
  return g_test_run ();
}
