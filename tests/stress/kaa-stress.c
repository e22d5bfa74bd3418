/* kaa-stress.c: the operation interpreter and its reference model (issue #7)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each operation takes one opcode byte and eight bytes that seed its own
 * generator, so that operation N always gets the same opcode and
 * arguments from a seed, however the threads raced before it. Operations
 * are grouped into episodes: an episode builds InProgresses and fires
 * events at them, then settles (every pause resumed, every plain
 * InProgress finished, everything run to its end) and checks the model,
 * the invariants and the live-object counters, and starts afresh.
 *
 * Timeline of an episode, all on the owner thread but the events marked:
 *
 *   ops:     spawn / leaf / combinator / connect ... pause, resume, cancel,
 *            finish, pump; [worker] cancel, finish
 *   settle:  [workers] drain -> resume all -> finish plain -> run to done
 *   check:   each InProgress against the model, each cleanup, each callback
 *   release: unref all -> live counters back to where they began
 */
#include "config.h"

#include <stdio.h>
#include <glib/gprintf.h>

#include "kaa-stress-private.h"
#include "kaa-in-progress-impl-private.h"
#include "kaa-in-progress-await-private.h"

void
kaa_stress_bytes_init_seed (KaaStressBytes *bytes,
                            guint64         seed)
{
  *bytes = (KaaStressBytes) { .state = seed };
}

void
kaa_stress_bytes_init_buffer (KaaStressBytes *bytes,
                              const guint8   *data,
                              gsize           len)
{
  *bytes = (KaaStressBytes) { .data = data, .len = len };
}

/* splitmix64: tiny, and the same on every platform and GLib version. */
guint64
kaa_stress_bytes_next64 (KaaStressBytes *bytes)
{
  guint64 z;

  if (bytes->data != NULL)
    {
      z = 0;
      for (guint i = 0; i < 8; i++)
        z = (z << 8) | kaa_stress_bytes_next (bytes);
      return z;
    }
  z = (bytes->state += G_GUINT64_CONSTANT (0x9e3779b97f4a7c15));
  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94d049bb133111eb);
  return z ^ (z >> 31);
}

guint8
kaa_stress_bytes_next (KaaStressBytes *bytes)
{
  if (bytes->data == NULL)
    return kaa_stress_bytes_next64 (bytes) >> 56;
  if (bytes->pos >= bytes->len)
    {
      bytes->exhausted = TRUE;
      return 0;
    }
  return bytes->data[bytes->pos++];
}

/* Every operation goes into a ring that a failure prints, so that its
 * report shows what led to it; KAA_STRESS_TRACE=1 prints each at once. */
void
stress_trace (KaaStress  *self,
              const char *format,
              ...)
{
  static gint enabled = -1;
  char *line = self->trace[self->trace_next++ % TRACE_LINES];
  gint n;
  va_list args;

  if (enabled < 0)
    enabled = g_getenv ("KAA_STRESS_TRACE") != NULL;
  n = g_snprintf (line, TRACE_WIDTH, "[%" G_GUINT64_FORMAT "] ", self->stats.ops);
  va_start (args, format);
  g_vsnprintf (line + n, TRACE_WIDTH - n, format, args);
  va_end (args);
  if (enabled)
    g_fprintf (stderr, "%s\n", line);
}

/* Also what is paused now, by us or by the cascade. */
static void
trace_dump (KaaStress *self)
{
  guint n = MIN (self->trace_next, TRACE_LINES);

  g_fprintf (stderr, "stress: the last %u operations and events:\n", n);
  for (guint i = self->trace_next - n; i < self->trace_next; i++)
    g_fprintf (stderr, "  %s\n", self->trace[i % TRACE_LINES]);
  for (guint i = 0; i < self->nodes->len; i++)
    {
      Node *node = self->nodes->pdata[i];

      if (node->ip != NULL && (node->paused > 0 || node->ip->n_paused > 0))
        g_fprintf (stderr, "  paused: %u kind %d state %d, ours %d, all %d, awaiters %u\n",
                   node->id, node->kind, kaa_in_progress_get_state (node->ip), node->paused,
                   node->ip->n_paused, kaa_in_progress_get_awaiters_for_testing (node->ip));
    }
}

/* A critical or warning from libkaa is fatal: it gets the same report. */
static gboolean
fatal_log (const char     *domain,
           GLogLevelFlags  level,
           const char     *message,
           gpointer        data)
{
  trace_dump (data);
  return TRUE;
}

void
stress_catch_fatal_logs (KaaStress *self)
{
  g_test_log_set_fatal_handler (fatal_log, self);
}

void
stress_fail (KaaStress  *self,
             const char *format,
             ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  trace_dump (self);
  g_error ("stress: %s (operation %" G_GUINT64_FORMAT ", episode %" G_GUINT64_FORMAT
           "; replay: %s)", message, self->stats.ops, self->stats.episodes,
           self->config.replay != NULL ? self->config.replay : "the same input");
}

