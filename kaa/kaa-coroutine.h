/* kaa-coroutine.h: stackful coroutines on the main loop
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined (KAA_INSIDE) && !defined (KAA_COMPILATION)
# error "Include <kaa/kaa.h>, not individual libkaa headers."
#endif

#include "kaa-in-progress.h"

G_BEGIN_DECLS

/**
 * KaaCoroutine:
 *
 * A running coroutine, as its body sees it: a
 * [callback@Kaa.CoroutineFunc] on a stack of its own that settles a
 * [struct@Kaa.InProgress] when it returns. Valid while the body runs.
 */
typedef struct _KaaCoroutine KaaCoroutine;

/**
 * KaaPolicy:
 * @KAA_POLICY_NONE: every call runs at once, on its own
 * @KAA_POLICY_SYNCHRONIZED: calls queue and run one after another: a
 *   queued call's body starts once its predecessor is done, however that
 *   one ended; cancelling a queued call takes it out of the queue
 * @KAA_POLICY_SINGLETON: while a call runs, further calls return its
 *   InProgress and their arguments are destroyed unused
 * @KAA_POLICY_PASS_LAST: every call runs, and can see the InProgress of
 *   the most recent call still unfinished when it was made, with
 *   [method@Kaa.Coroutine.get_last]
 *
 * What happens when a definition is called while earlier calls of it
 * are unfinished, as kaa's decorator policies do. The state is kept per
 * definition, per group when the definition names one, and separately
 * for every instance passed to [func@Kaa.Coroutine.spawn_def].
 */
typedef enum
{
  KAA_POLICY_NONE,
  KAA_POLICY_SYNCHRONIZED,
  KAA_POLICY_SINGLETON,
  KAA_POLICY_PASS_LAST,
} KaaPolicy;

/**
 * KaaCoroutineGroup:
 * @name: names the group in warnings
 *
 * Makes several definitions share one policy state: two definitions in
 * the same SYNCHRONIZED group never run at the same time. Define it
 * statically, next to the definitions that point to it. The definitions
 * of a group must have the same policy.
 */
typedef struct
{
  /*< public >*/
  const char *name;

  /*< private >*/
  gpointer    reserved[4];
} KaaCoroutineGroup;

/**
 * KaaCoroutineFunc:
 * @self: the running coroutine
 * @user_data: the data passed to [func@Kaa.Coroutine.spawn]
 *
 * The body of a coroutine: an ordinary C function that runs on its own
 * stack and may suspend anywhere in its call tree with [func@Kaa.yield]
 * or [func@Kaa.await]. Returning finishes its InProgress with what
 * `kaa_coroutine_return_*()` set, or %NULL.
 *
 * Language bindings cannot provide a body, so spawning, awaiting and
 * yielding are C only; they time-slice work with [func@Kaa.coiterate]
 * instead. The guide's [Language bindings](guide.html#6-language-bindings)
 * section says why an interpreter cannot suspend on a coroutine's stack.
 */
typedef void (*KaaCoroutineFunc) (KaaCoroutine *self,
                                  gpointer      user_data);

/**
 * KaaCoroutineDef:
 * @name: names the coroutine in warnings and in a stack-overflow report
 * @func: the body
 * @interval: milliseconds between time slices: a yield resumes at the
 *   next slot of a fixed-rate schedule on the monotonic clock (missed
 *   slots are skipped), an await one interval after what it awaited
 *   settled; time spent paused does not count, so the schedule shifts by
 *   it; 0 resumes a yield on the next main-loop iteration
 * @stack_size: bytes of stack, 0 for the default (64 KiB)
 * @policy: what a call does while earlier calls are unfinished
 * @group: (nullable): shares the policy state with the other definitions
 *   of the group
 * @priority: the GSource priority its time slices (what follows a yield)
 *   run at; 0 takes the default, %G_PRIORITY_DEFAULT_IDLE, below input,
 *   timers and GTK's drawing, so that busy coroutines never make the
 *   program stutter. (A slice at %G_PRIORITY_DEFAULT itself would starve
 *   every lower-priority source, drawing included, which is why 0 cannot
 *   mean that.) Wake-ups from an await run from the scheduler's own
 *   source, at %G_PRIORITY_DEFAULT, whatever this says.
 *
 * Describes a coroutine function the way kaa's decorator does. Define it
 * once, statically, and start calls with [func@Kaa.Coroutine.spawn_def];
 * it must stay valid while calls of it run.
 */
typedef struct
{
  /*< public >*/
  const char       *name;
  KaaCoroutineFunc  func;
  guint             interval;
  gsize             stack_size;
  KaaPolicy         policy;
  const KaaCoroutineGroup *group;
  gint              priority;

  /*< private >*/
  gpointer          reserved[8];
} KaaCoroutineDef;

KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_coroutine_spawn_def         (const KaaCoroutineDef *def,
                                                gpointer          instance,
                                                gpointer          user_data,
                                                GDestroyNotify    destroy)
                                                G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_coroutine_spawn             (KaaCoroutineFunc  func,
                                                gpointer          user_data,
                                                GDestroyNotify    destroy)
                                                G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
void           kaa_coroutine_set_spawn_site    (const char       *file,
                                                int               line);
KAA_AVAILABLE_IN_ALL
KaaCoroutine  *kaa_coroutine_self              (void);
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_coroutine_get_in_progress   (KaaCoroutine     *self);
KAA_AVAILABLE_IN_ALL
const char    *kaa_coroutine_get_name          (KaaCoroutine     *self);
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_coroutine_get_last          (KaaCoroutine     *self);
KAA_AVAILABLE_IN_ALL
gboolean       kaa_coroutine_is_cancelled      (KaaCoroutine     *self);

KAA_AVAILABLE_IN_ALL
gboolean       kaa_yield                       (void);
KAA_AVAILABLE_IN_ALL
gboolean       kaa_await                       (KaaInProgress    *in_progress,
                                                GError          **error);
KAA_AVAILABLE_IN_ALL
gboolean       kaa_await_borrowed              (KaaInProgress    *in_progress,
                                                GError          **error);
KAA_AVAILABLE_IN_ALL
gboolean       kaa_await_boolean               (KaaInProgress    *in_progress,
                                                GError          **error);
KAA_AVAILABLE_IN_ALL
gint64         kaa_await_int64                 (KaaInProgress    *in_progress,
                                                GError          **error);
KAA_AVAILABLE_IN_ALL
gdouble        kaa_await_double                (KaaInProgress    *in_progress,
                                                GError          **error);
KAA_AVAILABLE_IN_ALL
char          *kaa_await_string                (KaaInProgress    *in_progress,
                                                GError          **error) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
GBytes        *kaa_await_bytes                 (KaaInProgress    *in_progress,
                                                GError          **error) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
gpointer       kaa_await_pointer               (KaaInProgress    *in_progress,
                                                GError          **error) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
gpointer       kaa_await_object                (KaaInProgress    *in_progress,
                                                GError          **error) G_GNUC_WARN_UNUSED_RESULT;

KAA_AVAILABLE_IN_ALL
void           kaa_coroutine_return_pointer    (KaaCoroutine     *self,
                                                gpointer          result,
                                                GDestroyNotify    destroy);
KAA_AVAILABLE_IN_ALL
void           kaa_coroutine_return_boolean    (KaaCoroutine     *self,
                                                gboolean          result);
KAA_AVAILABLE_IN_ALL
void           kaa_coroutine_return_int64      (KaaCoroutine     *self,
                                                gint64            result);
KAA_AVAILABLE_IN_ALL
void           kaa_coroutine_return_double     (KaaCoroutine     *self,
                                                gdouble           result);
KAA_AVAILABLE_IN_ALL
void           kaa_coroutine_return_string     (KaaCoroutine     *self,
                                                const char       *result);
KAA_AVAILABLE_IN_ALL
void           kaa_coroutine_return_object     (KaaCoroutine     *self,
                                                gpointer          object);
KAA_AVAILABLE_IN_ALL
void           kaa_coroutine_throw             (KaaCoroutine     *self,
                                                GError           *error);
KAA_AVAILABLE_IN_ALL
void           kaa_coroutine_become            (KaaCoroutine     *self,
                                                KaaCoroutineFunc  func,
                                                gpointer          user_data,
                                                GDestroyNotify    destroy);

/**
 * KaaStepFunc:
 * @self: the InProgress of the task, which the step may settle
 * @user_data: the data passed to [func@Kaa.coiterate]
 *
 * One slice of a time-sliced task.
 *
 * Returns: %TRUE to be called again on the next main-loop iteration,
 *   %FALSE when the task is done
 */
typedef gboolean (*KaaStepFunc) (KaaInProgress *self,
                                 gpointer       user_data);

KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_coiterate                   (KaaStepFunc       step,
                                                gpointer          user_data,
                                                GDestroyNotify    destroy)
                                                G_GNUC_WARN_UNUSED_RESULT;

/* Issue 19: the spawn site (file:line) of each coroutine, for
 * kaa_dump() and the KAA_DEBUG switches. The functions are defined as
 * `(kaa_coroutine_spawn) (…)`, which also calls them without the site
 * (through a pointer, or from a binding). */
#ifndef __GI_SCANNER__
#define kaa_coroutine_spawn(func, user_data, destroy)                        \
  (kaa_coroutine_set_spawn_site (__FILE__, __LINE__),                        \
   (kaa_coroutine_spawn) ((func), (user_data), (destroy)))
#define kaa_coroutine_spawn_def(def, instance, user_data, destroy)           \
  (kaa_coroutine_set_spawn_site (__FILE__, __LINE__),                        \
   (kaa_coroutine_spawn_def) ((def), (instance), (user_data), (destroy)))
#endif

G_END_DECLS
