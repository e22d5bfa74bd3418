/* kaa-thread-pool.h: blocking work on named thread pools
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined (KAA_INSIDE) && !defined (KAA_COMPILATION)
# error "Include <kaa/kaa.h>, not individual libkaa headers."
#endif

#include "kaa-in-progress.h"

G_BEGIN_DECLS

typedef struct _KaaThreadPool KaaThreadPool;
typedef struct _KaaThreadJob  KaaThreadJob;

/**
 * KaaThreadFunc:
 * @job: the running job
 * @user_data: the data passed when the job was submitted
 * @error: return location for a failure
 *
 * The body of a thread job: blocking code that runs on a worker thread.
 * Returning a pointer finishes the job's InProgress with it (no destroy
 * notify); a `kaa_thread_job_return_*()` call made before returning takes
 * precedence, and then the function should return %NULL. Setting @error
 * fails the job instead.
 *
 * Returns: (nullable): the result, if no `kaa_thread_job_return_*()` set one
 */
typedef gpointer (*KaaThreadFunc) (KaaThreadJob  *job,
                                   gpointer       user_data,
                                   GError       **error);

/**
 * KaaMainThreadFunc:
 * @in_progress: the InProgress to settle
 * @user_data: the data passed to [func@Kaa.main_thread_run]
 *
 * Runs on the main context. It settles @in_progress with any
 * `kaa_in_progress_finish_*()` or `kaa_in_progress_fail()`, now or later.
 */
typedef void (*KaaMainThreadFunc) (KaaInProgress *in_progress,
                                   gpointer       user_data);

/**
 * KaaThreadDef:
 * @name: names the job's InProgress in warnings
 * @func: the body
 * @pool: (nullable): the name of the pool, %NULL for the default pool
 * @priority: higher runs first; FIFO within one priority
 *
 * Describes a thread function the way kaa's `@threaded` decorator does.
 * Define it once, statically, and submit jobs with
 * [func@Kaa.thread_run_def].
 */
typedef struct
{
  /*< public >*/
  const char    *name;
  KaaThreadFunc  func;
  const char    *pool;
  gint           priority;

  /*< private >*/
  gpointer       reserved[8];
} KaaThreadDef;

#define KAA_TYPE_THREAD_POOL (kaa_thread_pool_get_type ())

KAA_AVAILABLE_IN_ALL
GType          kaa_thread_pool_get_type          (void) G_GNUC_CONST;

KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_thread_run                    (KaaThreadFunc       func,
                                                  gpointer            user_data,
                                                  GDestroyNotify      destroy)
                                                  G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_thread_run_def                (const KaaThreadDef *def,
                                                  gpointer            user_data,
                                                  GDestroyNotify      destroy)
                                                  G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_main_thread_run               (KaaMainThreadFunc   func,
                                                  gpointer            user_data,
                                                  GDestroyNotify      destroy)
                                                  G_GNUC_WARN_UNUSED_RESULT;

KAA_AVAILABLE_IN_ALL
KaaThreadPool *kaa_thread_pool_new               (const char         *name,
                                                  guint               max_threads)
                                                  G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaThreadPool *kaa_thread_pool_get               (const char         *name);
KAA_AVAILABLE_IN_ALL
KaaThreadPool *kaa_thread_pool_get_default       (void);
KAA_AVAILABLE_IN_ALL
KaaThreadPool *kaa_thread_pool_ref               (KaaThreadPool      *self);
KAA_AVAILABLE_IN_ALL
void           kaa_thread_pool_unref             (KaaThreadPool      *self);
KAA_AVAILABLE_IN_ALL
const char    *kaa_thread_pool_get_name          (KaaThreadPool      *self);
KAA_AVAILABLE_IN_ALL
guint          kaa_thread_pool_get_max_threads   (KaaThreadPool      *self);
KAA_AVAILABLE_IN_ALL
guint          kaa_thread_pool_get_n_threads     (KaaThreadPool      *self);
KAA_AVAILABLE_IN_ALL
void           kaa_thread_pool_set_idle_timeout  (KaaThreadPool      *self,
                                                  guint               msec);
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_thread_pool_run               (KaaThreadPool      *self,
                                                  gint                priority,
                                                  KaaThreadFunc       func,
                                                  gpointer            user_data,
                                                  GDestroyNotify      destroy)
                                                  G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
void           kaa_thread_pool_shutdown          (KaaThreadPool      *self);

KAA_AVAILABLE_IN_ALL
gboolean       kaa_thread_job_check              (KaaThreadJob       *job);
KAA_AVAILABLE_IN_ALL
GCancellable  *kaa_thread_job_get_cancellable    (KaaThreadJob       *job);
KAA_AVAILABLE_IN_ALL
void           kaa_thread_job_set_progress       (KaaThreadJob       *job,
                                                  gint64              position,
                                                  gint64              total);
KAA_AVAILABLE_IN_ALL
void           kaa_thread_job_return_pointer     (KaaThreadJob       *job,
                                                  gpointer            result,
                                                  GDestroyNotify      destroy);
KAA_AVAILABLE_IN_ALL
void           kaa_thread_job_return_boolean     (KaaThreadJob       *job,
                                                  gboolean            result);
KAA_AVAILABLE_IN_ALL
void           kaa_thread_job_return_int64       (KaaThreadJob       *job,
                                                  gint64              result);
KAA_AVAILABLE_IN_ALL
void           kaa_thread_job_return_double      (KaaThreadJob       *job,
                                                  gdouble             result);
KAA_AVAILABLE_IN_ALL
void           kaa_thread_job_return_string      (KaaThreadJob       *job,
                                                  const char         *result);
KAA_AVAILABLE_IN_ALL
void           kaa_thread_job_return_object      (KaaThreadJob       *job,
                                                  gpointer            object);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KaaThreadPool, kaa_thread_pool_unref)

G_END_DECLS
