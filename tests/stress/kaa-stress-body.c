/* kaa-stress-body.c: the coroutine bodies, thread jobs and remote events
 * the interpreter drives (issue #7)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A coroutine body runs a script decoded from bytes when it was spawned:
 * yields, awaits of new children or of existing leaves, a tail call, a
 * throw or a cancel of itself. It records what it did, so that the final
 * check can hold its InProgress to it, and it checks every await against
 * what it awaited (DESIGN §4). Bodies and their cleanups run on the owner
 * thread; jobs on the default pool; remote events on a libkaa thread
 * pool of the test's own, so that cancel and finish also arrive from
 * other threads.
 */
#include "config.h"

#include "kaa-stress-private.h"

#define MAX_BECOME 8

static void stress_body (KaaCoroutine *co,
                         gpointer      data);

const KaaCoroutineDef stress_defs[N_DEFS] = {
  [DEF_PLAIN] = { .name = "stress-plain", .func = stress_body },
  [DEF_INTERVAL] = { .name = "stress-interval", .func = stress_body, .interval = 1 },
  [DEF_SYNCHRONIZED] = { .name = "stress-synchronized", .func = stress_body,
                         .policy = KAA_POLICY_SYNCHRONIZED },
  [DEF_SINGLETON] = { .name = "stress-singleton", .func = stress_body,
                      .policy = KAA_POLICY_SINGLETON },
  [DEF_PASS_LAST] = { .name = "stress-pass-last", .func = stress_body,
                      .policy = KAA_POLICY_PASS_LAST },
};

/* Weights of the steps, out of 16; an ancestor's cancel is a yield
 * while that kind is off. */
static StepKind
step_from_byte (KaaStress *self,
                guint8     byte)
{
  static const StepKind table[16] = {
    STEP_YIELD, STEP_YIELD, STEP_YIELD, STEP_YIELD,
    STEP_AWAIT_NEW, STEP_AWAIT_NEW, STEP_AWAIT_NEW, STEP_AWAIT_NEW, STEP_AWAIT_NEW,
    STEP_AWAIT_EXISTING, STEP_AWAIT_EXISTING, STEP_AWAIT_EXISTING,
    STEP_BECOME, STEP_THROW, STEP_SELF_CANCEL, STEP_CANCEL_ANCESTOR,
  };
  StepKind step = table[byte % 16];

  if (step == STEP_CANCEL_ANCESTOR && !(self->config.features & KAA_STRESS_ANCESTOR_CANCEL))
    return STEP_YIELD;
  return step;
}

static Script *
script_new_gen (KaaStress      *self,
                KaaStressBytes *bytes,
                guint           depth,
                guint           generation)
{
  Script *script = g_new0 (Script, 1);

  script->stress = self;
  script->depth = depth;
  script->n_steps = kaa_stress_bytes_next (bytes) % (MAX_STEPS + 1);
  for (guint i = 0; i < script->n_steps; i++)
    {
      script->steps[i] = step_from_byte (self, kaa_stress_bytes_next (bytes));
      if (script->steps[i] == STEP_BECOME && generation >= MAX_BECOME)
        script->steps[i] = STEP_YIELD;
      script->seeds[i] = kaa_stress_bytes_next64 (bytes);
    }
  script->value = kaa_stress_bytes_next (bytes);
  /* From a byte it had anyway, so that older inputs decode as before. */
  script->cancel_in_cleanup = script->value % 8 == 7 &&
                              (self->config.features & KAA_STRESS_ANCESTOR_CANCEL);
  script->generation = generation;
  g_ptr_array_add (self->scripts, script);
  return script;
}

Script *
stress_script_new (KaaStress      *self,
                   KaaStressBytes *bytes,
                   guint           depth)
{
  return script_new_gen (self, bytes, depth, 0);
}

void
stress_script_destroy (gpointer data)
{
  Script *script = data;

  if (++script->destroyed != 1)
    stress_fail (script->stress, "a coroutine's destroy notify ran %d times",
                 script->destroyed);
}

/* Runs when the body is left, however: returned, thrown, or unwound by
 * a cancel; a cleanup may cancel an ancestor too (issue #15). */
static void
script_leave (Script *script)
{
  KaaStress *self = script->stress;
  KaaCoroutine *co;

  if (++script->cleaned != 1)
    stress_fail (self, "a body's g_autoptr cleanup ran %d times", script->cleaned);
  script->cleaned_at = ++self->cleanups;
  if (g_thread_self () != self->owner)
    stress_fail (self, "the cleanup of coroutine %u ran on another thread than the owner's",
                 script->node->id);
  co = kaa_coroutine_self ();
  if (script->cancel_in_cleanup && co != NULL && !kaa_coroutine_is_cancelled (co))
    stress_cancel_ancestor (script, NULL, script->value);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Script, script_leave)

