/* test-result-value.c: pointer results of boxed types read as boxed
 * GValues (issue #22)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The GIO wrappers finish with GBytes, GVariant or strv pointers; a
 * binding reads them through kaa_in_progress_get_value(), which must give
 * the boxed type, not G_TYPE_POINTER. tests/test-gi.py reads the wrappers'
 * results from Python.
 */
#include "config.h"

#include "kaa-test-util.h"

static void
check_value (gpointer       result,
             GDestroyNotify destroy,
             GType          expected)
{
  KaaInProgress *ip = kaa_in_progress_new ();
  GValue value = G_VALUE_INIT;

  kaa_in_progress_finish_pointer (ip, result, destroy);
  kaa_in_progress_get_value (ip, &value);
  g_assert_cmpstr (g_type_name (G_VALUE_TYPE (&value)), ==, g_type_name (expected));
  if (expected == G_TYPE_POINTER)
    g_assert_true (g_value_get_pointer (&value) == result);
  else if (expected == G_TYPE_VARIANT)
    g_assert_true (g_value_get_variant (&value) == result);
  else
    /* A reference or a copy of its own: the InProgress keeps its result. */
    g_assert_nonnull (g_value_get_boxed (&value));
  g_value_unset (&value);
  g_assert_true (kaa_in_progress_get_pointer (ip) == result);
  kaa_in_progress_unref (ip);
}

static void
test_boxed_results (void)
{
  static int plain;
  char *strv[] = { (char *) "a", (char *) "b", NULL };

  check_value (g_bytes_new_static ("abc", 3), (GDestroyNotify) g_bytes_unref, G_TYPE_BYTES);
  check_value (g_variant_ref_sink (g_variant_new ("(s)", "reply")),
               (GDestroyNotify) g_variant_unref, G_TYPE_VARIANT);
  check_value (g_strdupv (strv), (GDestroyNotify) g_strfreev, G_TYPE_STRV);
  check_value (&plain, NULL, G_TYPE_POINTER);
  check_value (NULL, (GDestroyNotify) g_bytes_unref, G_TYPE_POINTER);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/kaa/result-value/boxed", test_boxed_results);
  return g_test_run ();
}
