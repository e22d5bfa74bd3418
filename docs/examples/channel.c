/* channel.c: the guide's channel and stream examples, as one program
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * docs/guide.md shows this file in pieces; tools/check-guide.py keeps the
 * two in step, and the test suite runs it.
 */
#include <kaa/kaa.h>

/* A thread job produces: each send blocks while the channel is full. */
static gpointer
produce (KaaThreadJob *job,
         gpointer      user_data,
         GError      **error)
{
  KaaChannel *channel = user_data;

  for (guint i = 1; i <= 100; i++)
    if (!kaa_channel_send_blocking (channel, g_strdup_printf ("item %u", i),
                                    kaa_thread_job_get_cancellable (job), error))
      return NULL;
  kaa_channel_close (channel);      /* no more items: the loop below ends */
  return NULL;
}

/* A coroutine consumes, in a loop that ends when the channel is closed
 * and empty. */
static void
consume (KaaCoroutine *self,
         gpointer      user_data)
{
  KaaChannel *channel = user_data;
  g_autoptr(GError) error = NULL;
  gpointer item;
  guint n = 0;

  while (kaa_channel_await_next (channel, &item, &error))
    {
      n++;
      g_free (item);                /* await_next hands the item over */
    }
  if (error != NULL)
    kaa_coroutine_throw (self, g_steal_pointer (&error));   /* cancelled */
  else
    kaa_coroutine_return_int64 (self, n);
}

/* Every "activate" of the action, even two in a row while the loop is
 * busy, comes out of the stream; it ends when the action is finalized. */
static void
count_activations (KaaCoroutine *self,
                   gpointer      user_data)
{
  g_autoptr(KaaChannel) clicks = kaa_channel_new_for_signal (user_data, "activate", 64,
                                                             KAA_OVERFLOW_DROP_OLDEST);
  GArray *args;                     /* each emission's arguments, as GValues */
  gint64 sum = 0;

  g_object_unref (user_data);       /* the stream ends when the action goes */
  while (kaa_channel_await_next (clicks, (gpointer *) &args, NULL))
    {
      GVariant *parameter = g_value_get_variant (&g_array_index (args, GValue, 0));

      sum += g_variant_get_int32 (parameter);
      g_array_unref (args);
    }
  kaa_coroutine_return_int64 (self, sum);
}

int
main (void)
{
  g_autoptr(KaaChannel) channel = kaa_channel_new_full (8, g_free);
  g_autoptr(KaaInProgress) producer = kaa_thread_run (produce, channel, NULL);
  g_autoptr(KaaInProgress) consumer = kaa_coroutine_spawn (consume, channel, NULL);
  GSimpleAction *action = g_simple_action_new ("tick", G_VARIANT_TYPE_INT32);
  g_autoptr(KaaInProgress) counter = kaa_coroutine_spawn (count_activations,
                                                          g_object_ref (action), NULL);

  g_assert_true (kaa_in_progress_wait (producer, NULL));
  g_assert_true (kaa_in_progress_wait (consumer, NULL));
  g_assert_cmpint (kaa_in_progress_get_int64 (consumer), ==, 100);

  for (gint i = 1; i <= 10; i++)
    g_action_activate (G_ACTION (action), g_variant_new_int32 (i));
  g_object_unref (action);
  g_assert_true (kaa_in_progress_wait (counter, NULL));
  g_assert_cmpint (kaa_in_progress_get_int64 (counter), ==, 55);
  return 0;
}