/* The first body of a call checks what its policy promised (DESIGN §4). */
static void
check_policy (KaaStress    *self,
              Node         *node,
              KaaCoroutine *co)
{
  KaaInProgress *last;

  switch (node->def)
    {
    case DEF_SYNCHRONIZED:
      for (Node *prev = node->prev_call; prev != NULL; prev = prev->prev_call)
        if (prev->ip != NULL && !kaa_in_progress_is_done (prev->ip))
          stress_fail (self, "SYNCHRONIZED call %u started before call %u was done",
                       node->id, prev->id);
      break;
    case DEF_PASS_LAST:
      last = kaa_coroutine_get_last (co);
      if (node->prev_pending && last != node->prev_call->ip)
        stress_fail (self, "PASS_LAST call %u does not see call %u, still pending",
                     node->id, node->prev_call->id);
      if (last != NULL && (node->prev_call == NULL || last != node->prev_call->ip))
        stress_fail (self, "PASS_LAST call %u sees an InProgress that is not the last call",
                     node->id);
      break;
    default:
      break;
    }
}

static Script *
body_enter (Script       *script,
            KaaCoroutine *co)
{
  KaaStress *self = script->stress;
  Node *node = script->node;

  if (++script->started != 1)
    stress_fail (self, "a coroutine body started %d times", script->started);
  if (script->destroyed != 0)
    stress_fail (self, "a coroutine body started after its destroy notify");
  if (g_thread_self () != self->owner)
    stress_fail (self, "the body of coroutine %u ran on another thread than the owner's "
                 "(issue #17)", node->id);
  if (node->script == NULL)
    check_policy (self, node, co);
  node->script = script;
  self->stats.coroutine_bodies++;
  return script;
}

/* DESIGN §6: a paused coroutine is not resumed until it is resumed. */
static void
check_not_paused (Script       *script,
                  KaaCoroutine *co)
{
  if (script->node->paused > 0 && !kaa_coroutine_is_cancelled (co))
    stress_fail (script->stress, "coroutine %u ran while paused", script->node->id);
}

void
stress_check_await (KaaStress    *self,
                    Node         *child,
                    gboolean      ok,
                    const GError *error)
{
  KaaState state = kaa_in_progress_get_state (child->ip);
  const GError *child_error;

  if (state == KAA_STATE_PENDING)
    stress_fail (self, "an await of %u (kind %d) returned %d while it was pending: %s",
                 child->id, child->kind, ok, error != NULL ? error->message : "no error");
  if (ok != (state == KAA_STATE_FINISHED))
    stress_fail (self, "an await of %u returned %d, but its state is %d", child->id, ok, state);
  if (ok)
    return;
  child_error = kaa_in_progress_get_error (child->ip);
  if (error == NULL || child_error == NULL ||
      !g_error_matches (error, child_error->domain, child_error->code))
    stress_fail (self, "an await of %u returned another error than its own: %s",
                 child->id, error != NULL ? error->message : "none");
}

static gint64
result_of (Node *child)
{
  switch (child->kind)
    {
    case NODE_PLAIN:
    case NODE_THREAD:
    case NODE_COROUTINE:
      return kaa_in_progress_get_int64 (child->ip);
    default:
      return 1;
    }
}

/* Returns FALSE when the body must return now. */
static gboolean
body_await (Script       *script,
            KaaCoroutine *co,
            Node         *child)
{
  g_autoptr(GError) error = NULL;
  Node *node = script->node;
  gboolean ok;

  stress_trace (script->stress, "%u awaits %u", node->id, child->id);
  stress_node_add_parent (child, node);
  node->awaiting = child;
  ok = kaa_await (kaa_in_progress_ref (child->ip), &error);
  node->awaiting = NULL;
  stress_trace (script->stress, "%u awaited %u: %d", node->id, child->id, ok);
  if (!ok && kaa_coroutine_is_cancelled (co))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
          kaa_in_progress_get_state (child->ip) == KAA_STATE_FINISHED)
        stress_fail (script->stress, "a cancelled await returned neither the cancel nor "
                     "the error of %u: %s", child->id, error->message);
      script->outcome = OUTCOME_SAW_CANCEL;
      return FALSE;
    }
  stress_check_await (script->stress, child, ok, error);
  if (!ok)
    {
      script->outcome = OUTCOME_THREW;
      script->thrown_code = 1;
      kaa_coroutine_throw (co, g_error_new (STRESS_ERROR, 1, "child %u failed", child->id));
      return FALSE;
    }
  check_not_paused (script, co);
  script->value += result_of (child);
  return TRUE;
}

