/* kaa-in-progress-private.h: what producers of an InProgress see (layer 3)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once


#include "kaa-in-progress.h"
#include "kaa-outcome-private.h"
#include "kaa-scheduler-private.h"

G_BEGIN_DECLS

typedef struct _KaaProducer    KaaProducer;
typedef struct _KaaProducerOps KaaProducerOps;
typedef struct _KaaDumpNode    KaaDumpNode;

/* How an InProgress reaches whatever produces it (a timer, a combinator,
 * a coroutine, a thread job, a GIO wait, the user's own code) without
 * knowing what it is.
 *
 * @cancel runs on the owner thread, with the InProgress already marked as
 * being cancelled: a result the producer delivers from inside it is
 * dropped. @release runs exactly once, on whichever thread settles the
 * InProgress, after its final state is published and its callbacks ran or
 * were queued (possibly inside the producer's own finish call): the
 * InProgress will not touch the producer again. @pause and @resume run on
 * the owner thread, on the 0 → 1 and 1 → 0 transitions of the pause
 * counter only; a settle on another thread may land while one runs, and
 * @release then waits for it: the owner thread runs @release as soon as
 * the hook returns. Every hook may be NULL. @kind (a static string, such as
 * "thread job") names an InProgress in messages when it has no name.
 *
 * The cancel cascade runs in two passes, in constant C stack whatever its
 * depth (kaa-in-progress-cascade.c). @cancel is the way down: it detaches
 * from what the producer waits on and cancels what it alone awaited, but
 * those cancels are only queued; they have not run when it returns.
 * @unwind is the way up: it runs once all of them have unwound, and
 * unwinds the producer itself (a coroutine runs its cleanups). It returns
 * FALSE when the producer cannot unwind now, because it runs on the
 * calling chain of stacks; it then calls kaa_in_progress_unwound() once it
 * has been left, and what awaited it unwinds after that. */
struct _KaaProducerOps
{
  void (*cancel)  (KaaProducer   *producer,
                   KaaInProgress *in_progress);
  void (*pause)   (KaaProducer   *producer,
                   KaaInProgress *in_progress);
  void (*resume)  (KaaProducer   *producer,
                   KaaInProgress *in_progress);
  void (*release) (KaaProducer   *producer);
  gboolean (*unwind) (KaaProducer   *producer,
                      KaaInProgress *in_progress);
  /* Only for a producer in the InProgress's own allocation
   * (kaa_in_progress_new_with_producer()), whose memory lives as long as
   * the waiter's reference: a thread other than the owner is about to
   * block in kaa_in_progress_wait(). @block returns FALSE, with @error
   * set, if it would never wake up; after a TRUE, @unblock runs on the
   * same thread once the wait is over. */
  gboolean (*block)   (KaaProducer   *producer,
                       KaaInProgress *in_progress,
                       GError       **error);
  void     (*unblock) (KaaProducer   *producer,
                       KaaInProgress *in_progress);
  /* Issue 19: tells the live dump (kaa-in-progress-dump.c) what the
   * producer is doing, through the kaa_dump_node_*() calls below: its
   * kind, its state in words, and every InProgress it waits on now. It
   * runs on the owner thread while @in_progress is pending, never from a
   * hot path; the dump holds a reference to @in_progress meanwhile. A
   * producer that another thread may release at that moment reads only
   * memory that outlives the release (its InProgress's allocation). */
  void     (*describe) (KaaProducer   *producer,
                        KaaInProgress *in_progress,
                        KaaDumpNode   *node);
  const char *kind;
};

/* Embedded first in the producer's own struct. */
struct _KaaProducer
{
  const KaaProducerOps *ops;
};

/* PRODUCER_BORROWED takes the low bit of a producer's address. */
G_STATIC_ASSERT (G_ALIGNOF (KaaProducer) >= 2);

/* The live dump's view of one InProgress (issue 19), filled in by the
 * describe hook above. @kind is static: "coroutine", "job", "sleep",
 * "combinator", "gio", "scope", "channel", "user"… @state is a few
 * words ("awaiting", "queued in pool default"); the awaited InProgresses
 * become the node's children in the tree. @body names a function by
 * dladdr(); @file is static, a __FILE__. */
void kaa_dump_node_set_kind    (KaaDumpNode   *node,
                                const char    *kind);
void kaa_dump_node_set_state   (KaaDumpNode   *node,
                                const char    *format,
                                ...) G_GNUC_PRINTF (2, 3);
void kaa_dump_node_add_awaited (KaaDumpNode   *node,
                                KaaInProgress *awaited);
void kaa_dump_node_set_body    (KaaDumpNode   *node,
                                gpointer       func);
void kaa_dump_node_set_site    (KaaDumpNode   *node,
                                const char    *file,
                                gint           line);
