/* kaa-in-progress.h: the future type
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined (KAA_INSIDE) && !defined (KAA_COMPILATION)
# error "Include <kaa/kaa.h>, not individual libkaa headers."
#endif

#include <gio/gio.h>

#include "kaa-version-macros.h"

G_BEGIN_DECLS

/**
 * KaaState:
 * @KAA_STATE_PENDING: not settled yet
 * @KAA_STATE_FINISHED: finished with a result
 * @KAA_STATE_FAILED: failed with a #GError
 * @KAA_STATE_CANCELLED: cancelled; its error is `G_IO_ERROR_CANCELLED`
 *
 * The states of a [struct@Kaa.InProgress]. Every InProgress leaves
 * `KAA_STATE_PENDING` exactly once, for exactly one of the others.
 */
typedef enum
{
  KAA_STATE_PENDING,
  KAA_STATE_FINISHED,
  KAA_STATE_FAILED,
  KAA_STATE_CANCELLED,
} KaaState;

/**
 * KaaInProgress:
 *
 * A result that is not there yet: the future every libkaa operation
 * returns, whether a coroutine, a thread job, a timer, a combinator or a
 * GIO call produces it. It settles exactly once, as a
 * [enum@Kaa.State] says, and its callbacks run on its owner context.
 * Reference-counted and usable from any thread.
 */
typedef struct _KaaInProgress KaaInProgress;

/**
 * KaaInProgressCallback:
 * @self: the settled InProgress
 * @user_data: the data passed to [method@Kaa.InProgress.connect]
 *
 * Notifies that @self has settled; its state and result can be read.
 */
typedef void (*KaaInProgressCallback) (KaaInProgress *self,
                                       gpointer       user_data);

/**
 * KaaProducerFuncs:
 * @cancel: (nullable): stops the work: @in_progress is being cancelled,
 *   and whatever the producer delivers to it from now on is dropped
 * @pause: (nullable): holds the work until @resume: a pause of
 *   @in_progress, or of something that awaits it alone, reached it
 * @resume: (nullable): lets the work go on after @pause
 *
 * What an InProgress made with [ctor@Kaa.InProgress.new_full] calls to
 * reach the work that produces it, so that the cancel and pause cascade
 * (DESIGN §6) goes through the user's own producers as it goes through
 * coroutines, thread jobs and timers. Each hook gets the InProgress and
 * the user data given with the funcs.
 *
 * Every hook runs on the owner context of the InProgress. @cancel runs
 * once at most, before the InProgress settles as cancelled; @pause and
 * @resume alternate, starting with @pause, and run only on the first
 * pause and the last resume of nested ones, never once the owner has
 * seen the InProgress settled. Another thread may settle it while one of
 * them runs: the destroy notify then waits for the hook to return. A
 * hook may be %NULL: a producer that cannot pause leaves @pause and
 * @resume out, and pausing it then only holds the result back from
 * whoever awaits it.
 *
 * Define the funcs once, statically: they must stay valid for as long as
 * an InProgress made with them lives.
 *
 * Since: 0.2
 */
typedef struct
{
  /*< public >*/
  void (*cancel) (KaaInProgress *in_progress,
                  gpointer       user_data);
  void (*pause)  (KaaInProgress *in_progress,
                  gpointer       user_data);
  void (*resume) (KaaInProgress *in_progress,
                  gpointer       user_data);

  /*< private >*/
  gpointer reserved[8];
} KaaProducerFuncs;

#define KAA_TYPE_IN_PROGRESS (kaa_in_progress_get_type ())

KAA_AVAILABLE_IN_ALL
GType           kaa_in_progress_get_type          (void) G_GNUC_CONST;

KAA_AVAILABLE_IN_ALL
KaaInProgress  *kaa_in_progress_new               (void) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaInProgress  *kaa_in_progress_new_for_error     (const GError         *error)
                                                   G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaInProgress  *kaa_in_progress_new_full          (const KaaProducerFuncs *funcs,
                                                   gpointer              user_data,
                                                   GDestroyNotify        destroy)
                                                   G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaInProgress  *kaa_in_progress_ref               (KaaInProgress        *self);
KAA_AVAILABLE_IN_ALL
void            kaa_in_progress_unref             (KaaInProgress        *self);

KAA_AVAILABLE_IN_ALL
void            kaa_in_progress_set_name          (KaaInProgress        *self,
                                                   const char           *name);
KAA_AVAILABLE_IN_ALL
void            kaa_in_progress_set_static_name   (KaaInProgress        *self,
                                                   const char           *name);