static Node *
node_alloc (KaaStress *self,
            NodeKind   kind,
            guint      depth)
{
  Node *node = g_new0 (Node, 1);

  node->stress = self;
  node->id = self->next_id++;
  node->kind = kind;
  node->depth = depth;
  node->world = self->world;
  node->leafy = kind == NODE_PLAIN || kind == NODE_SLEEP || kind == NODE_THREAD ||
                kind == NODE_ACQUIRE;
  g_ptr_array_add (self->nodes, node);
  self->stats.nodes++;
  return node;
}

static void node_watch (KaaInProgress *ip,
                        gpointer       data);

static void
node_set_ip (KaaStress     *self,
             Node          *node,
             KaaInProgress *ip)
{
  stress_trace (self, "new %u kind %d depth %u def %d", node->id, node->kind, node->depth,
                node->def);
  for (guint i = 0; i < node->n_inputs; i++)
    stress_trace (self, "  input %u", node->inputs[i]->id);
  node->ip = ip;
  g_hash_table_insert (self->by_ip, ip, node);
  kaa_in_progress_connect (ip, node_watch, node, NULL);
}

/* For the operations kept in files of their own (kaa-stress-limits.c). */
Node *
stress_node_alloc (KaaStress *self,
                   NodeKind   kind,
                   guint      depth)
{
  return node_alloc (self, kind, depth);
}

void
stress_node_set_ip (KaaStress     *self,
                    Node          *node,
                    KaaInProgress *ip)
{
  node_set_ip (self, node, ip);
}

void
stress_node_add_parent (Node *child,
                        Node *parent)
{
  if (child->parents == NULL)
    child->parents = g_ptr_array_new ();
  g_ptr_array_add (child->parents, parent);
}

gboolean
stress_has_room (KaaStress *self)
{
  return self->nodes->len + MAX_INPUTS + 2 <= self->config.max_nodes;
}

typedef gboolean (*NodeFilter) (Node *node);

/* One pass: a filter that reads states may change its mind meanwhile. */
static Node *
pick (KaaStress  *self,
      guint64     seed,
      NodeFilter  filter,
      Node       *except)
{
  Node **found = g_newa (Node *, self->nodes->len + 1);
  guint n = 0;

  for (guint i = 0; i < self->nodes->len; i++)
    {
      Node *node = self->nodes->pdata[i];

      if (node->ip != NULL && node != except && node->world == self->world && filter (node))
        found[n++] = node;
    }
  return n > 0 ? found[seed % n] : NULL;
}

static gboolean
filter_any (Node *node)
{
  return TRUE;
}

static gboolean
filter_leafy (Node *node)
{
  return node->leafy;
}

static gboolean
filter_pending (Node *node)
{
  return !kaa_in_progress_is_done (node->ip);
}

static gboolean
filter_paused (Node *node)
{
  return node->paused > 0;
}

static gboolean
filter_unfinished_plain (Node *node)
{
  return node->kind == NODE_PLAIN && !node->finish_sent &&
         !kaa_in_progress_is_done (node->ip);
}

Node *
stress_pick_leafy (KaaStress *self,
                   guint64    seed,
                   Node      *except)
{
  return pick (self, seed, filter_leafy, except);
}

void
stress_mark_may_cancel (Node *node)
{
  node->may_cancel = TRUE;
}

static Node *
leaf_new (KaaStress      *self,
          KaaStressBytes *bytes,
          guint           depth)
{
  guint8 byte = kaa_stress_bytes_next (bytes);
  Node *node;

  switch (byte % 3)
    {
    case 0:
      node = node_alloc (self, NODE_PLAIN, depth);
      node_set_ip (self, node, kaa_in_progress_new ());
      break;
    case 1:
      node = node_alloc (self, NODE_SLEEP, depth);
      node_set_ip (self, node, kaa_sleep ((byte >> 2) % 6));
      break;
    default:
      node = node_alloc (self, NODE_THREAD, depth);
      node->job = stress_job_new (self, bytes);
      node->job->node = node;
      node_set_ip (self, node, stress_job_run (node->job));
      break;
    }
  return node;
}

/* SINGLETON: the call that is running answers for a new one (DESIGN §4). */
static Node *
coroutine_shared (KaaStress     *self,
                  Node          *node,
                  Script        *script,
                  KaaInProgress *ip)
{
  Node *existing = g_hash_table_lookup (self->by_ip, ip);

  if (existing == NULL)
    {
      if (node->def == DEF_SINGLETON && node->prev_pending)
        stress_fail (self, "SINGLETON started call %u while call %u runs",
                     node->id, node->prev_call->id);
      return NULL;
    }
  if (node->def != DEF_SINGLETON || existing != node->prev_call)
    stress_fail (self, "a spawn returned the InProgress of %u", existing->id);
  if (script->started != 0 || script->destroyed != 1)
    stress_fail (self, "a SINGLETON call answered by %u ran its body (%d) or kept its "
                 "data (%d destroy notifies)", existing->id, script->started, script->destroyed);
  kaa_in_progress_unref (ip);
  return existing;
}

