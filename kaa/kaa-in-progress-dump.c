/* kaa-in-progress-dump.c: a live dump of every InProgress, as a tree of
 * who awaits what
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The dump starts from the registry (kaa-in-progress-registry.c), asks
 * the producer of each pending InProgress what it is doing (the describe
 * hook of KaaProducerOps: its kind, a state in words, what it awaits),
 * and follows what it awaits, so that a sleep or a GIO call that nobody
 * tracked still shows up under the coroutine waiting on it. This layer
 * never learns what a coroutine or a job is: each producer says so.
 *
 * The roots are the InProgresses nothing in the graph awaits, oldest
 * first; under each, what it awaits, depth first. An InProgress awaited
 * by several appears once, under the first, and as a back reference
 * under the others. Producers are asked on their owner thread only (their
 * state belongs to it); an InProgress of another context shows its
 * layer-3 state (pending, paused, cancelled) and the thread it is on.
 *
 * The text form, one line per InProgress, is meant for people and for
 * scripts alike; tests/test-dump.c parses it (a trailing backslash here
 * only continues the line):
 *
 *     libkaa dump: N InProgress
 *     #1 coroutine name="outer" state="awaiting" age=0.012s awaiters=0 \
 *        body=outer site=app.c:42 awaits=#2
 *       #2 sleep name="kaa_sleep" state="sleeping until +0.988s" age=? awaiters=1
 *
 * Two spaces of indentation per level; then `#ID KIND` and `key=value`
 * fields, the free-text values quoted as C strings. A back reference is
 * `#ID (see above)`. The GVariant form carries the same fields.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib-unix.h>

#include "kaa-debug-private.h"
#include "kaa-live-private.h"
#include "kaa-unix-signal-private.h"

#include "kaa-dump.h"
#include "kaa-in-progress-impl-private.h"

struct _KaaDumpNode
{
  KaaInProgress *self;         /* owned */
  guint          id;           /* 1, 2… in the order printed; 0 until then */
  gint64         born;         /* monotonic µs; 0: not tracked */
  const char    *kind;         /* static */
  char          *state;
  char          *body;
  const char    *file;         /* static */
  gint           line;
  gboolean       elsewhere;    /* owned by another thread's context */
  GPtrArray     *awaited;      /* KaaInProgress *, owned: from describe */
  GPtrArray     *awaits;       /* KaaDumpNode *: the graph's edges */
  KaaDumpNode   *paused_by;    /* a paused awaiter, if any */
  guint          n_in;         /* awaiters in the graph */
  guint          depth;
  gboolean       shown;
};

typedef struct
{
  GPtrArray  *nodes;   /* KaaDumpNode *, owned, in discovery order */
  GPtrArray  *order;   /* KaaDumpNode *, in print order, repeats as NULL-marked refs */
  GHashTable *by_self; /* KaaInProgress * → KaaDumpNode * */
  gint64      now;
} Graph;

/* ----------------------------------------------------- the producer's side */

void
kaa_dump_node_set_kind (KaaDumpNode *node,
                        const char  *kind)
{
  node->kind = kind;
}

void
kaa_dump_node_set_state (KaaDumpNode *node,
                         const char  *format,
                         ...)
{
  va_list args;

  va_start (args, format);
  g_free (node->state);
  node->state = g_strdup_vprintf (format, args);
  va_end (args);
}

void
kaa_dump_node_add_awaited (KaaDumpNode   *node,
                           KaaInProgress *awaited)
{
  if (awaited != NULL)
    g_ptr_array_add (node->awaited, kaa_in_progress_ref (awaited));
}

void
kaa_dump_node_set_body (KaaDumpNode *node,
                        gpointer     func)
{
  g_free (node->body);
  node->body = kaa_debug_dup_func_name (func);
}

void
kaa_dump_node_set_site (KaaDumpNode *node,
                        const char  *file,
                        gint         line)
{
  node->file = file;
  node->line = line;
}

