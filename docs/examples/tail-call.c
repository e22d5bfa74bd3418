/* tail-call.c: the guide's tail-call example, as one program
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * docs/guide.md shows this file in pieces; tools/check-guide.py keeps the
 * two in step, and the test suite runs it.
 */
#include <kaa/kaa.h>

typedef struct
{
  guint   remaining;
  gint64  handled;
} Connection;

static void read_request (KaaCoroutine *self, gpointer user_data);

static void
write_reply (KaaCoroutine *self,
             gpointer      user_data)
{
  Connection *connection = user_data;
  g_autofree char *reply = g_strdup_printf ("reply %u", connection->remaining);

  if (!kaa_yield ())              /* the loop runs between two states */
    return;
  connection->handled++;
  /* Not a call: this frame, and @reply, are gone before read_request runs. */
  kaa_coroutine_become (self, read_request, connection, NULL);
}

static void
read_request (KaaCoroutine *self,
              gpointer      user_data)
{
  Connection *connection = user_data;

  if (connection->remaining-- == 0)
    {
      kaa_coroutine_return_int64 (self, connection->handled);
      return;
    }
  kaa_coroutine_become (self, write_reply, connection, NULL);
}

int
main (void)
{
  Connection connection = { .remaining = 10000 };
  g_autoptr(KaaInProgress) ip = kaa_coroutine_spawn (read_request, &connection, NULL);

  /* Twenty thousand states in a row, on one stack of constant depth. */
  g_assert_true (kaa_in_progress_wait (ip, NULL));
  g_assert_cmpint (kaa_in_progress_get_int64 (ip), ==, 10000);
  g_print ("handled %" G_GINT64_FORMAT " requests\n", kaa_in_progress_get_int64 (ip));
  return 0;
}