KAA_AVAILABLE_IN_ALL
const char     *kaa_in_progress_get_name          (KaaInProgress        *self);
KAA_AVAILABLE_IN_ALL
GMainContext   *kaa_in_progress_get_context       (KaaInProgress        *self);
KAA_AVAILABLE_IN_ALL
KaaState        kaa_in_progress_get_state         (KaaInProgress        *self);
KAA_AVAILABLE_IN_ALL
gboolean        kaa_in_progress_is_done           (KaaInProgress        *self);

/* The producer's side. */
KAA_AVAILABLE_IN_ALL
void            kaa_in_progress_finish_pointer    (KaaInProgress        *self,
                                                   gpointer              result,
                                                   GDestroyNotify        destroy);
KAA_AVAILABLE_IN_ALL
void            kaa_in_progress_finish_boolean    (KaaInProgress        *self,
                                                   gboolean              result);
KAA_AVAILABLE_IN_ALL
void            kaa_in_progress_finish_int64      (KaaInProgress        *self,
                                                   gint64                result);
KAA_AVAILABLE_IN_ALL
void            kaa_in_progress_finish_double     (KaaInProgress        *self,
                                                   gdouble               result);
KAA_AVAILABLE_IN_ALL
void            kaa_in_progress_finish_string     (KaaInProgress        *self,
                                                   const char           *result);
KAA_AVAILABLE_IN_ALL
void            kaa_in_progress_finish_object     (KaaInProgress        *self,
                                                   gpointer              object);
KAA_AVAILABLE_IN_ALL
void            kaa_in_progress_finish_value      (KaaInProgress        *self,
                                                   const GValue         *value);
KAA_AVAILABLE_IN_ALL
void            kaa_in_progress_fail              (KaaInProgress        *self,
                                                   GError               *error);
KAA_AVAILABLE_IN_ALL
void            kaa_in_progress_fail_literal      (KaaInProgress        *self,
                                                   GQuark                domain,
                                                   gint                  code,
                                                   const char           *message);
KAA_AVAILABLE_IN_ALL
void            kaa_in_progress_finish_from       (KaaInProgress        *self,
                                                   KaaInProgress        *source);
KAA_AVAILABLE_IN_ALL
KaaInProgress  *kaa_in_progress_shield            (KaaInProgress        *self)
                                                   G_GNUC_WARN_UNUSED_RESULT;

/* The consumer's side. */
KAA_AVAILABLE_IN_ALL
void            kaa_in_progress_cancel            (KaaInProgress        *self);
KAA_AVAILABLE_IN_ALL
void            kaa_in_progress_pause             (KaaInProgress        *self);
KAA_AVAILABLE_IN_ALL
void            kaa_in_progress_resume            (KaaInProgress        *self);
KAA_AVAILABLE_IN_ALL
gboolean        kaa_in_progress_is_paused         (KaaInProgress        *self);
KAA_AVAILABLE_IN_ALL
GCancellable   *kaa_in_progress_get_cancellable   (KaaInProgress        *self);
KAA_AVAILABLE_IN_ALL
gulong          kaa_in_progress_connect           (KaaInProgress        *self,
                                                   KaaInProgressCallback callback,
                                                   gpointer              user_data,
                                                   GDestroyNotify        destroy);
KAA_AVAILABLE_IN_ALL
void            kaa_in_progress_disconnect        (KaaInProgress        *self,
                                                   gulong                id);
KAA_AVAILABLE_IN_ALL
gboolean        kaa_in_progress_wait              (KaaInProgress        *self,
                                                   GError              **error);

/* Results, once settled. */
KAA_AVAILABLE_IN_ALL
gboolean        kaa_in_progress_propagate         (KaaInProgress        *self,
                                                   GError              **error);
KAA_AVAILABLE_IN_ALL
const GError   *kaa_in_progress_get_error         (KaaInProgress        *self);
KAA_AVAILABLE_IN_ALL
gpointer        kaa_in_progress_get_pointer       (KaaInProgress        *self);
KAA_AVAILABLE_IN_ALL
gboolean        kaa_in_progress_get_boolean       (KaaInProgress        *self);
KAA_AVAILABLE_IN_ALL
gint64          kaa_in_progress_get_int64         (KaaInProgress        *self);
KAA_AVAILABLE_IN_ALL
gdouble         kaa_in_progress_get_double        (KaaInProgress        *self);
KAA_AVAILABLE_IN_ALL
const char     *kaa_in_progress_get_string        (KaaInProgress        *self);
KAA_AVAILABLE_IN_ALL
char           *kaa_in_progress_dup_string        (KaaInProgress        *self)
                                                   G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
gpointer        kaa_in_progress_get_object        (KaaInProgress        *self);
KAA_AVAILABLE_IN_ALL
gpointer        kaa_in_progress_dup_object        (KaaInProgress        *self)
                                                   G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
void            kaa_in_progress_get_value         (KaaInProgress        *self,
                                                   GValue               *value);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KaaInProgress, kaa_in_progress_unref)

G_END_DECLS