void
kaa_dump_node_set_timer_state (KaaDumpNode   *node,
                               const char    *prefix,
                               KaaInProgress *in_progress,
                               KaaTimer      *timer)
{
  gboolean frozen;
  double left = kaa_scheduler_get_timer_left (in_progress->scheduler, timer, &frozen)
                / (double) G_USEC_PER_SEC;

  if (frozen)
    kaa_dump_node_set_state (node, "%s, frozen with %.3fs left", prefix, left);
  else
    kaa_dump_node_set_state (node, "%s until %+.3fs", prefix, left);
}

/* ------------------------------------------------------------ the graph */

static KaaDumpNode *
node_new (Graph         *graph,
          KaaInProgress *self,
          gint64         born)
{
  KaaDumpNode *node = g_new0 (KaaDumpNode, 1);

  node->self = self;
  node->born = born;
  node->awaited = g_ptr_array_new_with_free_func ((GDestroyNotify) kaa_in_progress_unref);
  node->awaits = g_ptr_array_new ();
  g_ptr_array_add (graph->nodes, node);
  g_hash_table_insert (graph->by_self, self, node);
  return node;
}

static void
node_free (KaaDumpNode *node)
{
  g_ptr_array_unref (node->awaited);
  g_ptr_array_unref (node->awaits);
  g_free (node->state);
  g_free (node->body);
  kaa_in_progress_unref (node->self);
  g_free (node);
}

static const char *
state_word (KaaInProgress *self)
{
  switch (g_atomic_int_get (&self->state))
    {
    case KAA_STATE_PENDING:
      return "pending";
    case KAA_STATE_FINISHED:
      return "finished";
    case KAA_STATE_FAILED:
      return "failed";
    case KAA_STATE_CANCELLED:
      return "cancelled";
    case STATE_CANCELLING:
      return "cancelling";
    default:
      return "settling";
    }
}

/* What layer 3 knows, then what the producer says, on its owner thread.
 * Borrowed, the producer stays valid meanwhile, also when another thread
 * settles @self. */
static void
node_describe (KaaDumpNode *node)
{
  KaaInProgress *self = node->self;
  KaaProducer *producer = in_progress_get_producer (self);
  gboolean nested;

  node->kind = producer == NULL ? "user" : self->producer_kind;
  node->state = g_strdup (state_word (self));
  if (producer == NULL || g_atomic_int_get (&self->state) != KAA_STATE_PENDING)
    return;
  if (!kaa_scheduler_is_owner (self->scheduler))
    {
      node->elsewhere = TRUE;
      return;
    }
  producer = kaa_in_progress_borrow_producer (self, &nested);
  if (producer != NULL && producer->ops->describe != NULL)
    producer->ops->describe (producer, self, node);
  kaa_in_progress_return_producer (self, producer, nested);
}

/* Asks every node, the ones found on the way included, and links each
 * to what it awaits. */
static void
graph_link (Graph *graph)
{
  for (guint i = 0; i < graph->nodes->len; i++)
    {
      KaaDumpNode *node = g_ptr_array_index (graph->nodes, i);

      node_describe (node);
      for (guint j = 0; j < node->awaited->len; j++)
        {
          KaaInProgress *awaited = g_ptr_array_index (node->awaited, j);
          KaaDumpNode *child = g_hash_table_lookup (graph->by_self, awaited);

          if (child == NULL)
            child = node_new (graph, kaa_in_progress_ref (awaited), 0);
          if (child == node)
            continue;
          g_ptr_array_add (node->awaits, child);
          child->n_in++;
          if (child->paused_by == NULL && kaa_in_progress_is_paused (node->self))
            child->paused_by = node;
        }
    }
}

/* Depth first from @node: numbers what it shows for the first time and
 * records a back reference (a negative depth) for the rest. */
static void
graph_walk (Graph       *graph,
            KaaDumpNode *node,
            guint        depth)
{
  if (node->shown)
    {
      g_ptr_array_add (graph->order, node);
      g_ptr_array_add (graph->order, GUINT_TO_POINTER (depth + 1));
      return;
    }
  node->shown = TRUE;
  node->depth = depth;
  g_ptr_array_add (graph->order, node);
  g_ptr_array_add (graph->order, NULL);
  for (guint i = 0; i < node->awaits->len; i++)
    graph_walk (graph, g_ptr_array_index (node->awaits, i), depth + 1);
}

