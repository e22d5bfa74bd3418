/* kaa-in-progress-impl-private.h: the InProgress struct, for the
 * kaa-in-progress*.c files only
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "kaa-in-progress-private.h"
#include "kaa-refcount-private.h"
#include "kaa-progress-private.h"

G_BEGIN_DECLS

/* Internal states beyond KaaState: claimed, result not yet published. */
enum
{
  STATE_SETTLING = 16,
  STATE_CANCELLING,
};

enum
{
  FLAG_ERROR_SEEN     = 1 << 0,
  FLAG_QUEUED         = 1 << 1,  /* the runnable is in a scheduler queue */
  FLAG_CANCEL_PENDING = 1 << 2,  /* cancelled off the owner thread */
  FLAG_WAITERS        = 1 << 3,  /* someone is in kaa_in_progress_wait() */
  FLAG_FIRST_NODE     = 1 << 4,  /* first_node was handed out */
  FLAG_CANCELLING_NOW = 1 << 5,  /* the owner runs the cancel cascade */
  FLAG_CACHED_BLOCK   = 1 << 6,  /* immutable: the block goes back to the cache */
};

typedef enum
{
  RESULT_NONE,
  RESULT_POINTER,
  RESULT_BOOLEAN,
  RESULT_INT64,
  RESULT_DOUBLE,
  RESULT_STRING,
  RESULT_OBJECT,
  RESULT_VALUE,
  RESULT_FORWARD,   /* finish_from: the result is the source's */
} ResultKind;

typedef struct _CallbackNode CallbackNode;
struct _CallbackNode
{
  CallbackNode         *next;
  gulong                id;
  KaaInProgressCallback callback;   /* NULL once disconnected mid-delivery */
  gpointer              user_data;
  GDestroyNotify        destroy;
};

/* One per deliver() on the C stack, so that a callback may disconnect a
 * callback that has not been called yet, even from a nested delivery. */
typedef struct _DeliverFrame DeliverFrame;
struct _DeliverFrame
{
  CallbackNode *remaining;
  DeliverFrame *outer;
};

struct _KaaInProgress
{
  KaaRefCount     ref_count;
  gint            state;        /* atomic */
  gint            flags;        /* atomic */
  KaaScheduler   *scheduler;    /* immutable, owned */
  CallbackNode   *callbacks;    /* atomic pointer; see the header comment */
  KaaProducer    *producer;     /* atomic pointer */
  GCancellable   *cancellable;  /* atomic pointer, created lazily */
  KaaProgress    *progress;     /* atomic pointer, created lazily */
  gint            n_awaiters;   /* atomic */
  const char     *name;         /* owned_name, or a static string */
  char           *owned_name;

  /* Written once by the settler, before the final state is published. */
  ResultKind      kind;
  union
  {
    gpointer      v_pointer;
    gboolean      v_boolean;
    gint64        v_int64;
    gdouble       v_double;
  } result;
  GDestroyNotify  result_destroy;
  GError         *error;

  /* Most InProgresses get one callback: its node lives here, not on the
   * heap. Handed out once (FLAG_FIRST_NODE), never freed. */
  CallbackNode    first_node;

  /* Owner thread only. */
  guint           n_paused;     /* DESIGN §6: a counter, not a flag */
  DeliverFrame   *frames;
  KaaRunnable     runnable;

  /* Owner thread only: the cancel cascade (kaa-in-progress-cascade.c). */
  KaaInProgress  *cascade_next;     /* below it on the thread's cascade stack */
  KaaInProgress  *cascade_parent;   /* unwinds after this one has */
  GSList         *cascade_waiters;  /* further ones that do (rare) */
  guint           cascade_blocked;  /* what it cancelled and is not unwound yet */
  gboolean        cascade_walked;   /* its cancel hook ran */
};

static inline gboolean
state_is_final (gint state)
{
  return state == KAA_STATE_FINISHED || state == KAA_STATE_FAILED ||
         state == KAA_STATE_CANCELLED;
}

static inline gboolean
in_progress_is_final (KaaInProgress *self)
{
  return state_is_final (g_atomic_int_get (&self->state));
}

static inline const char *
in_progress_name (KaaInProgress *self)
{
  return self->name != NULL ? self->name : "(unnamed)";
}

/* Between kaa-in-progress.c and its siblings. */
void     kaa_in_progress_wake_waiters  (KaaInProgress *self);
gboolean kaa_in_progress_claim         (KaaInProgress *self,
                                        const char    *function,
                                        gboolean       quiet);
void     kaa_in_progress_complete      (KaaInProgress *self,
                                        KaaState       state);
gboolean kaa_in_progress_settle_error  (KaaInProgress *self,
                                        const char    *function,
                                        gboolean       quiet,
                                        GError        *error);
/* kaa-in-progress-cascade.c */
void     kaa_in_progress_cascade_cancel (KaaInProgress *self);
void     kaa_in_progress_cascade_adopt  (KaaInProgress *self);
void     kaa_in_progress_deliver_flat   (KaaInProgress *self);
void     kaa_in_progress_release_producer (KaaInProgress *self);
void     kaa_in_progress_deliver_now    (KaaInProgress *self);
void     kaa_in_progress_call_hook      (KaaInProgress *self,
                                         gboolean       resume);
gboolean kaa_in_progress_settle        (KaaInProgress *self,
                                        const char    *function,
                                        gboolean       quiet,
                                        int            kind,
                                        gpointer       pointer,
                                        GDestroyNotify destroy);

G_END_DECLS
