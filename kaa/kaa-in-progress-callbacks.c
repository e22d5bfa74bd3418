/* kaa-in-progress-callbacks.c: connecting and disconnecting callbacks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Any thread may connect; only the owner disconnects, delivers and frees.
 * A callback's node lives in one of three places:
 *
 *  - `callbacks`, the incoming stack: pushers CAS its head and touch
 *    nothing else, so connecting stays lock-free from any thread;
 *  - `pending`, the owner's list, oldest first: whenever the owner needs
 *    to find a node (a disconnect, a delivery) it first drains the whole
 *    incoming stack into it, each node once, so this costs O(1) per
 *    connect over time;
 *  - the `remaining` list of a delivery running on the C stack.
 *
 * The owner's lists are doubly linked, so a node leaves either in O(1).
 * An id finds its node by a short search while there are few callbacks,
 * and through `index` (id → node, built the first time a search would be
 * long) from then on: disconnecting one of N callbacks is O(1) (DESIGN
 * §6), which a cancel of N coroutines awaiting one InProgress needs.
 *
 * A settler on another thread must know whether callbacks are waiting
 * once it has published the final state. It reads `callbacks`, then
 * `has_pending`; a drain empties `callbacks`, then sets `has_pending`,
 * then reads the state (all sequentially consistent). So either the
 * settler sees the nodes, or the drain sees the final state and queues
 * the delivery itself.
 */
#include "config.h"

#include "kaa-debug-private.h"
#include "kaa-in-progress-impl-private.h"

/* Beyond this many nodes searched, an id is looked up in an index. */
#define SEARCH_BUDGET 16

static gulong next_callback_id;

/* Nodes looked at to find one by its id (kaa-in-progress-private.h). */
static guint64 search_steps;

/* Ids are unique per process, so that an id of another InProgress never
 * finds a callback here. Each thread takes them from the global counter
 * in blocks, so connecting costs no shared atomic operation. */
#define CALLBACK_ID_BLOCK 1024

gulong
kaa_in_progress_callback_id_new (void)
{
  static KAA_THREAD_LOCAL gulong next, end;

  if (G_UNLIKELY (next == end))
    {
      next = __atomic_fetch_add (&next_callback_id, CALLBACK_ID_BLOCK, __ATOMIC_RELAXED) + 1;
      end = next + CALLBACK_ID_BLOCK;
    }
  return next++;
}

static void
list_init (CallbackLink *list)
{
  list->next = list->prev = list;
}

static gboolean
list_is_empty (CallbackLink *list)
{
  return list->next == list;
}

static void
list_insert_after (CallbackLink *at,
                   CallbackLink *link)
{
  link->prev = at;
  link->next = at->next;
  at->next->prev = link;
  at->next = link;
}

static void
list_unlink (CallbackLink *link)
{
  link->prev->next = link->next;
  link->next->prev = link->prev;
  link->next = link->prev = NULL;
}

void
kaa_in_progress_init_callbacks (KaaInProgress *self)
{
  list_init (&self->pending);
}

/* Owner thread, after a change to `pending`: tells settlers on other
 * threads whether it holds anything (see the header comment). */
static void
pending_publish (KaaInProgress *self)
{
  g_atomic_int_set (&self->has_pending, !list_is_empty (&self->pending));
}

/* Owner thread: moves the incoming stack to the end of `pending`, oldest
 * first. Returns whether it moved anything. */
static gboolean
callbacks_drain (KaaInProgress *self)
{
  CallbackLink *stack;
  CallbackLink *tail = self->pending.prev;

  if (g_atomic_pointer_get (&self->callbacks) == NULL)
    return FALSE;
  stack = g_atomic_pointer_exchange (&self->callbacks, NULL);
  /* The stack is newest first: each node goes in right after the old
   * tail, in front of the newer ones already there. */
  while (stack != NULL)
    {
      CallbackLink *next = stack->next;

      list_insert_after (tail, stack);
      if (self->index != NULL)
        g_hash_table_insert (self->index, GSIZE_TO_POINTER (((CallbackNode *) stack)->id), stack);
      stack = next;
    }
  pending_publish (self);
  return TRUE;
}

static void
index_add_list (GHashTable   *index,
                CallbackLink *list)
{
  for (CallbackLink *link = list->next; link != list; link = link->next)
    {
      __atomic_fetch_add (&search_steps, 1, __ATOMIC_RELAXED);
      g_hash_table_insert (index, GSIZE_TO_POINTER (((CallbackNode *) link)->id), link);
    }
}

