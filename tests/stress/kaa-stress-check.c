/* kaa-stress-check.c: settling an episode and checking it (issue #7)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * An episode settles when no remote event is in flight, every
 * InProgress is done and every body has unwound; then each InProgress is
 * held to the model (what its producer did, what reached it), each
 * cleanup and callback is counted, and once everything is released the
 * live-object counters must be back where the KaaStress began.
 */
#include "config.h"

#include "kaa-stress-private.h"
#include "kaa-live-private.h"
#include "kaa-in-progress-impl-private.h"

#define SETTLE_SEC 60
#define LIVE_SEC 10

static const char *const live_names[] = {
  "InProgress", "coroutine", "stack", "thread job", "armed timer"
};

static gboolean
same_settlement (KaaInProgress *a,
                 KaaInProgress *b)
{
  const GError *ea, *eb;

  if (kaa_in_progress_get_state (a) != kaa_in_progress_get_state (b))
    return FALSE;
  if (kaa_in_progress_get_state (a) != KAA_STATE_FAILED)
    return TRUE;
  ea = kaa_in_progress_get_error (a);
  eb = kaa_in_progress_get_error (b);
  return g_error_matches (ea, eb->domain, eb->code);
}

static void
check_group (Node     *node,
             KaaState  state)
{
  KaaStress *self = node->stress;
  gint64 index;

  if (state != KAA_STATE_FINISHED || node->n_inputs == 0)
    return;
  if (node->kind == NODE_ANY || node->kind == NODE_ANY_SUCCESS)
    {
      index = kaa_in_progress_get_int64 (node->ip);
      if (index < 0 || index >= node->n_inputs)
        stress_fail (self, "any %u finished with index %" G_GINT64_FORMAT, node->id, index);
      if (!kaa_in_progress_is_done (node->inputs[index]->ip) ||
          (node->kind == NODE_ANY_SUCCESS &&
           kaa_in_progress_get_state (node->inputs[index]->ip) != KAA_STATE_FINISHED))
        stress_fail (self, "any %u finished with input %u, which has not (state %d)", node->id,
                     node->inputs[index]->id, kaa_in_progress_get_state (node->inputs[index]->ip));
      return;
    }
  for (guint i = 0; i < node->n_inputs; i++)
    if (!kaa_in_progress_is_done (node->inputs[i]->ip) ||
        (node->kind == NODE_ALL_SUCCESS &&
         kaa_in_progress_get_state (node->inputs[i]->ip) != KAA_STATE_FINISHED))
      stress_fail (self, "all %u finished before input %u did (state %d)", node->id,
                   node->inputs[i]->id, kaa_in_progress_get_state (node->inputs[i]->ip));
}

/* Issue 18 §4: a scope settles once every member has; it finishes, with
 * their number, only if none failed, and fails only if one did. */
static void
check_scope (Node     *node,
             KaaState  state)
{
  KaaStress *self = node->stress;
  gboolean failed = FALSE;

  if (state == KAA_STATE_CANCELLED)
    return;
  for (guint i = 0; i < node->n_inputs; i++)
    {
      KaaState input = kaa_in_progress_get_state (node->inputs[i]->ip);

      if (input == KAA_STATE_PENDING)
        stress_fail (self, "scope %u settled before its member %u did", node->id,
                     node->inputs[i]->id);
      failed |= input == KAA_STATE_FAILED;
    }
  if (state == KAA_STATE_FINISHED &&
      (failed || kaa_in_progress_get_int64 (node->ip) != node->n_inputs))
    stress_fail (self, "scope %u finished (with %" G_GINT64_FORMAT ") after a member failed "
                 "(%d)", node->id, kaa_in_progress_get_int64 (node->ip), failed);
  if (state == KAA_STATE_FAILED && !failed)
    stress_fail (self, "scope %u failed, but none of its members did", node->id);
}

/* A timeout and a shield settle as their input did, at that moment,
 * unless they timed out or were cancelled themselves. */
