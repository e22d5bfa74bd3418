/* kaa-stress-limits.c: a KaaSemaphore in the stress model (issue #18 §3)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * OP_LIMIT either makes an acquire of the interpreter's semaphore a new
 * leaf node, which every other operation may then cancel (here or from a
 * worker), pause, resume, connect to, or have a coroutine or combinator
 * await, or gives back the oldest permit the model holds. A served
 * acquire holds its permit until then (or until the episode settles).
 * The invariants of DESIGN §9, checked after every OP_LIMIT and at the
 * end of every episode:
 *
 *  - available + held = permits, on the owner thread between operations
 *    (releases happen only there, so no permit is in transit);
 *  - an acquire is FINISHED exactly when the model saw it served;
 *  - at the end, nobody waits and every permit is back.
 */
#include "config.h"

#include "kaa-stress-private.h"

#define LIMIT_PERMITS 2

void
stress_limits_init (KaaStress *self)
{
  self->limit = kaa_semaphore_new (LIMIT_PERMITS);
  kaa_semaphore_set_name (self->limit, "stress");
  self->held = g_ptr_array_new ();
}

void
stress_limits_free (KaaStress *self)
{
  g_ptr_array_unref (self->held);
  kaa_semaphore_unref (self->limit);
}

static void
limits_check_count (KaaStress *self)
{
  guint available = kaa_semaphore_get_available (self->limit);

  if (available + self->held->len != LIMIT_PERMITS)
    stress_fail (self, "the semaphore has %u permits available while the model holds %u "
                 "of %d", available, self->held->len, LIMIT_PERMITS);
}

static void
limits_hold (Node *node)
{
  node->served = TRUE;
  g_ptr_array_add (node->stress->held, node);
  stress_trace (node->stress, "acquire %u served", node->id);
}

/* On the owner thread, inside the hand-out that served it: releases
 * happen only there. */
static void
limits_served (KaaInProgress *ip,
               gpointer       data)
{
  Node *node = data;

  if (kaa_in_progress_get_state (ip) != KAA_STATE_FINISHED)
    return;
  if (g_thread_self () != node->stress->owner)
    stress_fail (node->stress, "acquire %u was served off the owner thread", node->id);
  limits_hold (node);
}

static void
limits_release_oldest (KaaStress *self)
{
  Node *node = g_ptr_array_steal_index (self->held, 0);

  stress_trace (self, "release of %u", node->id);
  kaa_semaphore_release (self->limit);
}

void
stress_limits_op (KaaStress      *self,
                  KaaStressBytes *bytes,
                  gboolean        room)
{
  guint8 byte = kaa_stress_bytes_next (bytes);

  if (byte % 3 == 0 && self->held->len > 0)
    limits_release_oldest (self);
  else if (room)
    {
      Node *node = stress_node_alloc (self, NODE_ACQUIRE, 0);
      KaaInProgress *ip = kaa_semaphore_acquire (self->limit);

      self->stats.acquires++;
      /* Served at once, or later inside a release; connected first, so
       * that the model knows it holds before anyone else hears of it. */
      if (kaa_in_progress_is_done (ip))
        limits_hold (node);
      else
        kaa_in_progress_connect (ip, limits_served, node, NULL);
      stress_node_set_ip (self, node, ip);
    }
  limits_check_count (self);
}

/* While settling: what the model holds goes back, so that every waiter
 * is served or cancelled. */
void
stress_limits_release_all (KaaStress *self)
{
  while (self->held->len > 0)
    limits_release_oldest (self);
}

void
stress_limits_check_node (Node *node)
{
  gboolean finished = kaa_in_progress_get_state (node->ip) == KAA_STATE_FINISHED;

  if (finished != node->served)
    stress_fail (node->stress, "acquire %u is in state %d, but the model %s it served",
                 node->id, kaa_in_progress_get_state (node->ip),
                 node->served ? "saw" : "never saw");
}

void
stress_limits_check_settled (KaaStress *self)
{
  stress_limits_release_all (self);
  limits_check_count (self);
  if (kaa_semaphore_get_n_waiting (self->limit) != 0)
    stress_fail (self, "%u waiters are left in the semaphore's line after the episode",
                 kaa_semaphore_get_n_waiting (self->limit));
}
