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
  STATE_FREED,        /* the tombstone's: never claimed, never final */
};

enum
{
  FLAG_ERROR_SEEN     = 1 << 0,
  FLAG_QUEUED         = 1 << 1,  /* the runnable is in a scheduler queue */
  FLAG_CANCEL_PENDING = 1 << 2,  /* cancelled off the owner thread */
  FLAG_WAITERS        = 1 << 3,  /* someone is in kaa_in_progress_wait() */
  FLAG_FIRST_NODE     = 1 << 4,  /* first_node was handed out */
  FLAG_CANCELLING_NOW = 1 << 5,  /* the owner runs the cancel cascade */
  FLAG_OWN_BLOCK      = 1 << 6,  /* immutable: kaa_in_progress_new_in_block() */
  FLAG_ORPHAN_DELIVERY = 1 << 7, /* a thread delivers after the context died */
  FLAG_TRACKED        = 1 << 8,  /* in the dump's registry (kaa-in-progress-registry.c) */
  FLAG_GUARDS_WAITS   = 1 << 9,  /* its cancel ends a job's waits (kaa-in-progress-wait.c) */
  FLAG_SPARE_BLOCK    = 1 << 10, /* immutable: from kaa_spare_alloc0() */
};

/* A callback's place in a list. Pushers chain the incoming stack through
 * @next alone; the owner's lists are circular and doubly linked around a
 * sentinel, so that a node leaves them in O(1) without knowing which one
 * it is in. */
typedef struct _CallbackLink CallbackLink;
struct _CallbackLink
{
  CallbackLink *next;
  CallbackLink *prev;
};

typedef struct _CallbackNode CallbackNode;
struct _CallbackNode
{
  CallbackLink          link;       /* first: a link is its node */
  gulong                id;
  KaaInProgressCallback callback;
  gpointer              user_data;
  GDestroyNotify        destroy;
};

/* One per deliver() on the C stack: the callbacks it has not called yet,
 * which a callback may still disconnect, even from a nested delivery. */
typedef struct _DeliverFrame DeliverFrame;
struct _DeliverFrame
{
  CallbackLink  remaining;
  DeliverFrame *outer;
};

struct _KaaInProgress
{
  KaaScheduler   *scheduler;    /* immutable, owned */
  CallbackLink   *callbacks;    /* atomic pointer: the incoming stack */
  /* Not first: malloc and the block cache keep their free-list links in
   * the first 16 bytes of a freed block, so here the tombstone that
   * finalize leaves (KAA_REF_COUNT_FREED) outlives the free, and a late
   * unref finds it instead of corrupting those links. */
  KaaRefCount     ref_count;
  gint            state;        /* atomic */
  gint            flags;        /* atomic */
  KaaProducer    *producer;     /* atomic pointer, PRODUCER_BORROWED */
  const char     *producer_kind;  /* static; names an unnamed InProgress */
  GCancellable   *cancellable;  /* atomic pointer, created lazily */
  KaaProgress    *progress;     /* atomic pointer, created lazily */
  gint            n_awaiters;   /* atomic */
  const char     *name;         /* owned_name, or a static string */
  char           *owned_name;

  /* Written once by the settler, before the final state is published:
   * the value, or the error of a failed or cancelled InProgress. */
  KaaOutcome      outcome;

  /* Most InProgresses get one callback: its node lives here, not on the
   * heap. Handed out once (FLAG_FIRST_NODE), never freed. */
  CallbackNode    first_node;

