/* kaa-coroutine-spawn.c: starting a coroutine, and where it was started
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * kaa_coroutine_spawn() and kaa_coroutine_spawn_def() hand what the
 * start needs beyond the definition (the scope that adopts the coroutine,
 * issue 18 §4; the place it was spawned from, issue 19) to
 * kaa_coroutine_start() through per-thread slots, which the start takes
 * at once: a start nested inside (a queued SYNCHRONIZED call that the new
 * body lets go) never inherits them.
 */
#include "config.h"

#include "kaa-coroutine-private.h"

static KAA_THREAD_LOCAL KaaAdopter *spawn_adopter;
/* From the macros of kaa-coroutine.h (spawn_site), for the start that
 * spawn makes at once (start_site). */
static KAA_THREAD_LOCAL const char *spawn_site_file;
static KAA_THREAD_LOCAL gint        spawn_site_line;
static KAA_THREAD_LOCAL const char *start_site_file;
static KAA_THREAD_LOCAL gint        start_site_line;

KaaAdopter *
kaa_coroutine_take_spawn (const char **file,
                          gint        *line)
{
  *file = g_steal_pointer (&start_site_file);
  *line = start_site_line;
  return g_steal_pointer (&spawn_adopter);
}

/**
 * kaa_coroutine_set_spawn_site: (skip)
 * @file: a static string, `__FILE__`
 * @line: `__LINE__`
 *
 * Records where the next spawn on this thread is made, for
 * [func@Kaa.dump] and the debug switches: the `kaa_coroutine_spawn()`
 * and `kaa_coroutine_spawn_def()` macros of `<kaa/kaa.h>` call it before
 * the function of the same name, so an application never calls it
 * itself.
 *
 * Since: 0.2
 */
void
kaa_coroutine_set_spawn_site (const char *file,
                              int         line)
{
  spawn_site_file = file;
  spawn_site_line = line;
}

/**
 * kaa_coroutine_spawn: (skip)
 * @func: (scope notified) (closure user_data) (destroy destroy): the body
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data when the body is done
 *
 * Starts a coroutine on the calling thread's thread-default context: @func
 * runs on a stack of its own, on the thread that runs that context. On
 * that thread it runs here and now, until it first suspends in
 * [func@Kaa.yield] or [func@Kaa.await], and the InProgress may already be
 * done when this returns. From any other thread (a thread-pool job, whose
 * thread-default context is the global default one, or a thread that
 * created a context and handed it to another to run), the start is handed
 * to the owner thread, and the body begins on its next dispatch; cancelled
 * before that, it never begins. The main loop of that context resumes it
 * from then on. The coroutine keeps itself alive while it runs: dropping
 * every reference to its InProgress does not stop it, cancelling does, and
 * so does the end of its context, which cancels it (its cleanups run on
 * the thread that drops the context).
 *
 * If no stack can be had, the InProgress fails with an error naming it.
 *
 * C only: language bindings cannot provide a body (see
 * [callback@Kaa.CoroutineFunc]); they time-slice work with
 * [func@Kaa.coiterate] and chain InProgresses with
 * [method@Kaa.InProgress.connect].
 *
 * Returns: (transfer full): the InProgress of the coroutine
 * Since: 0.1
 */
KaaInProgress *
(kaa_coroutine_spawn) (KaaCoroutineFunc func,
                       gpointer         user_data,
                       GDestroyNotify   destroy)
{
  /* No name: the InProgress then takes the static "coroutine". */
  KaaCoroutineDef def = { .func = func };

  kaa_return_failed_if_fail (func != NULL);

  return (kaa_coroutine_spawn_def) (&def, NULL, user_data, destroy);
}

/**
 * kaa_coroutine_spawn_def: (skip)
 * @def: the definition, normally static; it must stay valid while calls of
 *   it run
 * @instance: (nullable): the object the call is made for, or %NULL: the
 *   scope of the definition's policy state
 * @user_data: data for the body
 * @destroy: (nullable): frees @user_data when the body is done
 *
 * Starts a coroutine as [func@Kaa.Coroutine.spawn] does, with the name,
 * interval, stack size and priority of @def; from a thread that does not
 * run the context, the start is handed to the one that does, as there.
 *
 * C only, as [func@Kaa.Coroutine.spawn] is.
 *
 * Returns: (transfer full): the InProgress of the coroutine
 * Since: 0.1
 */
KaaInProgress *
(kaa_coroutine_spawn_def) (const KaaCoroutineDef *def,
                           gpointer               instance,
                           gpointer               user_data,
                           GDestroyNotify         destroy)
{
  KaaCoroutine *current = kaa_coroutine_self ();
  KaaAdopter *adopter = current != NULL ? current->adopter : NULL;
  /* Taken before the checks, so that a failed one leaves nothing behind
   * for a later spawn through a function pointer. */
  const char *site_file = g_steal_pointer (&spawn_site_file);
  KaaInProgress *ip;

  kaa_return_failed_if_fail (def != NULL);
  kaa_return_failed_if_fail (def->func != NULL);
  kaa_return_failed_if_fail (def->policy <= KAA_POLICY_PASS_LAST);
  kaa_return_failed_if_fail (instance == NULL || G_IS_OBJECT (instance));

  start_site_file = site_file;
  start_site_line = spawn_site_line;
  ip = kaa_coroutine_spawn_adopted (def, instance, adopter, user_data, destroy);

  /* Started by a member of a task scope: the scope owns it too. */
  if (adopter != NULL)
    adopter->adopt (adopter, ip);
  return ip;
}

KaaInProgress *
kaa_coroutine_spawn_adopted (const KaaCoroutineDef *def,
                             gpointer               instance,
                             KaaAdopter            *adopter,
                             gpointer               user_data,
                             GDestroyNotify         destroy)
{
  KaaInProgress *ip;

  spawn_adopter = adopter;
  if (def->policy != KAA_POLICY_NONE)
    ip = kaa_coroutine_policy_call (def, instance, user_data, destroy);
  else
    {
      ip = kaa_in_progress_new ();
      kaa_coroutine_start (def, ip, user_data, destroy, NULL);
    }
  spawn_adopter = NULL;
  start_site_file = NULL;
  return ip;
}