static void
check_follower (Node     *node,
                KaaState  state)
{
  KaaStress *self = node->stress;
  KaaInProgress *input = node->inputs[0]->ip;
  const GError *error = kaa_in_progress_get_error (node->ip);

  if (state == KAA_STATE_CANCELLED)
    return;
  if (node->kind == NODE_TIMEOUT && state == KAA_STATE_FAILED &&
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    {
      if (node->cancel_input && !kaa_in_progress_is_done (input))
        stress_fail (self, "timeout %u delivered its error before its input %u was cancelled",
                     node->id, node->inputs[0]->id);
      return;
    }
  if (!kaa_in_progress_is_done (input) || !same_settlement (node->ip, input))
    stress_fail (self, "%u settled (state %d) unlike its input %u (state %d)", node->id,
                 state, node->inputs[0]->id, kaa_in_progress_get_state (input));
  if (state == KAA_STATE_FINISHED && node->inputs[0]->kind == NODE_PLAIN &&
      kaa_in_progress_get_int64 (node->ip) != kaa_in_progress_get_int64 (input))
    stress_fail (self, "%u finished with another value than its input %u", node->id,
                 node->inputs[0]->id);
}

void
stress_check_settled (Node *node)
{
  KaaState state = kaa_in_progress_get_state (node->ip);

  switch (node->kind)
    {
    case NODE_COROUTINE:
      /* DESIGN §4: the body's cleanups run before any callback. */
      if (state != KAA_STATE_CANCELLED &&
          (node->script == NULL || node->script->cleaned != 1))
        stress_fail (node->stress, "coroutine %u settled before its body's cleanups ran",
                     node->id);
      break;
    case NODE_ANY:
    case NODE_ANY_SUCCESS:
    case NODE_ALL:
    case NODE_ALL_SUCCESS:
      check_group (node, state);
      break;
    case NODE_TIMEOUT:
    case NODE_SHIELD:
      check_follower (node, state);
      break;
    case NODE_SCOPE:
      check_scope (node, state);
      break;
    default:
      break;
    }
}

static gboolean
some_input_cancelled (Node *node)
{
  for (guint i = 0; i < node->n_inputs; i++)
    if (kaa_in_progress_get_state (node->inputs[i]->ip) == KAA_STATE_CANCELLED)
      return TRUE;
  return FALSE;
}

static gboolean
node_may_be_cancelled (Node *node)
{
  if (node->may_cancel)
    return TRUE;
  for (guint i = 0; node->parents != NULL && i < node->parents->len; i++)
    {
      Node *parent = node->parents->pdata[i];

      if (parent->kind != NODE_SHIELD && node_may_be_cancelled (parent))
        return TRUE;
    }
  return FALSE;
}

/* What the producer did decides the state, unless a cancel reached it. */
static void
check_outcome (Node     *node,
               KaaState  state,
               Outcome   outcome,
               gint64    value,
               gint      code)
{
  const GError *error = kaa_in_progress_get_error (node->ip);

  if (state == KAA_STATE_CANCELLED)
    return;
  if (outcome == OUTCOME_RETURNED && state == KAA_STATE_FINISHED &&
      kaa_in_progress_get_int64 (node->ip) == value)
    return;
  if (outcome == OUTCOME_THREW && state == KAA_STATE_FAILED &&
      g_error_matches (error, STRESS_ERROR, code))
    return;
  stress_fail (node->stress, "%u (kind %d) ended in state %d (%s) after its producer's "
               "outcome %d, value %" G_GINT64_FORMAT ", error %d", node->id, node->kind, state,
               error != NULL ? error->message : "no error", outcome, value, code);
}

static void
check_node (KaaStress *self,
            Node      *node)
{
  KaaState state = kaa_in_progress_get_state (node->ip);
  Script *script = node->script;

  if (node->watched != 1)
    stress_fail (self, "InProgress %u called its callback %d times", node->id, node->watched);
  if (kaa_in_progress_is_paused (node->ip))
    stress_fail (self, "InProgress %u is still paused when every pause was resumed", node->id);
  if (state == KAA_STATE_CANCELLED && !node_may_be_cancelled (node) &&
      !some_input_cancelled (node))
    stress_fail (self, "InProgress %u (kind %d) is cancelled, but no cancel reached it",
                 node->id, node->kind);
  switch (node->kind)
    {
    case NODE_PLAIN:
      if (state == KAA_STATE_FINISHED && node->value_known &&
          kaa_in_progress_get_int64 (node->ip) != node->expect_value)
        stress_fail (self, "%u finished with another value than it was given", node->id);
      break;
    case NODE_THREAD:
      check_outcome (node, state, g_atomic_int_get (&node->job->outcome), node->job->value, 3);
      break;
    case NODE_ACQUIRE:
      stress_limits_check_node (node);
      break;
    case NODE_COROUTINE:
      if (script == NULL)
        check_outcome (node, state, OUTCOME_NONE, 0, 0);
      else
        check_outcome (node, state, script->outcome, script->returned, script->thrown_code);
      break;
    default:
      break;
    }
}

static gboolean
episode_quiet (KaaStress *self,
               GString   *why)
{
  if (g_atomic_int_get (&self->remote_pending) != 0)
    return g_string_assign (why, "remote events in flight"), FALSE;
  if (g_atomic_int_get (&self->foreign_pending) != 0 || self->foreign->len != 0)
    return g_string_assign (why, "spawns from jobs not yet handed over"), FALSE;
  for (guint i = 0; i < self->nodes->len; i++)
    {
      Node *node = self->nodes->pdata[i];

      if (node->ip != NULL && !kaa_in_progress_is_done (node->ip))
        {
          g_string_printf (why, "InProgress %u (kind %d, paused %d/%d) pending", node->id,
                           node->kind, node->paused, kaa_in_progress_is_paused (node->ip));
          return FALSE;
        }
      /* Settled on a worker, its callbacks come on a later dispatch. */
      if (node->ip != NULL && node->watched == 0)
        {
          g_string_printf (why, "InProgress %u (kind %d) settled, its callback not yet run",
                           node->id, node->kind);
          return FALSE;
        }
    }
  for (guint i = 0; i < self->scripts->len; i++)
    {
      Script *script = self->scripts->pdata[i];

      if (script->destroyed != 1 || script->started != script->cleaned)
        {
          g_string_printf (why, "a body of %u: destroyed %d, started %d, cleaned %d",
                           script->node->id, script->destroyed, script->started,
                           script->cleaned);
          return FALSE;
        }
    }
  return TRUE;
}

static void
settle_step (KaaStress *self)
{
  stress_limits_release_all (self);
  for (guint i = 0; i < self->nodes->len; i++)
    {
      Node *node = self->nodes->pdata[i];

      while (node->ip != NULL && node->paused > 0)
        {
          if (node->ip->n_paused == 0)
            stress_fail (self, "%u (kind %d, state %d) lost %d pauses of ours: nothing to "
                         "resume", node->id, node->kind, kaa_in_progress_get_state (node->ip),
                         node->paused);
          kaa_in_progress_resume (node->ip);
          node->paused--;
        }
      if (node->ip != NULL && node->kind == NODE_PLAIN && !node->finish_sent &&
          !kaa_in_progress_is_done (node->ip))
        {
          node->finish_sent = TRUE;
          node->value_known = TRUE;
          node->expect_value = node->id;
          kaa_in_progress_finish_int64 (node->ip, node->expect_value);
        }
    }
}

static gboolean
heartbeat (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static void
run_to_quiet (KaaStress *self)
{
  g_autoptr(GString) why = g_string_new (NULL);
  gint64 deadline = g_get_monotonic_time () + SETTLE_SEC * G_USEC_PER_SEC;
  GSource *beat = g_timeout_source_new (20);

  /* Wakes the blocking iteration, so that a lost wake-up is reported by
   * the deadline instead of hanging the test. */
  g_source_set_callback (beat, heartbeat, NULL, NULL);
  g_source_attach (beat, self->context);
  for (;;)
    {
      stress_register_foreign (self);
      settle_step (self);
      while (g_main_context_iteration (self->context, FALSE))
        ;
      if (episode_quiet (self, why))
        break;
      if (g_get_monotonic_time () > deadline)
        stress_fail (self, "the episode did not settle within %d s: %s", SETTLE_SEC, why->str);
      g_main_context_iteration (self->context, TRUE);
    }
  g_source_destroy (beat);
  g_source_unref (beat);
}

static void
check_callbacks (KaaStress *self)
{
  for (guint i = 0; i < self->callbacks->len; i++)
    {
      Callback *callback = self->callbacks->pdata[i];
      gint expected = callback->disconnected && callback->called_at_disconnect == 0 ? 0 : 1;

      if (g_atomic_int_get (&callback->called) != expected ||
          g_atomic_int_get (&callback->destroyed) != 1)
        stress_fail (self, "a callback of %u ran %d times (%d expected), its destroy "
                     "notify %d times", callback->node->id, callback->called, expected,
                     callback->destroyed);
      if (g_atomic_int_get (&callback->wrong_thread))
        stress_fail (self, "a callback of %u ran on another thread than the owner's",
                     callback->node->id);
    }
}

/* Released, everything must be gone; a job may still be returning on
 * its worker for a moment after its InProgress settled. */
static void
check_live (KaaStress *self)
{
  gint64 deadline = g_get_monotonic_time () + LIVE_SEC * G_USEC_PER_SEC;
  guint kind = 0;

  while (kind < KAA_LIVE_N_KINDS)
    {
      while (g_main_context_iteration (self->context, FALSE))
        ;
      for (kind = 0; kind < KAA_LIVE_N_KINDS; kind++)
        if (kaa_live_get (kind) != self->live[kind])
          break;
      if (kind < KAA_LIVE_N_KINDS && g_get_monotonic_time () > deadline)
        stress_fail (self, "%s objects live: %" G_GINT64_FORMAT " after the episode, %"
                     G_GINT64_FORMAT " before", live_names[kind], kaa_live_get (kind),
                     self->live[kind]);
      if (kind < KAA_LIVE_N_KINDS)
        g_usleep (1000);
    }
  for (guint i = 0; i < self->jobs->len; i++)
    if (g_atomic_int_get (&((Job *) self->jobs->pdata[i])->destroyed) != 1)
      stress_fail (self, "a thread job's destroy notify did not run");
}

/* Issue #15: a descendant whose cancel of an ancestor reached itself
 * unwound first, the ancestor after it. */
static void
check_ancestor_order (KaaStress *self)
{
  for (guint i = 0; i < self->ancestor_cancels->len; i++)
    {
      AncestorCancel *a = &g_array_index (self->ancestor_cancels, AncestorCancel, i);

      if (kaa_in_progress_get_state (a->ancestor->ip) != KAA_STATE_CANCELLED)
        stress_fail (self, "%u cancelled its ancestor %u, which ended in state %d",
                     a->descendant->id, a->ancestor->id,
                     kaa_in_progress_get_state (a->ancestor->ip));
      if (a->descendant_script->cleaned_at == 0 ||
          a->ancestor_script->cleaned_at <= a->descendant_script->cleaned_at)
        stress_fail (self, "%u cancelled its ancestor %u: the ancestor's cleanup ran "
                     "(%" G_GUINT64_FORMAT ") before the descendant's (%" G_GUINT64_FORMAT ")",
                     a->descendant->id, a->ancestor->id, a->ancestor_script->cleaned_at,
                     a->descendant_script->cleaned_at);
    }
}

static void
node_free (gpointer data)
{
  Node *node = data;

  g_clear_pointer (&node->parents, g_ptr_array_unref);
  g_free (node);
}

static void
episode_release (KaaStress *self)
{
  for (guint i = 0; i < self->nodes->len; i++)
    g_clear_pointer (&((Node *) self->nodes->pdata[i])->ip, kaa_in_progress_unref);
  g_hash_table_remove_all (self->by_ip);
  check_live (self);
  g_ptr_array_set_size (self->nodes, 0);
  g_ptr_array_set_size (self->scripts, 0);
  g_ptr_array_set_size (self->jobs, 0);
  g_ptr_array_set_size (self->callbacks, 0);
  g_ptr_array_set_size (self->foreign_records, 0);
  g_array_set_size (self->ancestor_cancels, 0);
  memset (self->last_call, 0, sizeof self->last_call);
}

void
stress_settle (KaaStress *self)
{
  if (self->settling)
    return;
  stress_trace (self, "settle");
  self->settling = TRUE;
  run_to_quiet (self);
  for (guint i = 0; i < self->nodes->len; i++)
    {
      Node *node = self->nodes->pdata[i];

      if (node->ip != NULL)
        check_node (self, node);
    }
  check_callbacks (self);
  check_ancestor_order (self);
  stress_limits_check_settled (self);
  episode_release (self);
  self->episode_ops = 0;
  self->stats.episodes++;
  self->settling = FALSE;
}

guint
kaa_stress_features_from_env (void)
{
  static const GDebugKey keys[] = {
    { "ancestor", KAA_STRESS_ANCESTOR_CANCEL },
    { "repeated", KAA_STRESS_REPEATED_INPUTS },
    { "death", KAA_STRESS_CONTEXT_DEATH },
    { "foreign", KAA_STRESS_FOREIGN_SPAWN },
    { "death-paused", KAA_STRESS_DEATH_PAUSED },
    { "death-policies", KAA_STRESS_DEATH_POLICIES },
    { "scopes", KAA_STRESS_SCOPES },
    { "channel", KAA_STRESS_CHANNEL },
    { "limits", KAA_STRESS_LIMITS },
  };
  const char *env = g_getenv ("KAA_STRESS_FEATURES");

  if (env == NULL)
    return KAA_STRESS_FEATURES_DEFAULT;
  return g_parse_debug_string (env, keys, G_N_ELEMENTS (keys));
}

KaaStress *
kaa_stress_new (const KaaStressConfig *config)
{
  KaaStress *self = g_new0 (KaaStress, 1);

  self->config = *config;
  /* The global default context: a thread-pool job's spawns go there
   * (issue #17). Running it here makes this thread its owner. */
  self->context = g_main_context_ref (g_main_context_default ());
  g_main_context_iteration (self->context, FALSE);
  self->owner = g_thread_self ();
  /* Pools live as long as the process; a second KaaStress reuses it.
   * Not a GThreadPool: TSan would not see its lock, inside libglib. */
  self->remote = kaa_thread_pool_get ("stress-ev");
  self->remote = self->remote != NULL ? kaa_thread_pool_ref (self->remote)
                                      : kaa_thread_pool_new ("stress-ev", 2);
  self->nodes = g_ptr_array_new_with_free_func (node_free);
  self->scripts = g_ptr_array_new_with_free_func (g_free);
  self->jobs = g_ptr_array_new_with_free_func (g_free);
  self->callbacks = g_ptr_array_new_with_free_func (g_free);
  self->foreign = g_ptr_array_new ();
  self->foreign_records = g_ptr_array_new_with_free_func (g_free);
  self->ancestor_cancels = g_array_new (FALSE, FALSE, sizeof (AncestorCancel));
  stress_limits_init (self);
  self->by_ip = g_hash_table_new (NULL, NULL);
  for (guint i = 0; i < KAA_LIVE_N_KINDS; i++)
    self->live[i] = kaa_live_get (i);
  stress_catch_fatal_logs (self);
  return self;
}

void
kaa_stress_free (KaaStress *self)
{
  stress_settle (self);
  kaa_thread_pool_unref (self->remote);
  g_ptr_array_unref (self->nodes);
  g_ptr_array_unref (self->scripts);
  g_ptr_array_unref (self->jobs);
  g_ptr_array_unref (self->callbacks);
  g_ptr_array_unref (self->foreign);
  g_ptr_array_unref (self->foreign_records);
  g_array_unref (self->ancestor_cancels);
  g_hash_table_unref (self->by_ip);
  stress_limits_free (self);
  g_main_context_unref (self->context);
  g_free (self);
}