static Node *
coroutine_new (KaaStress      *self,
               KaaStressBytes *bytes,
               guint           depth,
               DefIndex        def)
{
  Node *node = node_alloc (self, NODE_COROUTINE, depth);
  Script *script = stress_script_new (self, bytes, depth);
  KaaInProgress *ip;
  Node *existing;

  script->node = node;
  node->def = def;
  node->prev_call = self->last_call[def];
  node->prev_pending = node->prev_call != NULL && !kaa_in_progress_is_done (node->prev_call->ip);
  ip = kaa_coroutine_spawn_def (&stress_defs[def], NULL, script, stress_script_destroy);
  existing = coroutine_shared (self, node, script, ip);
  if (existing != NULL)
    return existing;
  self->last_call[def] = node;
  node_set_ip (self, node, ip);
  return node;
}

static Node *
input_new (KaaStress      *self,
           KaaStressBytes *bytes,
           Node           *parent,
           gboolean        top)
{
  guint8 byte = kaa_stress_bytes_next (bytes);
  Node *input = NULL;

  if (byte % 3 == 0)
    input = pick (self, kaa_stress_bytes_next64 (bytes), top ? filter_any : filter_leafy, NULL);
  if (input == NULL)
    input = leaf_new (self, bytes, parent->depth + 1);
  stress_node_add_parent (input, parent);
  if (!input->leafy)
    parent->leafy = FALSE;
  return input;
}

/* The combinators take the references they are given (DESIGN §2): each
 * node keeps its own, for the checks, and hands over a new one. */
static KaaInProgress *
group_new (Node *node)
{
  KaaInProgress *inputs[MAX_INPUTS];

  for (guint i = 0; i < node->n_inputs; i++)
    inputs[i] = kaa_in_progress_ref (node->inputs[i]->ip);
  switch (node->kind)
    {
    case NODE_ANY:
      return kaa_any (inputs, node->n_inputs);
    case NODE_ANY_SUCCESS:
      return kaa_any_success (inputs, node->n_inputs);
    case NODE_ALL:
      return kaa_all (inputs, node->n_inputs);
    case NODE_ALL_SUCCESS:
    default:
      return kaa_all_success (inputs, node->n_inputs);
    }
}

/* Issue 18 §4: a scope owns its members outright, shared ones too: its
 * failure or cancel cancels them, whoever else awaits them. Joined and
 * let go of at once, so it settles with them. */
static KaaInProgress *
scope_new (KaaStress *self,
           Node      *node,
           gboolean   collect_all)
{
  g_autoptr(KaaScope) scope = kaa_scope_new (collect_all ? KAA_SCOPE_COLLECT_ALL
                                                         : KAA_SCOPE_FAIL_FAST);

  for (guint i = 0; i < node->n_inputs; i++)
    {
      stress_mark_may_cancel (node->inputs[i]);
      kaa_scope_add (scope, kaa_in_progress_ref (node->inputs[i]->ip));
    }
  self->stats.scopes++;
  return kaa_scope_join (scope);
}

/* Issue #15: a group awaits an input it was given twice as one, so that
 * its pause and cancel reach it as if it had been given once. Checked
 * on inputs made for this group, which nothing else awaits. */
static void
check_repeated (KaaStress *self,
                Node      *node)
{
  for (guint i = 1; i < node->n_inputs; i++)
    {
      Node *input = node->inputs[i];

      if (input != node->inputs[i - 1] || input->id < node->id ||
          input->parents->len != 1 || kaa_in_progress_is_done (node->ip) ||
          kaa_in_progress_is_done (input->ip))
        continue;
      if (kaa_in_progress_get_awaiters_for_testing (input->ip) != 1)
        stress_fail (self, "group %u, given %u twice, counts as %u awaiters of it",
                     node->id, input->id, kaa_in_progress_get_awaiters_for_testing (input->ip));
    }
}

static Node *
combinator_new (KaaStress      *self,
                KaaStressBytes *bytes,
                guint           depth,
                gboolean        top)
{
  guint8 byte = kaa_stress_bytes_next (bytes);
  NodeKind kind = NODE_ANY + byte % 6;
  Node *node;
  KaaInProgress *ip;

  if ((self->config.features & KAA_STRESS_SCOPES) && (byte >> 6) == 3 && kind < NODE_TIMEOUT)
    kind = NODE_SCOPE;
  node = node_alloc (self, kind, depth);

  node->leafy = TRUE;
  node->n_inputs = kind >= NODE_TIMEOUT ? 1 : (byte >> 3) % (MAX_INPUTS + 1);
  for (guint i = 0; i < node->n_inputs; i++)
    {
      /* Now and then an input given twice (issue #15): the group awaits
       * it as one, and the model links it to its parent once. */
      if (i > 0 && kaa_stress_bytes_next (bytes) % 4 == 0 &&
          (self->config.features & KAA_STRESS_REPEATED_INPUTS))
        {
          node->inputs[i] = node->inputs[i - 1];
          self->stats.repeated_inputs++;
        }
      else
        node->inputs[i] = input_new (self, bytes, node, top);
    }
  if (kind == NODE_TIMEOUT)
    {
      node->cancel_input = (byte >> 5) & 1;
      if (node->cancel_input)
        stress_mark_may_cancel (node->inputs[0]);
      ip = kaa_timeout (kaa_in_progress_ref (node->inputs[0]->ip),
                        kaa_stress_bytes_next (bytes) % 8, node->cancel_input);
    }
  else if (kind == NODE_SHIELD)
    ip = kaa_in_progress_shield (kaa_in_progress_ref (node->inputs[0]->ip));
  else if (kind == NODE_SCOPE)
    ip = scope_new (self, node, byte & 1);
  else
    ip = group_new (node);
  node_set_ip (self, node, ip);
  if (node->n_inputs == 0 && !kaa_in_progress_is_done (ip))
    stress_fail (self, "a combinator of no inputs is pending (DESIGN §2)");
  if (kind != NODE_SCOPE)
    check_repeated (self, node);
  return node;
}

