/* kaa-fiber-private.h: stackful fibers and their stacks (layer 1)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Asymmetric fibers: kaa_fiber_resume() enters a fiber, kaa_fiber_suspend()
 * returns from it to whoever resumed it; kaa_fiber_transfer() hands that
 * resumer on to another fiber, which returns there in its place. A fiber
 * knows nothing of loops or futures; the coroutine layer builds on it.
 * Each fiber belongs to the thread that resumes it, and the current fiber
 * is per thread.
 */
#pragma once

#include <glib.h>

/* config.h (included first by every .c) says which backend is built. */
#ifndef KAA_FIBER_UCONTEXT
# error "Include config.h before kaa-fiber-private.h."
#endif

#if KAA_FIBER_UCONTEXT
# include <ucontext.h>
#endif

G_BEGIN_DECLS

/* 64 KiB of reserved address space per stack: the kernel commits pages only
 * when they are touched, so the resident cost of a coroutine is what its
 * deepest call chain used (typically one or two pages), while ordinary C
 * code, GLib and printf-family calls still fit. */
#define KAA_FIBER_DEFAULT_STACK_SIZE ((gsize) 64 * 1024)

typedef struct _KaaFiber KaaFiber;
typedef struct _KaaStack KaaStack;

typedef void (*KaaFiberFunc) (gpointer user_data);
/* Any function, named in reports (kaa_fiber_name_after()). */
typedef void (*KaaFiberCode) (void);

G_GNUC_INTERNAL
KaaFiber   *kaa_fiber_new           (KaaFiberFunc  func,
                                     gpointer      user_data,
                                     gsize         stack_size,
                                     const char   *name,
                                     GError      **error) G_GNUC_WARN_UNUSED_RESULT;
G_GNUC_INTERNAL
void        kaa_fiber_free          (KaaFiber     *fiber);
/* The same in memory of the caller's (kaa-fiber.c). */
G_GNUC_INTERNAL
gsize       kaa_fiber_struct_size   (void) G_GNUC_CONST;
G_GNUC_INTERNAL
gboolean    kaa_fiber_init          (KaaFiber     *fiber,
                                     KaaFiberFunc  func,
                                     gpointer      user_data,
                                     gsize         stack_size,
                                     const char   *name,
                                     GError      **error);
G_GNUC_INTERNAL
void        kaa_fiber_clear         (KaaFiber     *fiber);
G_GNUC_INTERNAL
void        kaa_fiber_resume        (KaaFiber     *fiber);
G_GNUC_INTERNAL
void        kaa_fiber_suspend       (void);
/* One switch from the calling fiber to another (kaa-fiber.c): all but
 * the ucontext backend. */
#define KAA_FIBER_CAN_TRANSFER (!KAA_FIBER_UCONTEXT)
/* A fiber that has not run is started by a call on its stack and ends by
 * the return (kaa_fiber_start() in kaa-fiber.c): x86-64. Elsewhere the
 * first switch "returns" into a frame kaa_fiber_context_init() wrote. */
#if defined (__x86_64__) && !KAA_FIBER_UCONTEXT
# define KAA_FIBER_CAN_START 1
#else
# define KAA_FIBER_CAN_START 0
#endif
#if KAA_FIBER_CAN_TRANSFER
G_GNUC_INTERNAL
void        kaa_fiber_transfer      (KaaFiber     *to);
#endif
G_GNUC_INTERNAL
KaaFiber   *kaa_fiber_get_current   (void);
G_GNUC_INTERNAL
gboolean    kaa_fiber_is_finished   (KaaFiber     *fiber);
G_GNUC_INTERNAL
void        kaa_fiber_warm          (KaaFiber     *fiber);
G_GNUC_INTERNAL
const char *kaa_fiber_get_name      (KaaFiber     *fiber);
G_GNUC_INTERNAL
gsize       kaa_fiber_get_stack_size_for_testing (KaaFiber *fiber);
G_GNUC_INTERNAL
KaaStack   *kaa_fiber_running_stack (void);
G_GNUC_INTERNAL
void        kaa_fiber_name_after    (KaaFiber     *fiber,
                                     KaaFiberCode  func);

/* Stacks (kaa-fiber-stack.c). Sizes are rounded up to whole pages; the
 * guard region below each stack is not counted in its size. */
G_GNUC_INTERNAL
KaaStack   *kaa_stack_new           (gsize         size,
                                     const char   *name,
                                     GError      **error) G_GNUC_WARN_UNUSED_RESULT;
G_GNUC_INTERNAL
void        kaa_stack_free          (KaaStack     *stack);
G_GNUC_INTERNAL
gsize       kaa_stack_get_size      (KaaStack     *stack);

/* Where a stack's memory is, fixed when its chunk is mapped and the
 * first thing in a KaaStack (kaa-fiber-stack-impl-private.h), so that
 * starting a fiber reads it instead of making three calls to work it out
 * (issue #20, spawn-await). */
