/* kaa-main-thread.c: calls from any thread onto the main context
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * kaa_main_thread_run(), the way back from a worker: the call rides the
 * default context's inbox like a job's completion does, and settles an
 * InProgress owned by that context, which the worker may wait on.
 */
#include "config.h"

#include "kaa-i18n-private.h"
#include "kaa-thread-pool-private.h"

typedef struct
{
  KaaRunnable       runnable;
  KaaInProgress    *in_progress;
  KaaMainThreadFunc func;
  gpointer          user_data;
  GDestroyNotify    destroy;
} MainCall;

static void
main_call_run (KaaRunnable *runnable,
               gboolean     discard)
{
  MainCall *call = (MainCall *) runnable;

  if (discard)
    kaa_in_progress_try_fail (call->in_progress,
                              g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                   _("The main context went away")));
  else if (kaa_in_progress_is_pending (call->in_progress))
    call->func (call->in_progress, call->user_data);
  if (call->destroy != NULL)
    call->destroy (call->user_data);
  kaa_in_progress_unref (call->in_progress);
  g_free (call);
}

/**
 * kaa_main_thread_run:
 * @func: (scope notified) (closure user_data) (destroy destroy): runs on the main context
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data after @func ran, on the main thread
 *
 * Runs @func on the next dispatch of the global default #GMainContext,
 * from any thread, and returns the InProgress that @func settles; it is
 * owned by that context. A worker may block on it with
 * [method@Kaa.InProgress.wait] (kaa's `MAINTHREAD`). Cancelled before it
 * ran, @func is not called.
 *
 * Returns: (transfer full): the call's InProgress
 * Since: 0.1
 */
KaaInProgress *
kaa_main_thread_run (KaaMainThreadFunc func,
                     gpointer          user_data,
                     GDestroyNotify    destroy)
{
  g_autoptr(KaaScheduler) scheduler = NULL;
  KaaInProgress *in_progress;
  MainCall *call;

  kaa_return_failed_if_fail (func != NULL);

  scheduler = kaa_scheduler_get_for_context (g_main_context_default ());
  in_progress = kaa_in_progress_new_for_scheduler (scheduler);
  call = g_new0 (MainCall, 1);
  call->runnable.run = main_call_run;
  call->in_progress = kaa_in_progress_ref (in_progress);
  call->func = func;
  call->user_data = user_data;
  call->destroy = destroy;
  /* The main thread may run and free @call before the push returns. */
  kaa_scheduler_push_remote (scheduler, &call->runnable);
  return in_progress;
}
