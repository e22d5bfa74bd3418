/* scope.c: the guide's task-scope example, as one program
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * docs/guide.md shows this file in pieces; tools/check-guide.py keeps the
 * two in step, and the test suite runs it.
 */
#include <kaa/kaa.h>

/* Stands for a download: it takes @user_data milliseconds; a mirror
 * given 0 is down. */
static void
fetch (KaaCoroutine *self,
       gpointer      user_data)
{
  guint msec = GPOINTER_TO_UINT (user_data);

  if (!kaa_await (kaa_sleep (msec != 0 ? msec : 10), NULL))
    return;                         /* cancelled: the scope is ending */
  if (msec == 0)
    kaa_coroutine_throw (self, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE,
                                                    "the mirror is down"));
}

/* Fetches three mirrors at once; every one must succeed within 500 ms. */
static void
fetch_all (KaaCoroutine *self,
           gpointer      user_data)
{
  g_autoptr(KaaScope) scope = kaa_scope_new (KAA_SCOPE_FAIL_FAST);
  g_autoptr(GError) error = NULL;

  kaa_scope_set_timeout (scope, 500);
  kaa_scope_spawn (scope, fetch, GUINT_TO_POINTER (20), NULL);
  kaa_scope_spawn (scope, fetch, GUINT_TO_POINTER (40), NULL);
  kaa_scope_spawn (scope, fetch, GUINT_TO_POINTER (GPOINTER_TO_UINT (user_data)), NULL);
  if (!kaa_await (kaa_scope_join (scope), &error))
    {
      g_print ("fetch failed: %s\n", error->message);
      kaa_coroutine_throw (self, g_steal_pointer (&error));
    }
}

/* Work started for a window ends with the window. */
static void
watch_window (KaaCoroutine *self,
              gpointer      user_data)
{
  GObject *window = user_data;
  g_autoptr(KaaScope) scope = kaa_scope_new (KAA_SCOPE_FAIL_FAST);

  kaa_scope_bind (scope, window);
  kaa_scope_spawn (scope, fetch, GUINT_TO_POINTER (60000), NULL);
  if (!kaa_await (kaa_scope_join (scope), NULL))
    g_print ("window closed: its work was cancelled\n");
}

int
main (void)
{
  g_autoptr(KaaInProgress) ok = kaa_coroutine_spawn (fetch_all, GUINT_TO_POINTER (60), NULL);
  g_autoptr(KaaInProgress) down = kaa_coroutine_spawn (fetch_all, GUINT_TO_POINTER (0), NULL);
  g_autoptr(KaaInProgress) slow = kaa_coroutine_spawn (fetch_all, GUINT_TO_POINTER (900), NULL);
  GObject *window = g_object_new (G_TYPE_OBJECT, NULL);
  g_autoptr(KaaInProgress) watch = kaa_coroutine_spawn (watch_window, window, NULL);

  g_assert_true (kaa_in_progress_wait (ok, NULL));
  g_assert_false (kaa_in_progress_wait (down, NULL));   /* a mirror is down */
  g_assert_false (kaa_in_progress_wait (slow, NULL));   /* timed out after 500 ms */
  g_object_unref (window);                              /* the window closes */
  g_assert_true (kaa_in_progress_wait (watch, NULL));
  return 0;
}