static void
graph_number (Graph *graph)
{
  guint next = 1;

  /* Roots first, oldest first (the registry's order); then whatever a
   * cycle left unreached, which no await makes but a user producer
   * could describe. */
  for (guint pass = 0; pass < 2; pass++)
    for (guint i = 0; i < graph->nodes->len; i++)
      {
        KaaDumpNode *node = g_ptr_array_index (graph->nodes, i);

        if (!node->shown && (pass == 1 || node->n_in == 0))
          graph_walk (graph, node, 0);
      }
  for (guint i = 0; i < graph->order->len; i += 2)
    if (g_ptr_array_index (graph->order, i + 1) == NULL)
      ((KaaDumpNode *) g_ptr_array_index (graph->order, i))->id = next++;
}

static void
graph_add_subject (gpointer subject,
                   gpointer data)
{
  Graph *graph = data;

  if (!g_hash_table_contains (graph->by_self, subject))
    node_new (graph, kaa_in_progress_ref (subject), 0);
}

/* Coroutines and thread jobs of this thread's contexts: the schedulers
 * track them anyway, so finding them costs nothing until a dump. */
static void
graph_add_mortals (Graph *graph)
{
  KaaScheduler *here = kaa_scheduler_get_thread_default ();
  KaaScheduler *global = kaa_scheduler_get_for_context (g_main_context_default ());

  if (kaa_scheduler_is_owner (here))
    kaa_scheduler_foreach_subject (here, graph_add_subject, graph);
  if (global != here && kaa_scheduler_is_owner (global))
    kaa_scheduler_foreach_subject (global, graph_add_subject, graph);
  kaa_scheduler_unref (global);
}

static void
graph_init (Graph *graph)
{
  GArray *tracked = kaa_in_progress_registry_snapshot ();

  graph->nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) node_free);
  graph->order = g_ptr_array_new ();
  graph->by_self = g_hash_table_new (NULL, NULL);
  graph->now = g_get_monotonic_time ();
  for (guint i = 0; i < tracked->len; i++)
    {
      KaaTracked *t = &g_array_index (tracked, KaaTracked, i);

      KaaDumpNode *node = node_new (graph, g_steal_pointer (&t->self), t->born);

      kaa_dump_node_set_body (node, t->func);
      kaa_dump_node_set_site (node, t->file, t->line);
      kaa_tracked_clear (t);
    }
  g_array_unref (tracked);
  graph_add_mortals (graph);
  graph_link (graph);
  graph_number (graph);
}

static void
graph_clear (Graph *graph)
{
  g_hash_table_unref (graph->by_self);
  g_ptr_array_unref (graph->order);
  /* Last: dropping the references may finalize, and untrack. */
  g_ptr_array_unref (graph->nodes);
}

/* ------------------------------------------------------------ the forms */

static void
append_quoted (GString    *out,
               const char *key,
               const char *value)
{
  char *escaped = g_strescape (value != NULL ? value : "", NULL);

  g_string_append_printf (out, " %s=\"%s\"", key, escaped);
  g_free (escaped);
}