/* A state for a wait on @timer of @in_progress's scheduler: "PREFIX
 * until +1.250s", or "PREFIX, frozen with 1.250s left" when a pause
 * froze it. */
void kaa_dump_node_set_timer_state (KaaDumpNode   *node,
                                    const char    *prefix,
                                    KaaInProgress *in_progress,
                                    KaaTimer      *timer);
/* Any thread: puts @self in the registry the dump starts from (once; a
 * second call does nothing). Coroutines and thread jobs always are;
 * KAA_DEBUG=dump or leaks, or kaa_dump_track_all(), puts every new
 * InProgress there. */
void kaa_in_progress_track     (KaaInProgress *self);
/* If @self is tracked: records the function and the place that made it
 * (a coroutine's body and spawn site), which the dump shows even after
 * the producer is gone (KAA_DEBUG=leaks). Any thread. */
void kaa_in_progress_set_origin (KaaInProgress *self,
                                 gpointer       func,
                                 const char    *file,
                                 gint           line);

/* A pending InProgress owned by @scheduler's context instead of the
 * calling thread's (a main-thread call made from a worker). */
KaaInProgress *kaa_in_progress_new_for_scheduler     (KaaScheduler  *scheduler)
                                                      G_GNUC_WARN_UNUSED_RESULT;
/* A pending InProgress of the calling thread's context with
 * @producer_size zeroed bytes after it, in the same allocation, for its
 * producer: one malloc per operation instead of two. The memory goes with
 * the InProgress, so the producer holds a reference to it for as long as
 * it uses that memory, and drops it last. */
KaaInProgress *kaa_in_progress_new_with_producer     (gsize          producer_size,
                                                      gpointer      *producer)
                                                      G_GNUC_WARN_UNUSED_RESULT;
/* The same in a zeroed @block of kaa_in_progress_block_size() bytes from
 * the producer's own allocator (a thread pool keeps its jobs' blocks in a
 * cache), which @free_block gets back once the InProgress is freed. */
gsize          kaa_in_progress_block_size            (gsize          producer_size);
KaaInProgress *kaa_in_progress_new_in_block          (gpointer       block,
                                                      GDestroyNotify free_block,
                                                      gpointer      *producer)
                                                      G_GNUC_WARN_UNUSED_RESULT;
void           kaa_in_progress_set_producer          (KaaInProgress *self,
                                                      KaaProducer   *producer);
KaaProducer   *kaa_in_progress_get_producer          (KaaInProgress *self);
KaaScheduler  *kaa_in_progress_get_scheduler         (KaaInProgress *self);
/* The producer of @self if it lives in @self's allocation, else NULL. */
KaaProducer   *kaa_in_progress_get_inline_producer   (KaaInProgress *self);
void           kaa_in_progress_mark_error_seen       (KaaInProgress *self);
/* A thread-pool job's thread, around the job (kaa-in-progress-wait.c):
 * its blocking waits also end once @guard returns FALSE; NULL clears.
 * Whoever changes what a guard reads then interrupts the waits, which
 * makes each blocked one look again. */
typedef gboolean (*KaaWaitGuard) (gpointer data);
void           kaa_in_progress_set_wait_guard        (KaaWaitGuard   guard,
                                                      gpointer       data,
                                                      KaaInProgress *guarding);
void           kaa_in_progress_interrupt_waits       (void);
/* Any thread: a new reference to @self, or NULL when its count already
 * reached zero and it is being finalized on some thread. For a producer
 * holding a pointer that owns no reference: it must know by other means
 * that the memory is still there (KaaWeakLink, below). */
KaaInProgress *kaa_in_progress_try_ref               (KaaInProgress *self)
                                                      G_GNUC_WARN_UNUSED_RESULT;
/* Any thread, for a holder of a reference to a pending @self: whether
 * that reference is the only one and no callback is connected, so that
 * nobody but the holder could ever learn how @self settles. Nobody can
 * take a new reference meanwhile but through a weak link. */
gboolean       kaa_in_progress_is_unobserved         (KaaInProgress *self);
/* Any thread: FALSE once @self was claimed by a settle or a cancel, even
 * one from another thread that the owner has not carried out yet. */
gboolean       kaa_in_progress_is_pending            (KaaInProgress *self);

/* For a producer whose @unwind hook returned FALSE: it has unwound now;
 * @self settles CANCELLED and the cascade above it goes on. Owner thread. */
void           kaa_in_progress_unwound               (KaaInProgress *self);