Node *
stress_node_new (KaaStress      *self,
                 KaaStressBytes *bytes,
                 guint           depth,
                 gboolean        top)
{
  guint8 byte = kaa_stress_bytes_next (bytes);

  switch (byte % 4)
    {
    case 0:
      return leaf_new (self, bytes, depth);
    case 1:
      return combinator_new (self, bytes, depth, top);
    default:
      /* Policies only at the top: a body awaiting a new call of a policy
       * could wait on itself (SINGLETON) or on its own successor. */
      return coroutine_new (self, bytes, depth,
                            top && !self->no_policies ? (byte >> 2) % N_DEFS : (byte >> 2) % 2);
    }
}

/* The model's own callback: each InProgress settles exactly once, and
 * what it settled with agrees with its inputs at that moment. */
static void
node_watch (KaaInProgress *ip,
            gpointer       data)
{
  Node *node = data;

  if (++node->watched != 1)
    g_error ("stress: InProgress %u settled %d times", node->id, node->watched);
  if (kaa_in_progress_get_state (ip) == KAA_STATE_PENDING)
    g_error ("stress: a callback of InProgress %u ran while it was pending", node->id);
  stress_check_settled (node);
}

static void
callback_func (KaaInProgress *ip,
               gpointer       data)
{
  Callback *callback = data;

  if (g_atomic_int_add (&callback->called, 1) != 0)
    g_error ("stress: a callback of %u ran twice", callback->node->id);
  if (callback->disconnected)
    g_error ("stress: a callback of %u ran after its disconnect", callback->node->id);
  if (kaa_in_progress_get_state (ip) == KAA_STATE_PENDING)
    g_error ("stress: a callback of %u ran while it was pending", callback->node->id);
  if (g_thread_self () != callback->owner)
    g_atomic_int_set (&callback->wrong_thread, 1);
}

static void
callback_destroy (gpointer data)
{
  Callback *callback = data;

  if (g_atomic_int_add (&callback->destroyed, 1) != 0)
    g_error ("stress: a callback's destroy notify of %u ran twice", callback->node->id);
}

typedef enum
{
  OP_NEW,
  OP_SPAWN,
  OP_COMBINATOR,
  OP_CANCEL,
  OP_CANCEL_REMOTE,
  OP_PAUSE,
  OP_RESUME,
  OP_FINISH,
  OP_FAIL,
  OP_FINISH_REMOTE,
  OP_CONNECT,
  OP_DISCONNECT,
  OP_PUMP,
  OP_DRAIN,
  OP_WAIT,
  OP_SETTLE,
  OP_DEATH,
  OP_SPAWN_FOREIGN,
  OP_CHANNEL,
  OP_LIMIT,
} Op;

/* Weights out of 64. The kinds of issue #17 take a quarter of the pumps
 * each, by the byte's top bits, so that older inputs (the corpus) keep
 * their operations otherwise; a kind that is off stays a pump. */
static Op
op_from_byte (KaaStress *self,
              guint8     byte)
{
  static const struct { Op op; guint weight; } weights[] = {
    { OP_NEW, 6 }, { OP_SPAWN, 8 }, { OP_COMBINATOR, 5 }, { OP_CANCEL, 5 },
    { OP_CANCEL_REMOTE, 3 }, { OP_PAUSE, 5 }, { OP_RESUME, 5 }, { OP_FINISH, 5 },
    { OP_FAIL, 2 }, { OP_FINISH_REMOTE, 3 }, { OP_CONNECT, 4 }, { OP_DISCONNECT, 2 },
    { OP_PUMP, 6 }, { OP_DRAIN, 2 }, { OP_WAIT, 2 }, { OP_SETTLE, 1 },
  };
  guint slot = byte % 64;
  Op op = OP_PUMP;

  for (guint i = 0; i < G_N_ELEMENTS (weights); i++)
    {
      if (slot < weights[i].weight)
        {
          op = weights[i].op;
          break;
        }
      slot -= weights[i].weight;
    }
  if (op == OP_PUMP && byte >> 6 == 2 && (self->config.features & KAA_STRESS_CONTEXT_DEATH))
    return OP_DEATH;
  if (op == OP_PUMP && byte >> 6 == 3 && (self->config.features & KAA_STRESS_FOREIGN_SPAWN))
    return OP_SPAWN_FOREIGN;
  if (op == OP_PUMP && byte >> 6 == 1 && (self->config.features & KAA_STRESS_CHANNEL))
    return OP_CHANNEL;
  /* Issue #18 §3: half of the pumps that are left, by the lowest bit. */
  if (op == OP_PUMP && byte >> 6 == 0 && (byte & 1) && (self->config.features & KAA_STRESS_LIMITS))
    return OP_LIMIT;
  return op;
}