static gboolean
body_yield (Script       *script,
            KaaCoroutine *co)
{
  if (!kaa_yield ())
    {
      if (!kaa_coroutine_is_cancelled (co))
        stress_fail (script->stress, "kaa_yield() returned FALSE to coroutine %u, "
                     "which is not cancelled", script->node->id);
      script->outcome = OUTCOME_SAW_CANCEL;
      return FALSE;
    }
  check_not_paused (script, co);
  script->value++;
  return TRUE;
}

static gboolean
body_step (Script       *script,
           KaaCoroutine *co,
           guint         i)
{
  KaaStress *self = script->stress;
  KaaStressBytes bytes;
  Node *child = NULL;
  Script *next;

  kaa_stress_bytes_init_seed (&bytes, script->seeds[i]);
  switch (script->steps[i])
    {
    case STEP_AWAIT_NEW:
      if (script->depth < MAX_DEPTH && stress_has_room (self) && !self->settling)
        child = stress_node_new (self, &bytes, script->depth + 1, FALSE);
      return child != NULL ? body_await (script, co, child) : body_yield (script, co);
    case STEP_AWAIT_EXISTING:
      child = stress_pick_leafy (self, script->seeds[i], script->node);
      return child != NULL ? body_await (script, co, child) : body_yield (script, co);
    case STEP_BECOME:
      next = script_new_gen (self, &bytes, script->depth, script->generation + 1);
      next->node = script->node;
      script->outcome = OUTCOME_BECAME;
      kaa_coroutine_become (co, stress_body, next, stress_script_destroy);
      return FALSE;
    case STEP_THROW:
      script->outcome = OUTCOME_THREW;
      script->thrown_code = 2;
      kaa_coroutine_throw (co, g_error_new_literal (STRESS_ERROR, 2, "thrown"));
      return FALSE;
    case STEP_CANCEL_ANCESTOR:
      stress_cancel_ancestor (script, co, script->seeds[i]);
      return TRUE;
    case STEP_SELF_CANCEL:
      stress_trace (self, "%u cancels itself", script->node->id);
      stress_mark_may_cancel (script->node);
      kaa_in_progress_cancel (kaa_coroutine_get_in_progress (co));
      return TRUE;
    case STEP_YIELD:
    default:
      return body_yield (script, co);
    }
}

static void
stress_body (KaaCoroutine *co,
             gpointer      data)
{
  g_autoptr(Script) script = body_enter (data, co);

  for (guint i = 0; i < script->n_steps; i++)
    if (!body_step (script, co, i))
      return;
  script->outcome = OUTCOME_RETURNED;
  script->returned = script->value;
  kaa_coroutine_return_int64 (co, script->value);
}

/* The coroutine that awaits @node now, if any: coroutines await only
 * what they spawned or leaves, so the links form chains. */
static Node *
awaiter_of (KaaStress *self,
            Node      *node)
{
  for (guint i = 0; i < self->nodes->len; i++)
    {
      Node *up = self->nodes->pdata[i];

      if (up->kind == NODE_COROUTINE && up->awaiting == node && up->ip != NULL &&
          !kaa_in_progress_is_done (up->ip))
        return up;
    }
  return NULL;
}

/* Issue #15: a coroutine cancels an ancestor awaiting it (directly or
 * through others), from its body (@co) or its cleanup (@co NULL). The
 * cancel comes back to it; when the cascade reaches it, it unwinds first
 * at its next suspension, then the ancestors, innermost first. */
void
stress_cancel_ancestor (Script       *script,
                        KaaCoroutine *co,
                        guint64       seed)
{
  KaaStress *self = script->stress;
  g_autoptr(GPtrArray) beneath = g_ptr_array_new ();
  Node *chain[2 * MAX_DEPTH + 2];
  Node *target;
  guint n = 0;
  gboolean reaches;

  for (Node *up = awaiter_of (self, script->node); up != NULL && n < G_N_ELEMENTS (chain);
       up = awaiter_of (self, up))
    chain[n++] = up;
  if (n == 0)
    return;
  target = chain[seed % n];
  stress_predict_cascade (target, beneath);
  reaches = g_ptr_array_find (beneath, script->node, NULL);
  stress_trace (self, "%u cancels its ancestor %u (%u up, reaches %d, from %s)",
                script->node->id, target->id, n, reaches, co != NULL ? "body" : "cleanup");
  stress_mark_may_cancel (target);
  self->stats.ancestor_cancels++;
  kaa_in_progress_cancel (target->ip);
  if (!reaches)
    return;
  if (co != NULL && !kaa_coroutine_is_cancelled (co))
    stress_fail (self, "coroutine %u cancelled its ancestor %u, whose cascade reaches it, "
                 "and is not cancelled", script->node->id, target->id);
  g_array_append_val (self->ancestor_cancels, ((AncestorCancel) {
    target, script->node, target->script, script }));
}

