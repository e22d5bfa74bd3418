/* kaa-scheduler-slices.c: time slices, what runs after a yield
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Time slices wait in queues of their own, one per GSource priority a
 * coroutine asked for, made on first use and kept as long as the
 * scheduler: by default G_PRIORITY_DEFAULT_IDLE, below input, timers
 * and GTK's drawing. Each is run by a source attached while it has
 * something queued. Owner thread only, like the ready queue.
 */
#include "config.h"

#include "kaa-hot-private.h"
#include "kaa-scheduler-impl-private.h"

/* KaaSlices (kaa-scheduler-private.h): the time slices of one GSource
 * priority. The queue lives as long as the scheduler; its source is
 * attached only while the queue has something in it (issue #20): an
 * idle main-loop iteration pays GLib's per-source cost for every
 * attached source, however cheap its prepare, so a context where
 * nothing yields carries the scheduler's source only. A queue that stays
 * busy keeps its source, so steady yielding attaches nothing; one that
 * empties gives it back, as an idle returning G_SOURCE_REMOVE does. */
typedef struct
{
  GSource    source;
  KaaSlices *slices;
} SliceSource;

static void slices_attach (KaaSlices *slices);

/* Puts back, in front, what the budget left over. */
static void
slices_requeue (KaaSlices   *slices,
                KaaRunnable *head,
                KaaRunnable *tail)
{
  if (head == NULL)
    return;
  tail->next = slices->head;
  if (slices->head == NULL)
    slices->tail = tail;
  slices->head = head;
}

/* The slices taken from the queue, when they are none (a dispatch nested
 * in a slice emptied it), more than one, or traced: within
 * the budget, from the iteration's time, which g_source_get_time() gives
 * under the context's lock, read once per iteration by whichever source
 * asks first. */
static void
slices_run (KaaSlices   *slices,
            GSource     *source,
            KaaRunnable *head,
            KaaRunnable *tail)
{
  KaaScheduler *self = slices->scheduler;
  gint64 begin = kaa_trace_is_on () ? kaa_trace_now () : 0;
  gint64 budget = __atomic_load_n (&self->budget, __ATOMIC_RELAXED);
  gint64 start = g_source_get_time (source);
  guint n;

  n = kaa_scheduler_run_queue (&head, &tail, start, budget);
  if (G_UNLIKELY (begin != 0))
    kaa_scheduler_trace_dispatch (begin, "slices dispatch", n, start, budget);
  slices_requeue (slices, head, tail);
}

/* Runs the slices queued when the dispatch began, within the budget;
 * slices queued meanwhile wait for the next iteration, behind what the
 * budget left over. A dispatch nested in one of them (a slice that
 * iterates the context) may have given the source back meanwhile or
 * attached another: only the source the slices hold stays. */
