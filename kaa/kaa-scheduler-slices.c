/* kaa-scheduler-slices.c: time slices, what runs after a yield
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Time slices live in sources of their own, one per GSource priority a
 * coroutine asked for, made on first use and kept as long as the
 * scheduler: by default G_PRIORITY_DEFAULT_IDLE, below input, timers
 * and GTK's drawing. Owner thread only, like the ready queue.
 */
#include "config.h"

#include "kaa-scheduler-impl-private.h"

/* The time slices of one GSource priority, run by a source of their own. */
struct _KaaSlices
{
  GSource       source;
  KaaScheduler *scheduler;
  KaaRunnable  *head;
  KaaRunnable  *tail;
};

/* Time slices (what runs after a yield) live in a source of their own at
 * G_PRIORITY_DEFAULT_IDLE: below input and timers (G_PRIORITY_DEFAULT)
 * and below GTK's drawing (G_PRIORITY_HIGH_IDLE + 20), so however many
 * coroutines are busy, the loop still draws; completions and timers stay
 * in the scheduler's own source. */
static gboolean
slice_source_prepare (GSource *source,
                      gint    *timeout)
{
  *timeout = -1;
  return ((KaaSlices *) source)->head != NULL;
}

static gboolean
slice_source_check (GSource *source)
{
  return ((KaaSlices *) source)->head != NULL;
}

/* Runs the slices queued when the dispatch began, within the budget;
 * slices queued meanwhile wait for the next iteration, behind what the
 * budget left over. */
static gboolean
slice_source_dispatch (GSource     *source,
                       GSourceFunc  callback,
                       gpointer     user_data)
{
  KaaSlices *slices = (KaaSlices *) source;
  KaaScheduler *self = slices->scheduler;
  KaaRunnable *head = slices->head;
  KaaRunnable *tail = slices->tail;
  gint64 begin = kaa_trace_is_on () ? kaa_trace_now () : 0;
  gint64 start = g_get_monotonic_time ();
  gint64 budget = __atomic_load_n (&self->budget, __ATOMIC_RELAXED);
  guint n;

  kaa_scheduler_ref (self);
  slices->head = slices->tail = NULL;
  n = kaa_scheduler_run_queue (&head, &tail, start, budget);
  if (G_UNLIKELY (begin != 0))
    kaa_scheduler_trace_dispatch (begin, "slices dispatch", n, start, budget);
  if (head != NULL)
    {
      tail->next = slices->head;
      if (slices->head == NULL)
        slices->tail = tail;
      slices->head = head;
    }
  kaa_scheduler_unref (self);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs slice_source_funcs = {
  .prepare = slice_source_prepare,
  .check = slice_source_check,
  .dispatch = slice_source_dispatch,
};

static KaaSlices *
slices_new (KaaScheduler *self,
            gint          priority)
{
  KaaSlices *slices = (KaaSlices *) g_source_new (&slice_source_funcs, sizeof (KaaSlices));

  slices->scheduler = self;
  g_source_set_static_name (&slices->source, "[kaa] time slices");
  g_source_set_priority (&slices->source, priority);
  g_source_set_can_recurse (&slices->source, TRUE);
  /* A dead scheduler's context is gone; its pushes are discarded anyway. */
  if (!g_atomic_int_get (&self->dead))
    g_source_attach (&slices->source, self->context);
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
    if (g_source_get_priority (l->data) == priority)
      return l->data;
  if (priority == G_PRIORITY_DEFAULT_IDLE)
    return self->idle_slices = slices_new (self, priority);
  return slices_new (self, priority);
}

/* Owner thread: a time slice, run at the priority of @slices in a later
 * main-loop iteration (see slice_source_dispatch). */
void
kaa_slices_push (KaaSlices   *slices,
                 KaaRunnable *runnable)
{
  if (G_UNLIKELY (g_atomic_int_get (&slices->scheduler->swept)))
    runnable->run (runnable, TRUE);
  else
    kaa_runnable_queue_append (&slices->head, &slices->tail, runnable);
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

      if (slices->head == NULL)
        continue;
      slices->tail = NULL;
      kaa_scheduler_discard_list (g_steal_pointer (&slices->head));
      any = TRUE;
    }
  return any;
}

void
kaa_scheduler_free_slices (KaaScheduler *self)
{
  for (GSList *l = self->slices; l != NULL; l = l->next)
    {
      g_source_destroy (l->data);
      g_source_unref (l->data);
    }
  g_slist_free (self->slices);
  self->slices = NULL;
}
