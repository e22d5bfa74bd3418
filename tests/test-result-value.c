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

/* The resolver's GList of addresses has no GType: a list model of them. */
static void
test_address_list (void)
{
  KaaInProgress *ip = kaa_in_progress_new ();
  GList *addresses = NULL;
  GValue value = G_VALUE_INIT;
  GListModel *model;
  g_autoptr(GInetAddress) first = NULL;

  addresses = g_list_append (addresses, g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4));
  addresses = g_list_append (addresses, g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6));
  kaa_in_progress_finish_pointer (ip, addresses, (GDestroyNotify) g_resolver_free_addresses);
  kaa_in_progress_get_value (ip, &value);
  g_assert_true (G_VALUE_HOLDS (&value, G_TYPE_LIST_STORE));
  model = g_value_get_object (&value);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 2);
  first = g_list_model_get_item (model, 0);
  g_assert_true (first == addresses->data);
  g_value_unset (&value);
  kaa_in_progress_unref (ip);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/kaa/result-value/boxed", test_boxed_results);
  g_test_add_func ("/kaa/result-value/address-list", test_address_list);
  return g_test_run ();
}