/* Any thread: the one settle, which the finish and fail calls, a
 * coroutine's return and a thread job's all come to. If @self is still
 * pending, it takes what @outcome holds (an empty outcome finishes with a
 * NULL pointer, an error fails, or cancels for G_IO_ERROR_CANCELLED) and
 * calls back as kaa_in_progress_finish_pointer() says; if not, it frees
 * it and returns FALSE, with a critical naming @function unless @quiet or
 * a cancel got there first. @outcome is left empty either way. */
gboolean       kaa_in_progress_settle_outcome        (KaaInProgress *self,
                                                      KaaOutcome    *outcome,
                                                      const char    *function,
                                                      gboolean       quiet);
/* Settles @self like @source (which must be done) if @self is still
 * pending; returns FALSE, quietly, if it was not. */
gboolean       kaa_in_progress_try_settle_like       (KaaInProgress *self,
                                                      KaaInProgress *source);
gboolean       kaa_in_progress_try_finish_int64      (KaaInProgress *self,
                                                      gint64         result);
gboolean       kaa_in_progress_try_finish_boolean    (KaaInProgress *self,
                                                      gboolean       result);
gboolean       kaa_in_progress_try_fail              (KaaInProgress *self,
                                                      GError        *error);

/* Any thread: claims @self for a settle to come, or returns FALSE,
 * quietly, when a cancel or a settle got there first. Once it is claimed,
 * nothing else settles or cancels @self: the caller must settle it soon
 * with one of the *_claimed functions below, which take their argument,
 * outside any lock of its own (the callbacks may run inside). For a
 * producer that chooses under its lock whom it settles (kaa-channel.c). */
gboolean       kaa_in_progress_try_claim             (KaaInProgress *self);
void           kaa_in_progress_settle_claimed        (KaaInProgress *self,
                                                      KaaOutcome    *outcome);
void           kaa_in_progress_finish_claimed_pointer (KaaInProgress *self,
                                                       gpointer       result,
                                                       GDestroyNotify destroy);
void           kaa_in_progress_finish_claimed_boolean (KaaInProgress *self,
                                                       gboolean       result);
void           kaa_in_progress_finish_claimed_value  (KaaInProgress *self,
                                                      GValue        *value);
/* Owner thread, @self finished with a pointer that nobody else reads:
 * moves the pointer out of it (its destroy notify is the caller's now). */
gpointer       kaa_in_progress_steal_pointer         (KaaInProgress *self);
GBytes        *kaa_in_progress_dup_bytes             (KaaInProgress *self,
                                                      const char    *function,
                                                      GError       **error);
gpointer       kaa_in_progress_take_pointer          (KaaInProgress *self,
                                                      const char    *function,
                                                      GError       **error);
void           kaa_in_progress_fail_claimed          (KaaInProgress *self,
                                                      GError        *error);

/* Any thread: a new id for a callback of any kind (progress callbacks
 * too), unique in the process. */
gulong         kaa_in_progress_callback_id_new       (void);

/* How many callback nodes disconnects have looked at so far, in the whole
 * process: a test checks that this grows linearly (DESIGN §6). */
guint64        kaa_in_progress_get_search_steps_for_testing (void);
/* For the typed awaits: whether @self, which is done, holds a result
 * that the getter for @type (G_TYPE_BOOLEAN, G_TYPE_INT64,
 * G_TYPE_DOUBLE, G_TYPE_STRING or G_TYPE_OBJECT) reads; if not, a
 * critical and KAA_ERROR_WRONG_RESULT_TYPE naming what it holds. */
gboolean       kaa_in_progress_check_result_type     (KaaInProgress *self,
                                                      GType          type,
                                                      const char    *function,
                                                      GError       **error);

/* DESIGN §2, for what is handed an InProgress to wait on (the awaits,
 * the combinators, finish_from, shield, a scope): FALSE, after a critical
 * naming it, if @self was already freed, so that nothing counts on it,
 * releases it again or waits for it for ever; with @function NULL, no
 * critical. Best effort, as for the other uses after the last unref:
 * always caught with KAA_DEBUG=refs. */
gboolean       kaa_in_progress_check_alive           (KaaInProgress *self,
                                                      const char    *function);

/* The error of a failed precondition, for the message of what gives
 * a failed InProgress (below) or a closed stream (kaa-gio-stream.c). */
GError        *kaa_invalid_argument_error_new        (const char    *function,
                                                      const char    *expression)
                                                      G_GNUC_WARN_UNUSED_RESULT;
KaaInProgress *kaa_in_progress_new_invalid_argument  (const char    *function,
                                                      const char    *expression)
                                                      G_GNUC_WARN_UNUSED_RESULT;

/* For functions returning a KaaInProgress: a failed precondition logs the
 * usual critical and returns an InProgress that already failed with
 * KAA_ERROR_INVALID_ARGUMENT, so callers never get NULL. */