typedef struct
{
  guint8 *base;   /* the lowest usable byte, just above the guard */
  guint8 *top;    /* where the frames start (coloured: below base + span) */
  gsize   span;   /* all of the slot above the guard: the stack and its
                   * colouring room */
} KaaStackBounds;

static inline guint8 *
kaa_stack_get_base (KaaStack *stack)
{
  return ((const KaaStackBounds *) stack)->base;
}

static inline guint8 *
kaa_stack_get_top (KaaStack *stack)
{
  return ((const KaaStackBounds *) stack)->top;
}

static inline gsize
kaa_stack_get_span (KaaStack *stack)
{
  return ((const KaaStackBounds *) stack)->span;
}
G_GNUC_INTERNAL
void        kaa_stack_name_after    (KaaStack     *stack,
                                     KaaFiberCode  func);
G_GNUC_INTERNAL
void        kaa_stack_thread_init   (void);

typedef struct
{
  guint    n_chunks;      /* mappings made so far, never unmapped */
  guint    n_live;        /* stacks handed out */
  guint    n_pooled;      /* released stacks kept for reuse */
  guint    n_cached;      /* of those, the ones in the threads' caches */
  guint    n_trimmed;     /* pooled stacks whose pages went back to the kernel */
  gboolean guard_madvise; /* guards are MADV_GUARD_INSTALL, not mprotect */
} KaaStackPoolStats;

/* The pool's trims, run by the main loops when idle (layer 2 calls
 * these; the pool knows nothing of loops). The flag is read inline: every
 * idle iteration of a loop that runs coroutines looks at it. */
G_GNUC_INTERNAL extern gint kaa_stack_trim_pending;

static inline gboolean
kaa_stack_pool_trim_is_pending (void)
{
  return __atomic_load_n (&kaa_stack_trim_pending, __ATOMIC_RELAXED);
}

G_GNUC_INTERNAL
gint64      kaa_stack_pool_get_next_trim (void);
G_GNUC_INTERNAL
void        kaa_stack_pool_trim_idle     (gint64 now);

G_GNUC_INTERNAL
void        kaa_stack_pool_get_stats_for_testing (KaaStackPoolStats *stats);
G_GNUC_INTERNAL
void        kaa_stack_pool_trim_for_testing (void);
G_GNUC_INTERNAL
void        kaa_stack_pool_set_map_limit_for_testing (guint limit,
                                                      guint reserve);

/* Each thread's spare stacks of the default size, taken and given back
 * without the pool's lock (kaa-fiber-stack-cache.c); its list of caches
 * is under that lock. */
G_GNUC_INTERNAL
KaaStack   *kaa_stack_cache_pop            (void);
G_GNUC_INTERNAL
gboolean    kaa_stack_cache_push           (KaaStack  *stack);
G_GNUC_INTERNAL
guint       kaa_stack_cache_count_unlocked (void);
G_GNUC_INTERNAL
void        kaa_stack_pool_lock            (void);
G_GNUC_INTERNAL
void        kaa_stack_pool_unlock          (void);
G_GNUC_INTERNAL
void        kaa_stack_release_unlocked     (KaaStack  *stack);

/* The VMA budget of mprotect guards (kaa-fiber-stack-maps.c), under the
 * stack pool's lock. */
G_GNUC_INTERNAL
gboolean    kaa_stack_maps_take_unlocked      (guint     n,
                                               GError  **error);
G_GNUC_INTERNAL
void        kaa_stack_maps_give_back_unlocked (guint     n);
G_GNUC_INTERNAL
void        kaa_stack_maps_set_limit_unlocked (guint     limit,
                                               guint     reserve);

/* The switch backend: exactly one of kaa-fiber-x86_64.S, kaa-fiber-aarch64.S
 * (with the frame setup in kaa-fiber.c) or kaa-fiber-ucontext.c is built.
 * The assembly reads and writes @sp at offset 0, so it stays first. */
typedef struct
{
#if KAA_FIBER_UCONTEXT
  ucontext_t uc;
#else
  gpointer   sp;
#endif
} KaaFiberContext;

typedef void (*KaaFiberEntry) (void);

#if !KAA_FIBER_CAN_START
G_GNUC_INTERNAL
void        kaa_fiber_context_init  (KaaFiberContext *ctx,
                                     guint8          *stack_base,
                                     gsize            stack_size,
                                     KaaFiberEntry    entry);
#endif
/* Saves the callee-saved state into @from and continues from @to. */
G_GNUC_INTERNAL
void        kaa_fiber_switch        (KaaFiberContext *from,
                                     KaaFiberContext *to);
G_GNUC_INTERNAL
void        kaa_fiber_switch_peer   (KaaFiberContext *from,
                                     KaaFiberContext *to);

G_END_DECLS