/* What the cascade must cancel with @node, now, on the owner thread: what
 * it awaits where it is the one awaiter (DESIGN §6). */
/* What @node awaits where it is the one awaiter (DESIGN §6). */
static guint
awaited_alone (Node *node,
               Node *children[MAX_INPUTS])
{
  guint n = 0;

  if (node->kind == NODE_COROUTINE && node->awaiting != NULL)
    children[n++] = node->awaiting;
  else if (node->kind != NODE_COROUTINE && node->kind != NODE_SHIELD)
    for (guint i = 0; i < node->n_inputs; i++)
      children[n++] = node->inputs[i];
  for (guint i = 0; i < n;)
    if (kaa_in_progress_is_done (children[i]->ip) ||
        (node->kind != NODE_SCOPE && kaa_in_progress_get_awaiters_for_testing (children[i]->ip) != 1))
      children[i] = children[--n];
    else
      i++;
  return n;
}

/* A first pause goes on down only through what it pauses first: what is
 * paused already stops it (DESIGN §6), and so does what a worker may
 * have claimed to cancel or finish, whose producer hears no more pauses
 * (cancel wins over pause). */
static void
predict_pause (Node      *node,
               GPtrArray *beneath)
{
  Node *children[MAX_INPUTS];
  guint n = awaited_alone (node, children);

  for (guint i = 0; i < n; i++)
    if (!kaa_in_progress_is_paused (children[i]->ip) &&
        !g_ptr_array_find (beneath, children[i], NULL))
      {
        g_ptr_array_add (beneath, children[i]);
        if (!children[i]->remote)
          predict_pause (children[i], beneath);
      }
}

void
stress_predict_cascade (Node      *node,
                        GPtrArray *beneath)
{
  Node *children[MAX_INPUTS];
  guint n = 0;

  if (node->kind == NODE_COROUTINE && node->awaiting != NULL)
    children[n++] = node->awaiting;
  else if (node->kind != NODE_COROUTINE && node->kind != NODE_SHIELD)
    for (guint i = 0; i < node->n_inputs; i++)
      children[n++] = node->inputs[i];
  for (guint i = 0; i < n; i++)
    if (!kaa_in_progress_is_done (children[i]->ip) &&
        (node->kind == NODE_SCOPE || kaa_in_progress_get_awaiters_for_testing (children[i]->ip) == 1) &&
        !g_ptr_array_find (beneath, children[i], NULL))
      {
        g_ptr_array_add (beneath, children[i]);
        stress_predict_cascade (children[i], beneath);
      }
}

static gboolean
input_cancelled (Node *node)
{
  for (guint i = 0; i < node->n_inputs; i++)
    if (kaa_in_progress_get_state (node->inputs[i]->ip) == KAA_STATE_CANCELLED)
      return TRUE;
  return FALSE;
}

static void
check_cancelled_now (KaaStress *self,
                     Node      *node,
                     Node      *top)
{
  KaaState state = kaa_in_progress_get_state (node->ip);

  /* A worker's finish may have won the race, and may still be settling
   * it: then the cancel is the late one. So may a group or follower
   * whose input the same cascade cancelled first (it awaits an input
   * that another of the cancelled awaits too). */
  if (state != KAA_STATE_CANCELLED && !node->remote_finish && !input_cancelled (node))
    stress_fail (self, "a cancel of %u on the owner thread returned with %u (kind %d) in "
                 "state %d", top->id, node->id, node->kind,
                 kaa_in_progress_get_state (node->ip));
  if (node->kind == NODE_COROUTINE && node->script != NULL &&
      node->script->started && !node->script->cleaned)
    stress_fail (self, "a cancel returned before the cleanups of coroutine %u ran", node->id);
}

/* A scope cancels its members also where others await them (issue 18
 * §4); a paused awaiter among those keeps the pause it put on the member
 * until it resumes, as it would on anything it awaits, and so does one a
 * worker is cancelling: a claimed cancel lets no resume down, and the
 * awaiter takes its pause back when it detaches, once the cancel is
 * carried out. An awaiter the same cancel reached detaches at once and
 * holds nothing (it stays paused itself). No other pause may be left. */
static gboolean
paused_by_another (Node *child)
{
  for (guint i = 0; child->parents != NULL && i < child->parents->len; i++)
    {
      Node *parent = child->parents->pdata[i];

      if (parent->kind != NODE_SCOPE &&
          (kaa_in_progress_is_paused (parent->ip) || parent->remote))
        return TRUE;
    }
  return FALSE;
}