#define kaa_return_failed_if_fail(expr)                                          \
  G_STMT_START {                                                                 \
    if (G_UNLIKELY (!(expr)))                                                    \
      {                                                                          \
        g_return_if_fail_warning (G_LOG_DOMAIN, G_STRFUNC, #expr);               \
        return kaa_in_progress_new_invalid_argument (G_STRFUNC, #expr);          \
      }                                                                          \
  } G_STMT_END

/* The same for an InProgress handed over after its last unref
 * (kaa_in_progress_check_alive()): there is nothing to release. */
#define kaa_return_failed_if_freed(given)                                        \
  G_STMT_START {                                                                 \
    if (!kaa_in_progress_check_alive ((given), G_STRFUNC))                       \
      return kaa_in_progress_new_invalid_argument (G_STRFUNC,                    \
                                                   #given " was not freed");     \
  } G_STMT_END

/* For functions that take ownership of an InProgress (DESIGN §2): a failed
 * precondition logs the usual critical and releases @given (when not
 * NULL) before returning, as a consuming function must. */
#define kaa_return_releasing_if_fail(expr, given)                                \
  G_STMT_START {                                                                 \
    if (G_UNLIKELY (!(expr)))                                                    \
      {                                                                          \
        g_return_if_fail_warning (G_LOG_DOMAIN, G_STRFUNC, #expr);               \
        if ((given) != NULL)                                                     \
          kaa_in_progress_unref (given);                                         \
        return;                                                                  \
      }                                                                          \
  } G_STMT_END

/* Issue 18 §4: what takes in the work started on its behalf (a task
 * scope). A coroutine started in a scope carries its adopter, and so do
 * the coroutines it spawns in turn; the coroutines and thread jobs they
 * start are handed to it, so that nothing started in a scope outlives it.
 * @adopt takes a reference of its own to @member; @ref and @unref keep
 * the adopter alive for a coroutine that carries it. Any thread. */
typedef struct _KaaAdopter KaaAdopter;

struct _KaaAdopter
{
  void (*adopt) (KaaAdopter    *self,
                 KaaInProgress *member);
  void (*ref)   (KaaAdopter    *self);
  void (*unref) (KaaAdopter    *self);
};

/* Any thread: hands @member to the adopter of the coroutine running on
 * this thread, if it has one (the coroutine layer sets @current, the
 * only way this layer may learn of coroutines). */
void kaa_in_progress_adopt             (KaaInProgress *member);
void kaa_in_progress_set_adopter_func  (KaaAdopter  *(*current) (void));

/* kaa-in-progress-weak.c: a producer's pointer to the InProgress it
 * settles, for a callback (a GSource's, a signal handler) that may run
 * while another thread drops the last reference to that InProgress
 * (issue 17 §4).
 *
 * The InProgress owns its producer, not the other way round, so that a
 * wait nobody holds any more goes away with its source or handler. The
 * callback therefore owns no reference and must take one before it
 * settles; two things could go wrong:
 *
 *  - the count may already be zero, the InProgress being finalized on
 *    another thread: kaa_in_progress_try_ref() then refuses;
 *  - the memory may be freed under the callback as it tries: finalize
 *    calls the release hook before it frees, and the release hook calls
 *    kaa_weak_link_release(), which closes the link to new readers and
 *    waits for the ones inside (a few instructions each) to leave.
 *
 * So a reader either gets a real reference, or NULL, and never touches
 * freed memory. The obvious alternative, an armed source holding a
 * strong reference, was rejected: a wait dropped unsettled (the loser of
 * a kaa_any() in a loop) would then keep its fd watch or signal handler
 * until the fd is ready or the signal comes, which may be never.
 *
 * Readers may run on any thread, several at once. No reader calls
 * anything that could reach the release hook while inside, so the wait
 * in kaa_weak_link_release() always ends. */
typedef struct
{
  KaaInProgress *self;      /* not owned; immutable */
  gint           readers;   /* atomic: LINK_RELEASED | readers inside */
} KaaWeakLink;

void           kaa_weak_link_init      (KaaWeakLink   *link,
                                        KaaInProgress *self);
KaaInProgress *kaa_weak_link_ref       (KaaWeakLink   *link) G_GNUC_WARN_UNUSED_RESULT;
void           kaa_weak_link_release   (KaaWeakLink   *link);

/* Issue 17 §1: cancels @self when its context dies, for a producer the
 * sweep knows nothing of. Made when the producer starts, on the thread
 * that made @self (NULL where none is needed); released once, from the
 * producer's release hook, on any thread. */
typedef struct _KaaDeathWatch KaaDeathWatch;

KaaDeathWatch *kaa_death_watch_new     (KaaInProgress *self);
void           kaa_death_watch_release (KaaDeathWatch *death);

G_END_DECLS