static KAA_HOT gboolean
slice_source_dispatch (GSource     *source,
                       GSourceFunc  callback,
                       gpointer     user_data)
{
  KaaSlices *slices = ((SliceSource *) source)->slices;
  KaaRunnable *head = slices->head;
  KaaRunnable *tail = slices->tail;
  gboolean keep;

  /* No reference on the scheduler is taken: the context outlives the
   * dispatch of its sources (GLib itself uses it after this returns),
   * and the scheduler's own source holds the scheduler as long as the
   * context. */
  slices->head = slices->tail = NULL;
  /* A lone slice (one coroutine yielding alone, issue #20's yield-1)
   * runs whatever the budget and reads no clock, as in
   * kaa_scheduler_run_queue(), which is not even called. */
  if (head != NULL && head == tail && !kaa_trace_is_on ())
    kaa_runnable_run_alone (head);
  else
    slices_run (slices, source, head, tail);
  keep = slices->source == source && slices->head != NULL;
  if (slices->source == source && !keep)
    slices->source = NULL;
  else if (slices->source == NULL && slices->head != NULL)
    slices_attach (slices);
  return keep ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

/* Ready in every iteration it is attached. A prepare that says so, not a
 * ready time of 0: GLib reads the clock in each iteration for a source
 * with a ready time, some 30 ns on a virtual machine's clock, more than
 * the call (issue #20); with a prepare that returns TRUE it reads none.
 * No check: a source prepare found ready is not checked. */
static KAA_HOT gboolean
slice_source_prepare (GSource *source,
                      gint    *timeout)
{
  *timeout = 0;
  return TRUE;
}

static GSourceFuncs slice_source_funcs = {
  .prepare = slice_source_prepare,
  .dispatch = slice_source_dispatch,
};

/* Owner thread, when the queue gets its first slice. Attaching from the
 * thread that owns the context wakes nothing: it is not in poll(). */
static void
slices_attach (KaaSlices *slices)
{
  GSource *source = g_source_new (&slice_source_funcs, sizeof (SliceSource));

  ((SliceSource *) source)->slices = slices;
  g_source_set_static_name (source, "[kaa] time slices");
  g_source_set_priority (source, slices->priority);
  g_source_set_can_recurse (source, TRUE);
  g_source_attach (source, slices->scheduler->context);
  slices->source = source;
  /* The context holds it from here; destroyed, it is freed. */
  g_source_unref (source);
}

static KaaSlices *
slices_new (KaaScheduler *self,
            gint          priority)
{
  KaaSlices *slices = g_new0 (KaaSlices, 1);

  slices->scheduler = self;
  slices->priority = priority;
  self->slices = g_slist_prepend (self->slices, slices);
  return slices;
}

/* Owner thread: the time slices of @priority, made on first use; they
 * live as long as the scheduler. A program uses a handful of priorities,
 * so a list will do. */
KaaSlices *
kaa_scheduler_get_slices (KaaScheduler *self,
                          gint          priority)
{
  if (priority == G_PRIORITY_DEFAULT_IDLE && self->idle_slices != NULL)
    return self->idle_slices;
  for (GSList *l = self->slices; l != NULL; l = l->next)
    if (((KaaSlices *) l->data)->priority == priority)
      return l->data;
  if (priority == G_PRIORITY_DEFAULT_IDLE)
    return self->idle_slices = slices_new (self, priority);
  return slices_new (self, priority);
}

/* Owner thread: kaa_slices_push() when the queue has no source: its
 * first slice, or the context is dead. A slice is run at the priority of
 * @slices in a later main-loop iteration (see slice_source_dispatch).
 * While the context is being swept the slice is queued, and the sweep
 * discards it; after the sweep it is discarded at once; a dead context
 * gets no source. */
void
kaa_slices_push_detached (KaaSlices   *slices,
                          KaaRunnable *runnable)
{
  KaaScheduler *self = slices->scheduler;

  if (G_UNLIKELY (g_atomic_int_get (&self->swept)))
    {
      runnable->run (runnable, TRUE);
      return;
    }
  kaa_runnable_queue_append (&slices->head, &slices->tail, runnable);
  if (slices->source == NULL && !g_atomic_int_get (&self->dead))
    slices_attach (slices);
}

void
kaa_scheduler_push_slice (KaaScheduler *self,
                          KaaRunnable  *runnable)
{
  kaa_slices_push (kaa_scheduler_get_slices (self, G_PRIORITY_DEFAULT_IDLE), runnable);
}

/* The context died: whatever slices are queued are discarded. TRUE if
 * there were any. */
gboolean
kaa_scheduler_discard_slices (KaaScheduler *self)
{
  gboolean any = FALSE;

  for (GSList *l = self->slices; l != NULL; l = l->next)
    {
      KaaSlices *slices = l->data;

      /* Its source, if the context has not destroyed it yet, is about
       * to be: it is never dispatched again. */
      slices->source = NULL;
      if (slices->head == NULL)
        continue;
      slices->tail = NULL;
      kaa_scheduler_discard_list (g_steal_pointer (&slices->head));
      any = TRUE;
    }
  return any;
}

/* The scheduler is freed: its context, and so every source the slices
 * had, is gone already. */
void
kaa_scheduler_free_slices (KaaScheduler *self)
{
  g_slist_free_full (g_steal_pointer (&self->slices), g_free);
}