static void
callbacks_build_index (KaaInProgress *self)
{
  self->index = g_hash_table_new (NULL, NULL);
  index_add_list (self->index, &self->pending);
  for (DeliverFrame *frame = self->frames; frame != NULL; frame = frame->outer)
    index_add_list (self->index, &frame->remaining);
}

/* Searches @list for @id, at most *@budget nodes; *@budget drops to 0
 * when the search had to stop early. */
static CallbackNode *
list_find (CallbackLink *list,
           gulong        id,
           guint        *budget)
{
  for (CallbackLink *link = list->next; link != list; link = link->next)
    {
      if (*budget == 0)
        return NULL;
      (*budget)--;
      __atomic_fetch_add (&search_steps, 1, __ATOMIC_RELAXED);
      if (((CallbackNode *) link)->id == id)
        return (CallbackNode *) link;
    }
  return NULL;
}

/* Owner thread, after a drain: the node of @id that is pending or waits
 * in a delivery, or NULL. */
static CallbackNode *
callbacks_find (KaaInProgress *self,
                gulong         id)
{
  CallbackNode *node;
  guint budget = SEARCH_BUDGET;

  if (self->index == NULL)
    {
      node = list_find (&self->pending, id, &budget);
      for (DeliverFrame *frame = self->frames;
           node == NULL && budget > 0 && frame != NULL;
           frame = frame->outer)
        {
          budget--;
          node = list_find (&frame->remaining, id, &budget);
        }
      if (node != NULL || budget > 0)
        return node;
      callbacks_build_index (self);
    }
  return g_hash_table_lookup (self->index, GSIZE_TO_POINTER (id));
}

static void
callback_node_free (KaaInProgress *self,
                    CallbackNode  *node)
{
  if (node->destroy != NULL)
    node->destroy (node->user_data);
  if (node != &self->first_node)
    g_free (node);
}

/* Owner thread: takes @node out of whichever list holds it. */
static void
callbacks_unlink (KaaInProgress *self,
                  CallbackNode  *node)
{
  list_unlink (&node->link);
  if (self->index != NULL)
    g_hash_table_remove (self->index, GSIZE_TO_POINTER (node->id));
}

/* Owner thread: moves every callback connected so far into @remaining,
 * oldest first. Returns FALSE when there is none. */
gboolean
kaa_in_progress_take_callbacks (KaaInProgress *self,
                                CallbackLink  *remaining)
{
  callbacks_drain (self);
  list_init (remaining);
  if (list_is_empty (&self->pending))
    return FALSE;
  remaining->next = self->pending.next;
  remaining->prev = self->pending.prev;
  remaining->next->prev = remaining;
  remaining->prev->next = remaining;
  list_init (&self->pending);
  pending_publish (self);
  return TRUE;
}

/* Owner thread: the oldest callback of @remaining, out of it, so that a
 * disconnect of its id from now on finds nothing; NULL when empty. */
CallbackNode *
kaa_in_progress_next_callback (KaaInProgress *self,
                               CallbackLink  *remaining)
{
  CallbackNode *node;

  if (list_is_empty (remaining))
    return NULL;
  node = (CallbackNode *) remaining->next;
  callbacks_unlink (self, node);
  return node;
}

/* Owner thread: the callback of @node ran; frees it and its data. */
void
kaa_in_progress_callback_done (KaaInProgress *self,
                               CallbackNode  *node)
{
  callback_node_free (self, node);
}

/* Last reference: no delivery runs, and no other thread pushes. */
void
kaa_in_progress_free_callbacks (KaaInProgress *self)
{
  CallbackLink *stack = self->callbacks;

  while (stack != NULL)
    {
      CallbackLink *next = stack->next;

      callback_node_free (self, (CallbackNode *) stack);
      stack = next;
    }
  while (!list_is_empty (&self->pending))
    {
      CallbackNode *node = (CallbackNode *) self->pending.next;

      list_unlink (&node->link);
      callback_node_free (self, node);
    }
  g_clear_pointer (&self->index, g_hash_table_unref);
}

guint64
kaa_in_progress_get_search_steps_for_testing (void)
{
  return __atomic_load_n (&search_steps, __ATOMIC_RELAXED);
}

/**
 * kaa_in_progress_connect:
 * @self: a [struct@Kaa.InProgress]
 * @callback: (scope notified) (closure user_data) (destroy destroy): called once
 * @user_data: data for @callback
 * @destroy: (nullable): frees @user_data after the call or the disconnect
 *
 * Calls @callback exactly once, on the owner context, when @self
 * finishes, fails or is cancelled. Callbacks connected before that run in
 * the order they were connected. If @self is already done, @callback runs
 * on the next dispatch of the owner context, never inside this call. Any
 * thread. Once the owner context is finalized, nothing will dispatch it
 * again: callbacks then run on the thread that settles @self, or, when
 * @self is already done, inside this call.
 *
 * Returns: an id for [method@Kaa.InProgress.disconnect], never 0
 * Since: 0.1
 */