static void
op_cancel (KaaStress *self,
           Node      *node)
{
  g_autoptr(GPtrArray) beneath = g_ptr_array_new ();
  gboolean pending = !kaa_in_progress_is_done (node->ip);

  if (pending)
    stress_predict_cascade (node, beneath);
  stress_trace (self, "cancel %u (pending %d, %u beneath)", node->id, pending, beneath->len);
  for (guint i = 0; i < beneath->len; i++)
    stress_trace (self, "  beneath %u", ((Node *) beneath->pdata[i])->id);
  stress_mark_may_cancel (node);
  kaa_in_progress_cancel (node->ip);
  self->stats.cancels++;
  if (!pending)
    return;
  check_cancelled_now (self, node, node);
  for (guint i = 0; i < beneath->len; i++)
    {
      Node *child = beneath->pdata[i];

      check_cancelled_now (self, child, node);
      if (child->paused == 0 && kaa_in_progress_is_paused (child->ip) &&
          !paused_by_another (child))
        stress_fail (self, "cancelling %u left %u beneath it paused", node->id, child->id);
    }
}

static void
op_finish (KaaStress      *self,
           KaaStressBytes *bytes,
           Node           *node,
           gboolean        fail)
{
  KaaState expect = fail ? KAA_STATE_FAILED : KAA_STATE_FINISHED;
  KaaState state;

  stress_trace (self, "%s %u", fail ? "fail" : "finish", node->id);
  node->finish_sent = TRUE;
  if (fail)
    kaa_in_progress_fail (node->ip, g_error_new_literal (STRESS_ERROR, 4, "failed"));
  else
    {
      node->expect_value = kaa_stress_bytes_next (bytes);
      node->value_known = TRUE;
      kaa_in_progress_finish_int64 (node->ip, node->expect_value);
    }
  /* A cancel from a worker may have got there first: then the finish is
   * a late result, dropped quietly (DESIGN §2). */
  state = kaa_in_progress_get_state (node->ip);
  if (state != expect && !(node->may_cancel && state != KAA_STATE_FINISHED &&
                           state != KAA_STATE_FAILED))
    stress_fail (self, "a finish on the owner thread left %u in state %d", node->id, state);
}

static void
op_connect (KaaStress *self,
            Node      *node)
{
  Callback *callback = g_new0 (Callback, 1);

  callback->node = node;
  callback->owner = self->owner;
  g_ptr_array_add (self->callbacks, callback);
  callback->id = kaa_in_progress_connect (node->ip, callback_func, callback, callback_destroy);
  if (g_atomic_int_get (&callback->called) != 0)
    stress_fail (self, "a connect to %u called its callback inside the connect", node->id);
}

static void
op_disconnect (KaaStress *self,
               guint64    seed)
{
  Callback *callback;

  if (self->callbacks->len == 0)
    return;
  callback = self->callbacks->pdata[seed % self->callbacks->len];
  if (callback->disconnected)
    return;
  callback->called_at_disconnect = g_atomic_int_get (&callback->called);
  callback->disconnected = TRUE;
  kaa_in_progress_disconnect (callback->node->ip, callback->id);
  if (g_atomic_int_get (&callback->destroyed) != 1)
    stress_fail (self, "after a disconnect from %u its destroy notify ran %d times",
                 callback->node->id, g_atomic_int_get (&callback->destroyed));
}

/* DESIGN §6: a first pause reaches what @node awaits as its one
 * awaiter, as a cancel does, but not through a shield. */
static void
check_paused_beneath (KaaStress *self,
                      Node      *node,
                      GPtrArray *beneath)
{
  for (guint i = 0; i < beneath->len; i++)
    {
      Node *child = beneath->pdata[i];

      if (!kaa_in_progress_is_done (child->ip) && !kaa_in_progress_is_paused (child->ip) &&
          !child->remote_finish && !child->remote)
        stress_fail (self, "pausing %u left %u (kind %d) beneath it running", node->id,
                     child->id, child->kind);
    }
}

static void
op_pause (KaaStress *self,
          Node      *node)
{
  g_autoptr(GPtrArray) beneath = g_ptr_array_new ();
  gint before = node->ip->n_paused;   /* owner thread only */

  if (before == 0 && !kaa_in_progress_is_done (node->ip) && !node->remote)
    predict_pause (node, beneath);

  stress_trace (self, "pause %u", node->id);
  kaa_in_progress_pause (node->ip);
  stress_trace (self, "  %u paused %d -> %d", node->id, before, node->ip->n_paused);
  self->stats.pauses++;
  /* Every pause counts, even when a worker settled it just before
   * (issue #15): each one needs its resume. */
  if (node->ip->n_paused != before + 1)
    stress_fail (self, "a pause of %u did not count", node->id);
  node->paused++;
  if (node->paused > 0 && !kaa_in_progress_is_paused (node->ip))
    stress_fail (self, "%u is not paused after a pause", node->id);
  check_paused_beneath (self, node, beneath);
}

static void
op_resume (KaaStress *self,
           Node      *node)
{
  stress_trace (self, "resume %u", node->id);
  if (node->ip->n_paused == 0)
    stress_fail (self, "%u (kind %d, state %d) lost a pause of ours: nothing to resume",
                 node->id, node->kind, kaa_in_progress_get_state (node->ip));
  kaa_in_progress_resume (node->ip);
  node->paused--;
}

/* Issue #15, once the descendant has been left: the ancestor whose
 * cascade reached it is CANCELLED. The order of their cleanups is held
 * at the episode's end, when both have run. */
