/* kaa-stress-channel.c: a channel episode among the stress operations (issue #18)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Self-contained: one channel of a random capacity, a few dozen random
 * sends, receives, try-forms, cancels (also from another thread), pauses,
 * resumes and pumps on the stress context, then a close and a check of
 * DESIGN §9's conservation: every item whose send finished is received
 * exactly once (by a receive or a try_receive), every item whose send
 * failed or was cancelled is freed exactly once and received never, and a
 * cancelled receive holds no item. It shares nothing with the node
 * model, so it predicts nothing there.
 */
#include "config.h"

#include "kaa-stress-private.h"

#define MAX_ITEMS 48

typedef struct
{
  KaaStress     *stress;
  KaaChannel    *channel;
  KaaInProgress *sends[MAX_ITEMS];     /* NULL for a try_send */
  gboolean       tried[MAX_ITEMS];     /* try_send took it */
  gint           freed[MAX_ITEMS];     /* atomic: the destroy notify's */
  guint          received[MAX_ITEMS];
  guint          n_items;
  GPtrArray     *receives;             /* KaaInProgress*, owned */
  GPtrArray     *paused;               /* KaaInProgress*, ours to resume */
  GPtrArray     *threads;              /* GThread*: remote cancels */
} Episode;

typedef struct
{
  Episode *episode;
  guint    id;
} Item;

static void
item_free (gpointer data)
{
  Item *item = data;

  g_atomic_int_inc (&item->episode->freed[item->id]);
  g_free (item);
}

static KaaInProgress *
pick_pending (Episode *episode,
              guint64  seed)
{
  guint n = episode->receives->len + episode->n_items;

  for (guint i = 0; i < n; i++)
    {
      guint k = (guint) ((seed + i) % n);
      KaaInProgress *ip = k < episode->receives->len
                          ? g_ptr_array_index (episode->receives, k)
                          : episode->sends[k - episode->receives->len];

      if (ip != NULL && !kaa_in_progress_is_done (ip))
        return ip;
    }
  return NULL;
}

static gpointer
thread_cancel (gpointer data)
{
  kaa_in_progress_cancel (data);
  kaa_in_progress_unref (data);
  return NULL;
}

static void
episode_send (Episode  *episode,
              gboolean  try_form)
{
  Item *item = g_new0 (Item, 1);
  guint id = episode->n_items++;

  item->episode = episode;
  item->id = id;
  if (!try_form)
    episode->sends[id] = kaa_channel_send (episode->channel, item);
  else if (kaa_channel_try_send (episode->channel, item))
    episode->tried[id] = TRUE;
  else
    item_free (item);   /* not taken: still ours, and counted as never sent */
}

static void
episode_take (Episode *episode,
              Item    *item)
{
  episode->received[item->id]++;
  g_free (item);
}

static void
episode_step (Episode *episode,
              guint8   byte,
              guint64  seed)
{
  KaaInProgress *ip;
  gpointer item;

  switch (byte % 10)
    {
    case 0: case 1:
      if (episode->n_items < MAX_ITEMS)
        episode_send (episode, byte % 10 == 1 && (byte & 0x10));
      break;
    case 2: case 3:
      g_ptr_array_add (episode->receives, kaa_channel_receive (episode->channel));
      break;
    case 4:
      if (kaa_channel_try_receive (episode->channel, &item))
        episode_take (episode, item);
      break;
    case 5:
      if ((ip = pick_pending (episode, seed)) != NULL)
        kaa_in_progress_cancel (ip);
      break;
    case 6:
      if ((ip = pick_pending (episode, seed)) != NULL)
        g_ptr_array_add (episode->threads,
                         g_thread_new ("stress-ch", thread_cancel, kaa_in_progress_ref (ip)));
      break;
    case 7:
      if ((ip = pick_pending (episode, seed)) != NULL)
        {
          kaa_in_progress_pause (ip);
          g_ptr_array_add (episode->paused, ip);
        }
      break;
    case 8:
      if (episode->paused->len > 0)
        kaa_in_progress_resume (g_ptr_array_steal_index (episode->paused,
                                                         seed % episode->paused->len));
      break;
    default:
      g_main_context_iteration (NULL, FALSE);
      break;
    }
}