gulong
kaa_in_progress_connect (KaaInProgress        *self,
                         KaaInProgressCallback callback,
                         gpointer              user_data,
                         GDestroyNotify        destroy)
{
  CallbackNode *node;
  CallbackLink *head;
  gulong id;

  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (callback != NULL, 0);
  in_progress_return_val_if_freed (self, 0);

  if (!(g_atomic_int_or (&self->flags, FLAG_FIRST_NODE) & FLAG_FIRST_NODE))
    node = &self->first_node;
  else
    node = g_new (CallbackNode, 1);
  node->id = id = kaa_in_progress_callback_id_new ();
  node->callback = callback;
  node->user_data = user_data;
  node->destroy = destroy;
  do
    {
      head = g_atomic_pointer_get (&self->callbacks);
      node->link.next = head;
    }
  while (!g_atomic_pointer_compare_and_exchange (&self->callbacks, head, &node->link));

  if (in_progress_is_final (self))
    kaa_in_progress_queue_delivery (self, kaa_scheduler_is_owner (self->scheduler));
  return id;
}

/**
 * kaa_in_progress_disconnect:
 * @self: a [struct@Kaa.InProgress]
 * @id: an id returned by [method@Kaa.InProgress.connect]
 *
 * Disconnects a callback that has not been called yet: it will not be
 * called, and its destroy notify runs now. An id whose callback already
 * ran or was disconnected, or that was never one of @self's, is ignored.
 * Owner thread only. It costs O(1), however many callbacks @self has.
 *
 * Since: 0.1
 */
void
kaa_in_progress_disconnect (KaaInProgress *self,
                            gulong         id)
{
  CallbackNode *node;

  g_return_if_fail (self != NULL);
  g_return_if_fail (id != 0);
  in_progress_return_if_freed (self);
  g_return_if_fail (kaa_scheduler_is_owner (self->scheduler));

  /* A settler on another thread may have missed what this drain moved. */
  if (callbacks_drain (self) && in_progress_is_final (self))
    kaa_in_progress_queue_delivery (self, TRUE);
  node = callbacks_find (self, id);
  if (node == NULL)
    return;
  callbacks_unlink (self, node);
  pending_publish (self);
  callback_node_free (self, node);
}

/* KAA_DEBUG=slow-slice=MS: the loop of kaa_in_progress_deliver_now(),
 * naming a callback that holds the main loop too long, with the
 * InProgress it was connected to. */
static G_NO_INLINE void
deliver_timed (KaaInProgress *self,
               DeliverFrame  *frame)
{
  CallbackNode *node;

  while ((node = kaa_in_progress_next_callback (self, &frame->remaining)) != NULL)
    {
      KaaInProgressCallback callback = node->callback;
      KaaDebugSpan span;
      gint64 us;

      kaa_debug_span_begin (&span);
      callback (self, node->user_data);
      us = kaa_debug_span_end (&span);
      if (us > kaa_debug_slow_slice_us)
        kaa_debug_report_slow ("callback of InProgress", in_progress_name (self),
                               (gpointer) callback, NULL, 0, us);
      kaa_in_progress_callback_done (self, node);
    }
}

/* Owner thread: calls every callback connected so far, oldest first. The
 * caller holds a reference, since a callback may drop the last other one. */
void
kaa_in_progress_deliver_now (KaaInProgress *self)
{
  CallbackNode *node;
  DeliverFrame frame = { .outer = self->frames };

  if (!kaa_in_progress_take_callbacks (self, &frame.remaining))
    return;
  if (g_atomic_pointer_get (&self->progress) != NULL)
    kaa_progress_flush (self->progress);

  /* A callback sees the outcome, failure included. */
  if (g_atomic_int_get (&self->state) == KAA_STATE_FAILED)
    g_atomic_int_or (&self->flags, FLAG_ERROR_SEEN);
  self->frames = &frame;
  if (G_UNLIKELY (kaa_debug_slow_slice_us != 0))
    deliver_timed (self, &frame);
  else
    while ((node = kaa_in_progress_next_callback (self, &frame.remaining)) != NULL)
      {
        node->callback (self, node->user_data);
        kaa_in_progress_callback_done (self, node);
      }
  self->frames = frame.outer;
}