static void
append_node (GString     *out,
             Graph       *graph,
             KaaDumpNode *node)
{
  const char *name = node->self->name;

  g_string_append_printf (out, "%*s#%u %s", (int) node->depth * 2, "", node->id, node->kind);
  append_quoted (out, "name", name);
  append_quoted (out, "state", node->state);
  if (node->born != 0)
    g_string_append_printf (out, " age=%.3fs", (graph->now - node->born) / (double) G_USEC_PER_SEC);
  else
    g_string_append (out, " age=?");
  g_string_append_printf (out, " awaiters=%d", g_atomic_int_get (&node->self->n_awaiters));
  if (kaa_in_progress_is_paused (node->self))
    {
      if (node->paused_by != NULL)
        g_string_append_printf (out, " paused=\"by #%u\"", node->paused_by->id);
      else
        g_string_append (out, " paused=\"directly\"");
    }
  if (node->elsewhere)
    g_string_append (out, " thread=other");
  if (node->body != NULL)
    g_string_append_printf (out, " body=%s", node->body);
  if (node->file != NULL)
    g_string_append_printf (out, " site=%s:%d", node->file, node->line);
  for (guint i = 0; i < node->awaits->len; i++)
    g_string_append_printf (out, "%s#%u", i == 0 ? " awaits=" : ",",
                            ((KaaDumpNode *) g_ptr_array_index (node->awaits, i))->id);
  g_string_append_c (out, '\n');
}

/**
 * kaa_dump_to_string:
 *
 * Describes every live InProgress that the dump can see, as a tree of who
 * awaits what: one line each, with its id, its kind (coroutine, job,
 * sleep, combinator, gio, scope, user…), its name, its state (running,
 * yielded, awaiting, sleeping until, queued in pool P, cancelled…), its
 * age, how many await it, whether it is paused and by what, and for a
 * coroutine its body and the place it was spawned. An InProgress awaited
 * by several appears once, then as `#ID (see above)`.
 *
 * By default the dump sees every coroutine and thread job, and whatever
 * they await; with `KAA_DEBUG=dump` (or `leaks`, or `unhandled`) in the
 * environment, or after [func@Kaa.dump_track_all], every InProgress made
 * from then on. Producers are asked on their own thread only: call it on
 * the thread whose coroutines you want to see (normally the main one).
 * The format is stable; `docs/guide.md` describes it.
 *
 * Returns: (transfer full): the dump, one line per InProgress
 * Since: 0.2
 */
char *
kaa_dump_to_string (void)
{
  GString *out = g_string_new (NULL);
  Graph graph;

  graph_init (&graph);
  g_string_append_printf (out, "libkaa dump: %u InProgress\n", graph.nodes->len);
  for (guint i = 0; i < graph.order->len; i += 2)
    {
      KaaDumpNode *node = g_ptr_array_index (graph.order, i);
      guint back = GPOINTER_TO_UINT (g_ptr_array_index (graph.order, i + 1));

      if (back == 0)
        append_node (out, &graph, node);
      else
        g_string_append_printf (out, "%*s#%u (see above)\n", (int) (back - 1) * 2, "", node->id);
    }
  graph_clear (&graph);
  return g_string_free (out, FALSE);
}

static GVariant *
node_to_variant (Graph       *graph,
                 KaaDumpNode *node)
{
  GVariantDict dict;
  GVariantBuilder awaits;

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "id", "u", node->id);
  g_variant_dict_insert (&dict, "kind", "s", node->kind);
  g_variant_dict_insert (&dict, "name", "s", node->self->name != NULL ? node->self->name : "");
  g_variant_dict_insert (&dict, "state", "s", node->state);
  g_variant_dict_insert (&dict, "age", "d", node->born != 0
                         ? (graph->now - node->born) / (double) G_USEC_PER_SEC : -1.0);
  g_variant_dict_insert (&dict, "awaiters", "u",
                         (guint) g_atomic_int_get (&node->self->n_awaiters));
  g_variant_dict_insert (&dict, "depth", "u", node->depth);
  if (kaa_in_progress_is_paused (node->self))
    g_variant_dict_insert (&dict, "paused-by", "u",
                           node->paused_by != NULL ? node->paused_by->id : 0);
  if (node->elsewhere)
    g_variant_dict_insert (&dict, "other-thread", "b", TRUE);
  if (node->body != NULL)
    g_variant_dict_insert (&dict, "body", "s", node->body);
  if (node->file != NULL)
    {
      g_variant_dict_insert (&dict, "file", "s", node->file);
      g_variant_dict_insert (&dict, "line", "i", node->line);
    }
  g_variant_builder_init (&awaits, G_VARIANT_TYPE ("au"));
  for (guint i = 0; i < node->awaits->len; i++)
    g_variant_builder_add (&awaits, "u", ((KaaDumpNode *) g_ptr_array_index (node->awaits, i))->id);
  g_variant_dict_insert_value (&dict, "awaits", g_variant_builder_end (&awaits));
  return g_variant_dict_end (&dict);
}