/* After the death of a context: what it ran (coroutines, sleeps, thread
 * jobs) is done, CANCELLED unless it was done before; so is anything that
 * awaited only those. */
static void
check_dead (KaaStress      *self,
            guint           first,
            const gboolean *was_done)
{
  for (guint i = first; i < self->nodes->len; i++)
    {
      Node *node = self->nodes->pdata[i];
      KaaState state;

      if (node->kind == NODE_PLAIN || was_done[i - first])
        continue;
      state = kaa_in_progress_get_state (node->ip);
      if (node->kind != NODE_COROUTINE && node->kind != NODE_SLEEP && node->kind != NODE_THREAD)
        continue;
      /* A job that had returned on its worker may settle as it did. */
      if (state != KAA_STATE_CANCELLED &&
          !(node->kind == NODE_THREAD && state != KAA_STATE_PENDING &&
            g_atomic_int_get (&node->job->outcome) != OUTCOME_NONE))
        stress_fail (self, "%u (kind %d), pending when its context died, is in state %d",
                     node->id, node->kind, state);
      if (node->kind == NODE_COROUTINE && node->script != NULL &&
          node->script->started != node->script->cleaned)
        stress_fail (self, "coroutine %u of a dead context has not run its cleanups",
                     node->id);
    }
}

static void
check_ancestor_cancels (KaaStress *self)
{
  for (guint i = 0; i < self->ancestor_cancels->len; i++)
    {
      AncestorCancel *a = &g_array_index (self->ancestor_cancels, AncestorCancel, i);

      if (kaa_in_progress_get_state (a->ancestor->ip) != KAA_STATE_CANCELLED)
        stress_fail (self, "%u cancelled its ancestor %u, which is in state %d once %u "
                     "was left", a->descendant->id, a->ancestor->id,
                     kaa_in_progress_get_state (a->ancestor->ip), a->descendant->id);
    }
}

/* Issue #17: spawns from a thread-pool job start on the owner; the node
 * takes its InProgress once the job has handed it over. */
void
stress_register_foreign (KaaStress *self)
{
  for (guint i = 0; i < self->foreign->len;)
    {
      Foreign *foreign = self->foreign->pdata[i];
      KaaInProgress *ip = g_atomic_pointer_get (&foreign->ip);

      if (ip == NULL)
        {
          i++;
          continue;
        }
      if (kaa_in_progress_get_context (ip) != self->context)
        stress_fail (self, "a coroutine spawned from a job is not on the owner's context");
      node_set_ip (self, foreign->node, ip);
      g_ptr_array_remove_index_fast (self->foreign, i);
    }
}

static void
op_spawn_foreign (KaaStress      *self,
                  KaaStressBytes *bytes)
{
  Foreign *foreign = g_new0 (Foreign, 1);
  Node *node = node_alloc (self, NODE_COROUTINE, 0);

  foreign->stress = self;
  foreign->node = node;
  foreign->def = kaa_stress_bytes_next (bytes) % 2;   /* plain or interval */
  foreign->script = stress_script_new (self, bytes, 0);
  foreign->script->node = node;
  node->def = foreign->def;
  g_ptr_array_add (self->foreign_records, foreign);
  stress_foreign_spawn (self, foreign);
}

/* Before a context dies, the owner cancels or pauses some of its work,
 * or leaves it be. */
static void
death_act (KaaStress      *self,
           KaaStressBytes *bytes,
           guint           first)
{
  Node *node;

  if (self->nodes->len == first)
    return;
  node = self->nodes->pdata[first + kaa_stress_bytes_next (bytes) % (self->nodes->len - first)];
  if (node->ip == NULL)
    return;   /* a SINGLETON call answered by one that runs */
  switch (kaa_stress_bytes_next (bytes) % 4)
    {
    case 0:
      op_cancel (self, node);
      break;
    case 1:
      if (!kaa_in_progress_is_done (node->ip) &&
          (self->config.features & KAA_STRESS_DEATH_PAUSED))
        op_pause (self, node);
      break;
    default:
      break;
    }
}

/* Issue #17: a few InProgresses on a context of their own, on this
 * thread, run a little and then the context is dropped: everything of it
 * settles there and then, coroutines unwound with their cleanups run,
 * CANCELLED unless it had settled before. Plain ones are left to the
 * episode's settling, which finishes them as usual. */
