/* kaa-coroutine-dump.c: a coroutine's line in the live dump (issue 19)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Asked on the owner thread only, so none of what it reads moves.
 */
#include "config.h"

#include "kaa-coroutine-private.h"

void
kaa_coroutine_describe (KaaProducer   *producer,
                        KaaInProgress *in_progress,
                        KaaDumpNode   *node)
{
  KaaCoroutine *self = (KaaCoroutine *) producer;

  kaa_dump_node_set_kind (node, "coroutine");
  kaa_dump_node_set_body (node, (gpointer) self->func);
  kaa_dump_node_set_site (node, self->site_file, self->site_line);
  if (self->fiber == NULL)
    kaa_dump_node_set_state (node, "not started");
  else if (kaa_coroutine_on_stack (self))
    kaa_dump_node_set_state (node, "running");
  else if (self->await.awaited != NULL)
    {
      kaa_dump_node_set_state (node, "awaiting");
      kaa_dump_node_add_awaited (node, self->await.awaited);
    }
  else if (g_atomic_int_get (&self->queued) != NOT_QUEUED || self->where == WHERE_HELD)
    kaa_dump_node_set_state (node, "yielded");
  else if (self->interval != 0)
    kaa_dump_node_set_timer_state (node, "sleeping", in_progress, &self->timer);
  else
    kaa_dump_node_set_state (node, "suspended");
}