  /* Owner thread only. */
  gint            n_paused;     /* atomic (see kaa-in-progress-pause.c) */
  gboolean        hook_paused;  /* the producer was told pause, not resume */
  DeliverFrame   *frames;
  CallbackLink    pending;      /* drained from `callbacks`, oldest first */
  GHashTable     *index;        /* id → node of `pending` and `frames`,
                                 * once a disconnect had many to search */
  gint            has_pending;  /* atomic: `pending` is not empty */
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

/* The low bit of `producer` while the owner thread runs one of its pause,
 * resume or describe hooks (kaa_in_progress_borrow_producer()). A
 * KaaProducer starts with a pointer, so the bit is free. */
#define PRODUCER_BORROWED ((gsize) 1)

/* Any thread: the producer, borrowed or not; NULL once released. */
static inline KaaProducer *
in_progress_get_producer (KaaInProgress *self)
{
  gsize producer = (gsize) g_atomic_pointer_get (&self->producer);

  return (KaaProducer *) (producer & ~PRODUCER_BORROWED);
}

/* What finalize leaves in ref_count: negative, so that any ref or unref
 * after the last one sees a count at or below zero. The block cache's
 * poison (0xdb bytes) reads as negative too. */
#define KAA_REF_COUNT_FREED ((gint) 0xdead0000)

static inline const char *
in_progress_name (KaaInProgress *self)
{
  if (self->name != NULL)
    return self->name;
  return self->producer_kind != NULL ? self->producer_kind : "(unnamed)";
}

/* Any thread, after the final state is published: whether callbacks wait
 * for a delivery (kaa-in-progress-callbacks.c says why this order). */
static inline gboolean
kaa_in_progress_has_callbacks (KaaInProgress *self)
{
  return g_atomic_pointer_get (&self->callbacks) != NULL ||
         g_atomic_int_get (&self->has_pending);
}

/* kaa-in-progress-registry.c: the InProgresses the live dump starts
 * from. Each entry keeps when it was made and, with KAA_DEBUG=unhandled,
 * the backtrace of where. */
typedef struct
{
  KaaInProgress *self;       /* a reference, in a snapshot */
  gint64         born;       /* monotonic µs */
  gpointer      *frames;     /* owned; NULL unless KAA_DEBUG=unhandled */
  gint           n_frames;
  /* kaa_in_progress_set_origin(): what made it, kept after the producer
   * is gone, for KAA_DEBUG=leaks. */
  gpointer       func;
  const char    *file;       /* static */
  gint           line;
} KaaTracked;

/* Takes @self out of the registry if it is there (FLAG_TRACKED), from
 * finalize. Returns its entry, for the unhandled-failure warning, which
 * the caller frees with kaa_tracked_free(). */
KaaTracked *kaa_in_progress_untrack           (KaaInProgress *self);
void        kaa_tracked_free                  (KaaTracked    *tracked);
/* A reference to every tracked InProgress that is still alive, oldest
 * first: an array of KaaTracked, whose references and frames the caller
 * owns (kaa_tracked_clear()). */
GArray     *kaa_in_progress_registry_snapshot (void);
void        kaa_tracked_clear                 (KaaTracked    *tracked);
/* KAA_DEBUG=unhandled: prints the frames where @tracked was made. */
void        kaa_tracked_print_backtrace       (KaaTracked    *tracked);
/* Finalize's part while tracking is on: untracks @self and gives the
 * warning below, if it applies, after where @self was made. */
void        kaa_in_progress_finalize_tracked  (KaaInProgress *self);
/* "InProgress N failed and nobody handled its error". */
void        kaa_in_progress_warn_unhandled    (KaaInProgress *self);

/* Between kaa-in-progress.c and its siblings. */
void          kaa_in_progress_init_callbacks (KaaInProgress *self);
void          kaa_in_progress_free_callbacks (KaaInProgress *self);
gboolean      kaa_in_progress_take_callbacks (KaaInProgress *self,
                                              CallbackLink  *remaining);
CallbackNode *kaa_in_progress_next_callback  (KaaInProgress *self,
                                              CallbackLink  *remaining);
void          kaa_in_progress_callback_done  (KaaInProgress *self,
                                              CallbackNode  *node);
void          kaa_in_progress_queue_delivery (KaaInProgress *self,
                                              gboolean       is_owner);

/* A use of @self after its last unref, caught where the count is read
 * anyway or one load costs nothing next to the call. */
#define in_progress_is_freed(self) \
  G_UNLIKELY (__atomic_load_n (&(self)->ref_count, __ATOMIC_RELAXED) <= 0)
#define in_progress_return_val_if_freed(self, val)                              \
  G_STMT_START {                                                                \
    if (in_progress_is_freed (self))                                            \
      {                                                                         \
        kaa_in_progress_report_freed ((self), G_STRFUNC);                       \
        return val;                                                             \
      }                                                                         \
  } G_STMT_END
#define in_progress_return_if_freed(self) in_progress_return_val_if_freed (self, )

void     kaa_in_progress_report_freed  (KaaInProgress *self,
                                        const char    *function);
void     kaa_in_progress_quarantine    (KaaInProgress *self);
void     kaa_in_progress_free_block    (KaaInProgress *self);
void     kaa_in_progress_wake_waiters  (KaaInProgress *self);
gboolean kaa_in_progress_claim         (KaaInProgress *self,
                                        const char    *function,
                                        gboolean       quiet);
void     kaa_in_progress_complete      (KaaInProgress *self,
                                        KaaState       state);
/* kaa-in-progress-pause.c, for the await link only (kaa-in-progress-await.c) */
gboolean kaa_in_progress_pause_for_awaiter (KaaInProgress *self);
/* kaa-in-progress-cascade.c: the state of this thread's delivery, which
 * a loop nested in a callback saves and restores around its iterations
 * (kaa-in-progress-wait.c). */
typedef struct
{
  gpointer   fiber;   /* the KaaFiber it runs on, NULL for the thread's stack */
  guint      depth;   /* nested deliveries on that stack; 0 when none runs */
  GPtrArray *queue;   /* settled deeper than the limit, in order */
  guint      next;    /* the first of @queue not delivered yet */
} KaaDelivery;

void     kaa_in_progress_delivery_save    (KaaDelivery       *saved);
void     kaa_in_progress_delivery_restore (const KaaDelivery *saved);
void     kaa_in_progress_cascade_cancel (KaaInProgress *self);
void     kaa_in_progress_cascade_adopt  (KaaInProgress *self);
void     kaa_in_progress_deliver_flat   (KaaInProgress *self);
void     kaa_in_progress_release_producer (KaaInProgress *self);
void     kaa_in_progress_deliver_now    (KaaInProgress *self);
void     kaa_in_progress_call_hook      (KaaInProgress *self,
                                         gboolean       resume);
KaaProducer *kaa_in_progress_borrow_producer (KaaInProgress *self,
                                              gboolean      *nested);
void         kaa_in_progress_return_producer (KaaInProgress *self,
                                              KaaProducer   *producer,
                                              gboolean       nested);

G_END_DECLS