static void
foreign_func_done (Foreign       *foreign,
                   KaaInProgress *ip)
{
  g_atomic_pointer_set (&foreign->spawner, g_thread_self ());
  g_atomic_pointer_set (&foreign->ip, ip);
  g_atomic_int_dec_and_test (&foreign->stress->foreign_pending);
}

/* Issue #17: on a worker, whose thread-default context is the global
 * default one, a spawn hands the start to the thread that runs it. */
static gpointer
foreign_func (KaaThreadJob *job,
              gpointer      data,
              GError      **error)
{
  Foreign *foreign = data;

  foreign_func_done (foreign, kaa_coroutine_spawn_def (&stress_defs[foreign->def], NULL,
                                                       foreign->script,
                                                       stress_script_destroy));
  return NULL;
}

void
stress_foreign_spawn (KaaStress *self,
                      Foreign   *foreign)
{
  stress_trace (self, "foreign spawn %u", foreign->node->id);
  g_ptr_array_add (self->foreign, foreign);
  g_atomic_int_inc (&self->foreign_pending);
  self->stats.foreign_spawns++;
  kaa_in_progress_unref (kaa_thread_pool_run (self->remote, 0, foreign_func, foreign, NULL));
}

static void
job_destroy (gpointer data)
{
  Job *job = data;

  if (g_atomic_int_add (&job->destroyed, 1) != 0)
    g_error ("stress: a thread job's destroy notify ran twice");
}

static gpointer
job_func (KaaThreadJob *tj,
          gpointer      data,
          GError      **error)
{
  Job *job = data;

  for (guint i = 0; i < job->n_checks; i++)
    {
      if (!kaa_thread_job_check (tj))
        {
          g_atomic_int_set (&job->outcome, OUTCOME_SAW_CANCEL);
          return NULL;
        }
      if (job->spin_us > 0)
        g_usleep (job->spin_us);
    }
  if (job->fails)
    {
      g_atomic_int_set (&job->outcome, OUTCOME_THREW);
      g_set_error_literal (error, STRESS_ERROR, 3, "job failed");
      return NULL;
    }
  g_atomic_int_set (&job->outcome, OUTCOME_RETURNED);
  kaa_thread_job_return_int64 (tj, job->value);
  return NULL;
}

Job *
stress_job_new (KaaStress      *self,
                KaaStressBytes *bytes)
{
  Job *job = g_new0 (Job, 1);
  guint8 byte = kaa_stress_bytes_next (bytes);

  job->stress = self;
  job->n_checks = byte % 5;
  job->spin_us = (byte >> 3) % 4 == 0 ? (byte >> 5) * 50 : 0;
  job->fails = kaa_stress_bytes_next (bytes) % 8 == 0;
  job->value = kaa_stress_bytes_next (bytes);
  g_ptr_array_add (self->jobs, job);
  self->stats.thread_jobs++;
  return job;
}

KaaInProgress *
stress_job_run (Job *job)
{
  return kaa_thread_run (job_func, job, job_destroy);
}

typedef struct
{
  KaaStress     *stress;
  KaaInProgress *ip;       /* owned */
  gboolean       cancel;
  gint64         value;
} Remote;

static gpointer
remote_func (KaaThreadJob *job,
             gpointer      data,
             GError      **error)
{
  Remote *remote = data;
  KaaStress *self = remote->stress;

  if (remote->cancel)
    kaa_in_progress_cancel (remote->ip);
  else
    kaa_in_progress_finish_int64 (remote->ip, remote->value);
  kaa_in_progress_unref (remote->ip);
  g_free (remote);
  g_atomic_int_dec_and_test (&self->remote_pending);
  return NULL;
}

/* A cancel or a finish of @node from a worker thread (DESIGN §2: any
 * thread may finish or cancel). */
void
stress_remote_event (KaaStress *self,
                     Node      *node,
                     gboolean   cancel,
                     gint64     value)
{
  Remote *remote = g_new0 (Remote, 1);

  stress_trace (self, "remote %s %u", cancel ? "cancel" : "finish", node->id);

  node->remote = TRUE;
  node->remote_finish |= !cancel;
  remote->stress = self;
  remote->ip = kaa_in_progress_ref (node->ip);
  remote->cancel = cancel;
  remote->value = value;
  g_atomic_int_inc (&self->remote_pending);
  self->stats.remote_events++;
  kaa_in_progress_unref (kaa_thread_pool_run (self->remote, 0, remote_func, remote, NULL));
}