/* Everything settles: the pauses are undone, the remote cancels have
 * arrived, and the close fails what still waits. */
static void
episode_settle (Episode *episode)
{
  gpointer item;

  while (episode->paused->len > 0)
    kaa_in_progress_resume (g_ptr_array_steal_index (episode->paused, 0));
  for (guint i = 0; i < episode->threads->len; i++)
    g_thread_join (g_ptr_array_index (episode->threads, i));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  kaa_channel_close (episode->channel);
  while (kaa_channel_try_receive (episode->channel, &item))
    episode_take (episode, item);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
episode_check (Episode *episode)
{
  KaaStress *self = episode->stress;

  for (guint i = 0; i < episode->receives->len; i++)
    {
      KaaInProgress *receive = g_ptr_array_index (episode->receives, i);
      KaaState state = kaa_in_progress_get_state (receive);

      if (state == KAA_STATE_PENDING)
        stress_fail (self, "channel: receive %u still pending after the close", i);
      if (state == KAA_STATE_FINISHED)
        episode->received[((Item *) kaa_in_progress_get_pointer (receive))->id]++;
      else
        (void) kaa_in_progress_get_error (receive);   /* seen: no warning */
    }
  for (guint id = 0; id < episode->n_items; id++)
    {
      KaaInProgress *send = episode->sends[id];
      gboolean sent = send != NULL ? kaa_in_progress_get_state (send) == KAA_STATE_FINISHED
                                   : episode->tried[id];
      gint freed = g_atomic_int_get (&episode->freed[id]);

      if (send != NULL && !kaa_in_progress_is_done (send))
        stress_fail (self, "channel: send %u still pending after the close", id);
      if (send != NULL && !sent)
        (void) kaa_in_progress_get_error (send);
      if (sent && (episode->received[id] != 1 || freed != 0))
        stress_fail (self, "channel: item %u sent, then received %u times and freed %d times",
                     id, episode->received[id], freed);
      if (!sent && (episode->received[id] != 0 || freed != 1))
        stress_fail (self, "channel: item %u not sent, yet received %u times and freed %d times",
                     id, episode->received[id], freed);
    }
}

void
stress_channel_episode (KaaStress      *self,
                        KaaStressBytes *bytes)
{
  static const guint capacities[] = { 0, 1, 3, KAA_CHANNEL_UNBOUNDED };
  Episode *episode = g_new0 (Episode, 1);
  guint n_steps = 8 + kaa_stress_bytes_next (bytes) % 40;

  episode->stress = self;
  episode->channel = kaa_channel_new_full (capacities[kaa_stress_bytes_next (bytes) % 4],
                                           item_free);
  episode->receives = g_ptr_array_new_with_free_func ((GDestroyNotify) kaa_in_progress_unref);
  episode->paused = g_ptr_array_new ();
  episode->threads = g_ptr_array_new ();
  stress_trace (self, "channel episode, capacity %u, %u steps",
                kaa_channel_get_capacity (episode->channel), n_steps);
  for (guint i = 0; i < n_steps; i++)
    episode_step (episode, kaa_stress_bytes_next (bytes), kaa_stress_bytes_next64 (bytes));
  episode_settle (episode);
  episode_check (episode);

  g_ptr_array_unref (episode->receives);
  for (guint id = 0; id < episode->n_items; id++)
    g_clear_pointer (&episode->sends[id], kaa_in_progress_unref);
  g_ptr_array_unref (episode->paused);
  g_ptr_array_unref (episode->threads);
  kaa_channel_unref (episode->channel);
  self->stats.channel_episodes++;
  g_free (episode);
}