static void
op_death (KaaStress      *self,
          KaaStressBytes *bytes)
{
  GMainContext *side = g_main_context_new ();
  guint first = self->nodes->len;
  guint n_new = 1 + kaa_stress_bytes_next (bytes) % 4;
  guint n_pumps = kaa_stress_bytes_next (bytes) % 4;
  g_autofree gboolean *was_done = NULL;

  self->world = ++self->next_world;
  stress_trace (self, "death: world %u, %u new, %u pumps", self->world, n_new, n_pumps);
  g_main_context_push_thread_default (side);
  self->no_policies = !(self->config.features & KAA_STRESS_DEATH_POLICIES);
  for (guint i = 0; i < n_new && stress_has_room (self); i++)
    stress_node_new (self, bytes, 0, TRUE);
  for (guint i = 0; i < n_pumps; i++)
    {
      if (kaa_stress_bytes_next (bytes) % 2 == 0)
        g_usleep (kaa_stress_bytes_next (bytes) % 2000);
      g_main_context_iteration (side, FALSE);
    }
  death_act (self, bytes, first);
  was_done = g_new0 (gboolean, self->nodes->len - first);
  for (guint i = first; i < self->nodes->len; i++)
    {
      Node *node = self->nodes->pdata[i];

      was_done[i - first] = node->ip == NULL || kaa_in_progress_is_done (node->ip);
      stress_mark_may_cancel (node);
    }
  g_main_context_pop_thread_default (side);
  /* Cancels from workers race the death (their jobs are not the dying
   * context's, so that they run). */
  if (self->nodes->len > first && kaa_stress_bytes_next (bytes) % 2 == 0)
    {
      Node *node = self->nodes->pdata[first + kaa_stress_bytes_next (bytes) %
                                      (self->nodes->len - first)];

      if (node->ip != NULL)
        stress_remote_event (self, node, TRUE, 0);
    }
  g_main_context_unref (side);
  self->world = 0;
  self->no_policies = FALSE;
  self->stats.deaths++;
  check_dead (self, first, was_done);
}

static void
op_run (KaaStress      *self,
        Op              op,
        KaaStressBytes *bytes)
{
  guint64 seed = kaa_stress_bytes_next64 (bytes);
  Node *node = NULL;

  stress_trace (self, "op %d", op);
  stress_register_foreign (self);
  check_ancestor_cancels (self);
  switch (op)
    {
    case OP_DEATH:
      if (!stress_has_room (self))
        stress_settle (self);
      else
        op_death (self, bytes);
      break;
    case OP_LIMIT:
      stress_limits_op (self, bytes, stress_has_room (self));
      break;
    case OP_SPAWN_FOREIGN:
      if (!stress_has_room (self))
        stress_settle (self);
      else
        op_spawn_foreign (self, bytes);
      break;
    case OP_CHANNEL:
      stress_channel_episode (self, bytes);
      break;
    case OP_NEW:
    case OP_SPAWN:
    case OP_COMBINATOR:
      if (!stress_has_room (self))
        stress_settle (self);
      else if (op == OP_NEW)
        leaf_new (self, bytes, 0);
      else if (op == OP_SPAWN)
        coroutine_new (self, bytes, 0, seed % N_DEFS);
      else
        combinator_new (self, bytes, 0, TRUE);
      break;
    case OP_CANCEL:
    case OP_CANCEL_REMOTE:
      if ((node = pick (self, seed, filter_any, NULL)) == NULL)
        break;
      if (op == OP_CANCEL)
        op_cancel (self, node);
      else
        {
          stress_mark_may_cancel (node);
          stress_remote_event (self, node, TRUE, 0);
        }
      break;
    case OP_PAUSE:
      if ((node = pick (self, seed, filter_pending, NULL)) != NULL)
        op_pause (self, node);
      break;
    case OP_RESUME:
      if ((node = pick (self, seed, filter_paused, NULL)) != NULL)
        op_resume (self, node);
      break;
    case OP_FINISH:
    case OP_FAIL:
    case OP_FINISH_REMOTE:
      if ((node = pick (self, seed, filter_unfinished_plain, NULL)) == NULL)
        break;
      if (op != OP_FINISH_REMOTE)
        op_finish (self, bytes, node, op == OP_FAIL);
      else
        {
          node->finish_sent = TRUE;
          node->expect_value = seed & 0xff;
          node->value_known = TRUE;
          stress_remote_event (self, node, FALSE, node->expect_value);
        }
      break;
    case OP_CONNECT:
      if ((node = pick (self, seed, filter_any, NULL)) != NULL)
        op_connect (self, node);
      break;
    case OP_DISCONNECT:
      op_disconnect (self, seed);
      break;
    case OP_DRAIN:
      while (g_main_context_iteration (self->context, FALSE))
        ;
      break;
    case OP_WAIT:
      g_usleep (seed % 500);
      g_main_context_iteration (self->context, FALSE);
      break;
    case OP_SETTLE:
      stress_settle (self);
      break;
    case OP_PUMP:
    default:
      g_main_context_iteration (self->context, FALSE);
      break;
    }
}

void
kaa_stress_run (KaaStress      *self,
                KaaStressBytes *bytes,
                guint64         max_ops)
{
  for (guint64 n = 0; max_ops == 0 || n < max_ops; n++)
    {
      Op op = op_from_byte (self, kaa_stress_bytes_next (bytes));
      KaaStressBytes args;

      kaa_stress_bytes_init_seed (&args, kaa_stress_bytes_next64 (bytes));
      if (bytes->exhausted)
        break;
      self->stats.ops++;
      op_run (self, op, &args);
      if (++self->episode_ops >= self->config.episode_ops)
        stress_settle (self);
    }
  stress_settle (self);
}

const KaaStressStats *
kaa_stress_get_stats (KaaStress *self)
{
  return &self->stats;
}