/**
 * kaa_dump_to_variant:
 *
 * The dump of [func@Kaa.dump_to_string], for tools: an array (`aa{sv}`)
 * with one dictionary per InProgress, in the order of the text form, each
 * shown once. Keys: `id` (u), `kind` (s), `name` (s), `state` (s), `age`
 * (d, seconds, -1 if unknown), `awaiters` (u), `depth` (u), `awaits` (au:
 * ids), and when they apply `paused-by` (u: an id, 0 for a direct
 * pause), `other-thread` (b), `body` (s), `file` (s), `line` (i).
 *
 * Returns: (transfer full): a floating-free #GVariant of type `aa{sv}`
 * Since: 0.2
 */
GVariant *
kaa_dump_to_variant (void)
{
  GVariantBuilder builder;
  Graph graph;

  graph_init (&graph);
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < graph.order->len; i += 2)
    if (g_ptr_array_index (graph.order, i + 1) == NULL)
      g_variant_builder_add_value (&builder,
                                   node_to_variant (&graph, g_ptr_array_index (graph.order, i)));
  graph_clear (&graph);
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

/**
 * kaa_dump:
 *
 * Prints [func@Kaa.dump_to_string] to standard error.
 *
 * Since: 0.2
 */
void
kaa_dump (void)
{
  char *text = kaa_dump_to_string ();

  fputs (text, stderr);
  fflush (stderr);
  g_free (text);
}

static gboolean
dump_on_signal (gpointer data)
{
  kaa_dump ();
  return G_SOURCE_CONTINUE;
}

/* KAA_DEBUG=leaks and dump, at exit: what is still alive. */
static void
dump_at_exit (void)
{
  if (kaa_debug_get () & KAA_DEBUG_LEAKS)
    fprintf (stderr, "libkaa: alive at exit, as a tree of who awaits what:\n");
  kaa_dump ();
}

__attribute__((constructor)) static void
dump_init (void)
{
  kaa_debug_exit_report = dump_at_exit;
}

/**
 * kaa_dump_on_signal:
 * @signum: a signal number that g_unix_signal_add() accepts: `SIGHUP`,
 *   `SIGINT`, `SIGTERM`, `SIGUSR1`, `SIGUSR2` or `SIGWINCH`
 *
 * Prints [func@Kaa.dump] to standard error each time the process gets
 * @signum, from the main loop of the global default #GMainContext (so
 * the main thread's coroutines are described). An application opts in
 * with one call at start-up; then `kill -USR1 PID` shows what a hung
 * application is waiting for. Another @signum is a programming error:
 * a critical naming the signals allowed, and 0.
 *
 * Returns: the id of the #GSource, for g_source_remove(), or 0
 * Since: 0.2
 */
guint
kaa_dump_on_signal (int signum)
{
  if (!kaa_unix_signal_is_supported (signum))
    {
      g_critical ("%s: signal %d cannot be watched from a main loop: use "
                  KAA_UNIX_SIGNALS, G_STRFUNC, signum);
      return 0;
    }
  return g_unix_signal_add (signum, dump_on_signal, NULL);
}

/**
 * kaa_dump_track_all:
 *
 * From now on, puts every new InProgress in the dump, as `KAA_DEBUG=dump`
 * does from the start: a sleep nobody awaits, a user's own InProgress.
 * Call it early, before the work to look at starts; it costs a locked
 * insertion per InProgress and cannot be undone. Any thread.
 *
 * Since: 0.2
 */
void
kaa_dump_track_all (void)
{
  __atomic_fetch_or (&kaa_debug_flags, KAA_DEBUG_TRACK_ALL, __ATOMIC_RELAXED);
}
