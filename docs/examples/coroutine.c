/* coroutine.c: the guide's coroutine examples, as one program
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * docs/guide.md shows this file in pieces; tools/check-guide.py keeps the
 * two in step, and the test suite runs it.
 */
#include <kaa/kaa.h>

static void
sum_slowly (KaaCoroutine *self,
            gpointer      user_data)
{
  gint64 sum = 0;

  for (int i = 1; i <= 100; i++)
    {
      sum += i;
      if (i % 10 == 0 && !kaa_yield ())   /* NotFinished: the loop runs on */
        return;                           /* FALSE: cancelled */
    }
  kaa_coroutine_return_int64 (self, sum);
}

static void
sleep_then_sum (KaaCoroutine *self,
             gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  gint64 sum;

  /* Suspends this coroutine until the sleep is done; others run meanwhile. */
  if (!kaa_await (kaa_sleep (10), &error))
    {
      kaa_coroutine_throw (self, g_steal_pointer (&error));
      return;
    }

  /* A coroutine's InProgress can be awaited like any other. */
  sum = kaa_await_int64 (kaa_coroutine_spawn (sum_slowly, NULL, NULL), &error);
  if (error != NULL)
    {
      kaa_coroutine_throw (self, g_steal_pointer (&error));
      return;
    }
  kaa_coroutine_return_int64 (self, sum);
}

typedef struct
{
  gboolean cleaned_up;
} Flag;

static void
flag_set (Flag *flag)
{
  flag->cleaned_up = TRUE;
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Flag, flag_set)

static void
wait_forever (KaaCoroutine *self,
              gpointer      user_data)
{
  g_autoptr(Flag) flag = user_data;     /* runs on every exit: "finally" */
  g_autoptr(GError) error = NULL;

  if (!kaa_await (kaa_sleep (G_MAXUINT), &error))
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

int
main (void)
{
  g_autoptr(KaaInProgress) fetch = kaa_coroutine_spawn (sleep_then_sum, NULL, NULL);
  g_autoptr(KaaInProgress) forever = NULL;
  Flag flag = { FALSE };

  g_assert_true (kaa_in_progress_wait (fetch, NULL));
  g_print ("sum: %" G_GINT64_FORMAT "\n", kaa_in_progress_get_int64 (fetch));
  g_assert_cmpint (kaa_in_progress_get_int64 (fetch), ==, 5050);

  forever = kaa_coroutine_spawn (wait_forever, &flag, NULL);
  g_assert_false (kaa_in_progress_is_done (forever));   /* suspended */
  kaa_in_progress_cancel (forever);
  /* Cancel returns with the body unwound and its cleanups run. */
  g_assert_true (flag.cleaned_up);
  g_assert_cmpint (kaa_in_progress_get_state (forever), ==, KAA_STATE_CANCELLED);
  return 0;
}
