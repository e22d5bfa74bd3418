/* kaa-fiber.c: asymmetric fibers over the context switch
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * KaaFiber: a function running on its own stack. kaa_fiber_resume() enters
 * it and returns when the fiber calls kaa_fiber_suspend() or its function
 * returns; a fiber may resume another one, which nests. The switch itself
 * is one backend routine (assembly or ucontext); this file wraps it with
 * what tools need to follow a change of stack: ASan's fiber switch hooks
 * (fake frames and stack bounds), TSan's fiber contexts and Valgrind's
 * stack registration.
 *
 * A fiber is used by one thread at a time: the thread that resumes it. The
 * current fiber is per thread; a fiber's fields are touched only by the
 * thread running or resuming it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "kaa-alloc-private.h"
#include "kaa-fiber-private.h"
#include "kaa-hot-private.h"
#include "kaa-valgrind-private.h"

#define FIBER_ASAN KAA_ASAN

#if defined (__SANITIZE_THREAD__)
# define FIBER_TSAN 1
#elif defined (__has_feature)
# if __has_feature (thread_sanitizer)
#  define FIBER_TSAN 1
# endif
#endif
#ifndef FIBER_TSAN
# define FIBER_TSAN 0
#endif

#if FIBER_ASAN
# include <sanitizer/asan_interface.h>
# include <sanitizer/common_interface_defs.h>
#endif
#if FIBER_TSAN
# include <sanitizer/tsan_interface.h>
/* fiber_entry() never returns, and kaa_fiber_run() returns in its
 * resumer's context, not the fiber's: instrumented, either would leave
 * its frame on TSan's shadow stack of the fiber's context, one more at
 * every reuse. */
# if defined (__clang__)
#  define FIBER_ENTRY_UNINSTRUMENTED __attribute__ ((disable_sanitizer_instrumentation))
# else
#  define FIBER_ENTRY_UNINSTRUMENTED __attribute__ ((no_sanitize_thread))
# endif
#else
# define FIBER_ENTRY_UNINSTRUMENTED
#endif

struct _KaaFiber
{
  /* What a switch touches first: one line. */
  KaaFiberContext  context;         /* the fiber, while it is suspended */
  KaaFiberContext  caller_context;  /* its resumer, while it runs */
  KaaFiber        *resumer;         /* NULL: the thread's own stack */
  guint            started : 1;
  guint            running : 1;
  guint            finished : 1;
  KaaFiberFunc     func;
  gpointer         user_data;
  KaaStack        *stack;
  const char      *name;            /* borrowed */
#if FIBER_ASAN
  gboolean         adopted;           /* took over its resumer by a transfer */
  void            *fake_stack;        /* ASan frames of the suspended fiber */
  void            *caller_fake_stack; /* ASan frames of the suspended resumer */
  const void      *caller_bottom;     /* the resumer's stack, as ASan knows it */
  size_t           caller_size;
#endif
#if FIBER_TSAN
  void            *tsan_fiber;
  void            *tsan_caller;
#endif
#if HAVE_VALGRIND
  unsigned         valgrind_id;
#endif
};

static KAA_THREAD_LOCAL KaaFiber *current_fiber;
static KAA_THREAD_LOCAL gboolean  thread_ready;

/* Never inlined: a suspended fiber may be resumed by another thread, and a
 * compiler that inlined these could reuse the address of the previous
 * thread's __thread variable computed before the switch. */
static KAA_HOT G_GNUC_NO_INLINE KaaFiber *
fiber_current_get (void)
{
  return current_fiber;
}

static KAA_HOT G_GNUC_NO_INLINE void
fiber_current_set (KaaFiber *fiber)
{
  current_fiber = fiber;
}

/* ---------------------------------------------------------- annotations */

#if FIBER_TSAN
/* TSan makes a whole thread state for each fiber context, clearing
 * megabytes: a spawn costs milliseconds, and a test that keeps hundreds
 * of coroutines coming took minutes under load. A finished fiber's
 * context is kept for the next fiber this thread makes. Reuse hides no
 * race: every switch synchronises the two sides (flags 0), so the old
 * fiber's work already happened before anything its thread did next.
 * Per thread and lock-free on purpose: a shared cache behind a mutex
 * would order threads that TSan must see as unordered. */
#define TSAN_FIBER_CACHE 64

typedef struct
{
  guint  len;
  void  *fibers[TSAN_FIBER_CACHE];
} TsanFiberCache;

static void
tsan_fiber_cache_free (gpointer data)
{
  TsanFiberCache *cache = data;

  while (cache->len > 0)
    __tsan_destroy_fiber (cache->fibers[--cache->len]);
  g_free (cache);
}

static GPrivate tsan_fiber_cache = G_PRIVATE_INIT (tsan_fiber_cache_free);

static void *
tsan_fiber_take (void)
{
  TsanFiberCache *cache = g_private_get (&tsan_fiber_cache);

  if (cache != NULL && cache->len > 0)
    return cache->fibers[--cache->len];
  return __tsan_create_fiber (0);
}

static void
tsan_fiber_give_back (void *tsan_fiber)
{
  TsanFiberCache *cache = g_private_get (&tsan_fiber_cache);

  if (cache == NULL)
    {
      cache = g_new0 (TsanFiberCache, 1);
      g_private_set (&tsan_fiber_cache, cache);
    }
  if (cache->len < TSAN_FIBER_CACHE)
    cache->fibers[cache->len++] = tsan_fiber;
  else
    __tsan_destroy_fiber (tsan_fiber);
}
#endif

static void
fiber_annotate_create (KaaFiber *fiber)
{
  guint8 *base = kaa_stack_get_base (fiber->stack);
  gsize size = kaa_stack_get_span (fiber->stack);

#if FIBER_ASAN
  /* A pooled stack keeps the shadow of its last fiber's frames, which never
   * returned; the new fiber's frames must not trip over that poison. */
  ASAN_UNPOISON_MEMORY_REGION (base, size);
#endif
#if FIBER_TSAN
  fiber->tsan_fiber = tsan_fiber_take ();
  __tsan_set_fiber_name (fiber->tsan_fiber, fiber->name);
#endif
#if HAVE_VALGRIND
  /* Without this Valgrind takes each switch for a huge stack adjustment
   * ("client switching stacks?") and loses track of what is stack. */
  if (KAA_ON_VALGRIND)
    fiber->valgrind_id = VALGRIND_STACK_REGISTER (base, base + size);
#endif
  (void) base;
  (void) size;
}

static void
fiber_annotate_destroy (KaaFiber *fiber)
{
#if FIBER_TSAN
  tsan_fiber_give_back (fiber->tsan_fiber);
#endif
#if HAVE_VALGRIND
  if (KAA_ON_VALGRIND)
    VALGRIND_STACK_DEREGISTER (fiber->valgrind_id);
#endif
  (void) fiber;
}

/* The resumer is about to switch onto the fiber's stack. */
static inline void
fiber_annotate_enter (KaaFiber *fiber)
{
#if FIBER_ASAN
  __sanitizer_start_switch_fiber (&fiber->caller_fake_stack,
                                  kaa_stack_get_base (fiber->stack),
                                  kaa_stack_get_span (fiber->stack));
#endif
#if FIBER_TSAN
  fiber->tsan_caller = __tsan_get_current_fiber ();
  __tsan_switch_to_fiber (fiber->tsan_fiber, 0);
#endif
  (void) fiber;
}

/* The resumer is back on its own stack. */
static inline void
fiber_annotate_returned (KaaFiber *fiber)
{
#if FIBER_ASAN
  __sanitizer_finish_switch_fiber (fiber->caller_fake_stack, NULL, NULL);
#endif
  (void) fiber;
}

/* The fiber is about to switch back to its resumer; a finished fiber's
 * frames are gone for good, which ASan learns from a NULL save slot. */
static inline void
fiber_annotate_leave (KaaFiber *fiber,
                      gboolean  finished)
{
#if FIBER_ASAN
  __sanitizer_start_switch_fiber (finished ? NULL : &fiber->fake_stack,
                                  fiber->caller_bottom, fiber->caller_size);
#endif
#if FIBER_TSAN
  __tsan_switch_to_fiber (fiber->tsan_caller, 0);
#endif
  (void) fiber;
  (void) finished;
}

/* The fiber runs again (or for the first time); ASan tells us the bounds
 * of the stack we came from, which is where the next suspend returns. */
static inline void
fiber_annotate_arrived (KaaFiber *fiber,
                        gboolean  first)
{
#if FIBER_ASAN
  /* Come by a transfer, the fiber returns to the resumer it took over,
   * whose bounds came with it, not to the fiber it came from. */
  if (fiber->adopted)
    __sanitizer_finish_switch_fiber (fiber->fake_stack, NULL, NULL);
  else
    __sanitizer_finish_switch_fiber (first ? NULL : fiber->fake_stack,
                                     &fiber->caller_bottom, &fiber->caller_size);
  fiber->adopted = FALSE;
#endif
  /* Nothing otherwise: kaa_fiber_suspend() and kaa_fiber_transfer() then
   * end in a tail call of the switch, which keeps the return-stack
   * predictor right (a call and a ret after it cost a switch round trip
   * 22 -> 31 ns). */
  (void) fiber;
  (void) first;
}

#if !KAA_FIBER_UCONTEXT
/* @to takes over the resumer of @from, which is about to switch to it:
 * its next suspend returns where @from's would have. */
static inline void
fiber_annotate_transfer (KaaFiber *from,
                         KaaFiber *to)
{
#if FIBER_ASAN
  to->adopted = TRUE;
  to->caller_fake_stack = from->caller_fake_stack;
  to->caller_bottom = from->caller_bottom;
  to->caller_size = from->caller_size;
  __sanitizer_start_switch_fiber (&from->fake_stack, kaa_stack_get_base (to->stack),
                                  kaa_stack_get_span (to->stack));
#endif
#if FIBER_TSAN
  to->tsan_caller = from->tsan_caller;
  __tsan_switch_to_fiber (to->tsan_fiber, 0);
#endif
  (void) from;
  (void) to;
}
#endif

/* ---------------------------------------------------------------- frames */

#if !KAA_FIBER_UCONTEXT && !KAA_FIBER_CAN_START
/* Writes the frame kaa_fiber_switch() pops (see the layout in the .S
 * file), so that the first switch to the fiber "returns" into @entry with
 * the stack aligned as the ABI wants at a function's first instruction. */
void
kaa_fiber_context_init (KaaFiberContext *ctx,
                        guint8          *stack_base,
                        gsize            stack_size,
                        KaaFiberEntry    entry)
{
  guintptr top = ((guintptr) (stack_base + stack_size)) & ~(guintptr) 15;
  guint64 *frame;

#if defined (__aarch64__)
  guint64 fpcr;

  /* 176 bytes; x29 = 0 ends frame chains, x30 (sp+88) is where ret goes,
   * sp ends at top, 16-aligned. FPCR is inherited as in a new thread. */
  frame = (guint64 *) (top - 176);
  memset (frame, 0, 176);
  __asm__ ("mrs %0, fpcr" : "=r" (fpcr));
  frame[11] = (guintptr) entry;
  frame[20] = fpcr;
#else
# error "The asm fiber backend supports x86_64 and aarch64 only."
#endif
  ctx->sp = frame;
}
#endif

/* ---------------------------------------------------------------- fibers */

/* A fiber's whole life on its own stack: its function, then the end,
 * annotated. Returns the fiber, now finished, with the sanitizers told
 * that its stack is left for good: nothing instrumented may run before
 * the switch out (which is why TSan does not instrument this). Read
 * directly: nothing of this frame predates the switch in. */
G_GNUC_INTERNAL KaaFiber *kaa_fiber_run (void);

/* used: kaa_fiber_start() calls it from assembly, which link-time
 * optimisation does not see. */
__attribute__ ((used)) KaaFiber * FIBER_ENTRY_UNINSTRUMENTED
kaa_fiber_run (void)
{
  KaaFiber *fiber = current_fiber;

  fiber_annotate_arrived (fiber, TRUE);
  fiber->func (fiber->user_data);
  fiber->finished = TRUE;
  fiber_annotate_leave (fiber, TRUE);
  return fiber;
}

#if KAA_FIBER_CAN_START
/* kaa-fiber-x86_64.S: saves the resumer as kaa_fiber_switch() does, calls
 * kaa_fiber_run() on the stack that ends at @top, and when it returns
 * goes back to whoever resumed the fiber last. The fiber starts with the
 * floating-point control state of the thread that starts it, as a new
 * thread does its creator's (a -ffast-math program keeps flush-to-zero):
 * a coroutine's fiber is made and started by the same call. The call
 * and the return pair up for the return-stack predictor, and so does the
 * return into the resumer: a spawn from a coroutine makes no
 * misprediction on the way in and out (issue #20, spawn-await,
 * docs/benchmarks.md). */
G_GNUC_INTERNAL
void kaa_fiber_start (KaaFiberContext *from,
                      guint8          *top);
#endif

#if !KAA_FIBER_CAN_START
/* The first instruction a fiber runs, where it is not started by
 * kaa_fiber_start(). It never returns: there is nothing below it on the
 * fiber's stack. */
static void G_GNUC_NORETURN FIBER_ENTRY_UNINSTRUMENTED
fiber_entry (void)
{
  KaaFiber *fiber = kaa_fiber_run ();

  kaa_fiber_switch (&fiber->context, &fiber->caller_context);
  /* A finished fiber is never resumed. */
  abort ();
}
#endif

/**
 * kaa_fiber_new:
 * @func: the fiber's body
 * @user_data: passed to @func
 * @stack_size: usable stack bytes, 0 for %KAA_FIBER_DEFAULT_STACK_SIZE
 * @name: (nullable): shown in stack overflow reports and by tools; not
 *   copied, so it must outlive the fiber (a definition's static name)
 * @error: return location for a #GError
 *
 * Creates a fiber that will run @func on a stack from the pool; it starts
 * at the first kaa_fiber_resume().
 *
 * Returns: (transfer full) (nullable): the fiber, or %NULL with @error set
 *   when no stack could be had
 */
KaaFiber *
kaa_fiber_new (KaaFiberFunc   func,
               gpointer       user_data,
               gsize          stack_size,
               const char    *name,
               GError       **error)
{
  KaaFiber *fiber;

  g_return_val_if_fail (func != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  fiber = kaa_new0 (KaaFiber);
  if (!kaa_fiber_init (fiber, func, user_data, stack_size, name, error))
    g_clear_pointer (&fiber, g_free);
  return fiber;
}

/**
 * kaa_fiber_struct_size:
 *
 * Returns: the bytes a fiber takes, for kaa_fiber_init() in memory of
 *   the caller's own
 */
gsize
kaa_fiber_struct_size (void)
{
  return sizeof (KaaFiber);
}

/**
 * kaa_fiber_init:
 * @fiber: kaa_fiber_struct_size() zeroed bytes, aligned for a pointer
 * @func: the fiber's body
 * @user_data: passed to @func
 * @stack_size: as for kaa_fiber_new()
 * @name: (nullable): as for kaa_fiber_new()
 * @error: return location for a #GError
 *
 * kaa_fiber_new() in memory the caller owns, such as the tail of the
 * struct of a coroutine, so that starting one costs one allocation, not
 * two. Undo it with kaa_fiber_clear().
 *
 * Returns: %FALSE with @error set when no stack could be had
 */
gboolean
kaa_fiber_init (KaaFiber      *fiber,
                KaaFiberFunc   func,
                gpointer       user_data,
                gsize          stack_size,
                const char    *name,
                GError       **error)
{
  KaaStack *stack = kaa_stack_new (stack_size, name, error);

  if (stack == NULL)
    return FALSE;
  fiber->func = func;
  fiber->user_data = user_data;
  fiber->stack = stack;
  fiber->name = name;
  fiber_annotate_create (fiber);
#if KAA_FIBER_CAN_START
  /* kaa_fiber_start() needs nothing else: no frame to write. */
  fiber->context.sp = (gpointer) (((guintptr) kaa_stack_get_top (stack)) & ~(guintptr) 15);
#else
  kaa_fiber_context_init (&fiber->context, kaa_stack_get_base (stack),
                          kaa_stack_get_top (stack) - kaa_stack_get_base (stack),
                          fiber_entry);
#endif
  return TRUE;
}

/**
 * kaa_fiber_free:
 * @fiber: (nullable) (transfer full): a finished or never-started fiber
 *
 * Frees @fiber and returns its stack to the pool. A fiber suspended in the
 * middle of its function cannot be freed: its frames would be discarded
 * without their cleanups.
 */
void
kaa_fiber_free (KaaFiber *fiber)
{
  if (fiber == NULL)
    return;
  g_return_if_fail (!fiber->running);
  g_return_if_fail (fiber->finished || !fiber->started);

  kaa_fiber_clear (fiber);
  g_free (fiber);
}

/**
 * kaa_fiber_clear:
 * @fiber: a finished or never-started fiber from kaa_fiber_init()
 *
 * Returns the stack of @fiber to the pool; its memory stays the caller's.
 */
void
kaa_fiber_clear (KaaFiber *fiber)
{
  g_return_if_fail (!fiber->running);
  g_return_if_fail (fiber->finished || !fiber->started);

  fiber_annotate_destroy (fiber);
  kaa_stack_free (fiber->stack);
  fiber->stack = NULL;
}

#if defined (__x86_64__) && !KAA_FIBER_UCONTEXT
/* The caller-saved registers of the System V ABI: the code on the other
 * side of a switch may change any of them. */
# if defined (__AVX512F__)
#  define FIBER_CLOBBERS_AVX512 , \
  "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", \
  "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31", \
  "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"
# else
#  define FIBER_CLOBBERS_AVX512
# endif
# define FIBER_CLOBBERS \
  "rax", "rcx", "rdx", "r8", "r9", "r10", "r11", "memory", "cc", \
  "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", \
  "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", \
  "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)", \
  "mm0", "mm1", "mm2", "mm3", "mm4", "mm5", "mm6", "mm7" FIBER_CLOBBERS_AVX512

/* kaa_fiber_switch() without the call (issue #20, loop-yield-1): the
 * address to come back to, a label right here, is pushed where a call
 * would push its return address, and the switch is entered by a jump.
 * A call would push that address onto the return-stack predictor too,
 * and the switch never returns to it: the side switched to would then
 * pop the wrong entry for each return it makes on its way out, a
 * resumer coming back through the scheduler and GLib's dispatch a
 * misprediction per frame. Without it each side pops one entry of the
 * other (a yield's return into the body, the resumer's first return)
 * and the rest pair up. The frame is the one kaa_fiber_switch() pushes,
 * so either kind of switch resumes what the other saved. The callee-
 * saved registers come back from that frame; the asm clobbers the rest.
 * It steps over the red zone first: the compiler may keep data below
 * the stack pointer in a function whose only call is this asm. (So a
 * profiler that unwinds from inside the switch's few instructions finds
 * the caller's frame 128 bytes off; nothing else unwinds there.) */
static inline __attribute__ ((always_inline)) void
fiber_switch_inline (KaaFiberContext *from,
                     KaaFiberContext *to)
{
  register KaaFiberContext *rdi __asm__ ("rdi") = from;
  register KaaFiberContext *rsi __asm__ ("rsi") = to;

  __asm__ volatile ("leaq -128(%%rsp), %%rsp\n\t"
                    "leaq 1f(%%rip), %%rax\n\t"
                    "pushq %%rax\n\t"
                    "jmp kaa_fiber_switch\n"
                    "1:\n\t"
                    "leaq 128(%%rsp), %%rsp"
                    : "+r" (rdi), "+r" (rsi)
                    :
                    : FIBER_CLOBBERS);
}
#else
# define fiber_switch_inline kaa_fiber_switch
#endif

/* The first resume on a thread. Out of line: the resume of every other
 * saves no registers for it. */
static G_NO_INLINE void
fiber_thread_init (void)
{
  kaa_stack_thread_init ();
  thread_ready = TRUE;
}

/**
 * kaa_fiber_resume:
 * @fiber: a fiber that is neither running nor finished
 *
 * Runs @fiber on the calling thread until it calls kaa_fiber_suspend() or
 * its function returns. May be called from inside another fiber.
 */
KAA_HOT void
kaa_fiber_resume (KaaFiber *fiber)
{
#if KAA_FIBER_CAN_START
  gboolean fresh;
#endif

  g_return_if_fail (fiber != NULL);
  g_return_if_fail (!fiber->running);
  g_return_if_fail (!fiber->finished);

  if (G_UNLIKELY (!thread_ready))
    fiber_thread_init ();

  /* Before the switch, the thread's own variable directly (as in
   * kaa_fiber_transfer()); after it, only through the accessors. */
#if KAA_FIBER_CAN_START
  fresh = !fiber->started;
#endif
  fiber->resumer = current_fiber;
  fiber->started = TRUE;
  fiber->running = TRUE;
  current_fiber = fiber;
  /* Nothing instrumented between the annotation and the switch. */
  fiber_annotate_enter (fiber);
#if KAA_FIBER_CAN_START
  /* Until it first runs, its context holds where its stack ends. */
  if (fresh)
    kaa_fiber_start (&fiber->caller_context, fiber->context.sp);
  else
#endif
    fiber_switch_inline (&fiber->caller_context, &fiber->context);
  /* Back from @fiber, or from a fiber it transferred to, which may have
   * freed @fiber meanwhile: only the one that came back is touched. */
  fiber = fiber_current_get ();
  fiber_annotate_returned (fiber);
  fiber->running = FALSE;
  fiber_current_set (fiber->resumer);
}

/**
 * kaa_fiber_suspend:
 *
 * Suspends the calling fiber: returns from the kaa_fiber_resume() that
 * entered it. Returns when the fiber is resumed again, possibly by another
 * caller or thread.
 */
KAA_HOT void
kaa_fiber_suspend (void)
{
  KaaFiber *fiber = fiber_current_get ();

  g_return_if_fail (fiber != NULL);

  fiber_annotate_leave (fiber, FALSE);
  fiber_switch_inline (&fiber->context, &fiber->caller_context);
  fiber_annotate_arrived (fiber, FALSE);
}

#if !KAA_FIBER_UCONTEXT
/**
 * kaa_fiber_transfer:
 * @to: a started fiber that is neither running nor finished
 *
 * Suspends the calling fiber and runs @to in its place, with one switch
 * instead of a suspend and a resume: @to returns, when it suspends or
 * ends, from the kaa_fiber_resume() that entered the calling fiber
 * (issue #20's symmetric transfer). Returns when the calling fiber is
 * resumed again. Not in the ucontext backend, whose saved contexts
 * cannot be copied (KAA_FIBER_CAN_TRANSFER).
 */
KAA_HOT void
kaa_fiber_transfer (KaaFiber *to)
{
  /* Read and written before the switch only: no TLS address is kept
   * across it, so the accessors' guard is not needed. */
  KaaFiber *fiber = current_fiber;

  /* The coroutine layer vouches for @to: it is yielded, so started,
   * suspended and not finished. */
  g_return_if_fail (fiber != NULL);

  to->resumer = fiber->resumer;
  to->caller_context = fiber->caller_context;
  to->running = TRUE;
  fiber->running = FALSE;
  current_fiber = to;
  fiber_annotate_transfer (fiber, to);
  kaa_fiber_switch_peer (&fiber->context, &to->context);
  fiber_annotate_arrived (fiber, FALSE);
}
#endif

/**
 * kaa_fiber_get_current:
 *
 * Returns: (transfer none) (nullable): the fiber running on the calling
 *   thread, or %NULL on the thread's own stack
 */
KaaFiber *
kaa_fiber_get_current (void)
{
  return fiber_current_get ();
}

/* Owner thread, issue #20: starts loading what resuming @fiber touches
 * first, its saved registers and the frames just above them, while the
 * thread still runs something else. With thousands of coroutines queued
 * those lines are in no cache, and each resume would otherwise wait for
 * them in turn. Prefetches only: harmless whatever state @fiber is in. */
void
kaa_fiber_warm (KaaFiber *fiber)
{
#if KAA_FIBER_UCONTEXT
  __builtin_prefetch (&fiber->context);
#else
  const guint8 *sp = fiber->context.sp;

  __builtin_prefetch (sp);
  __builtin_prefetch (sp + 64);
  __builtin_prefetch (sp + 128);
  __builtin_prefetch (sp + 192);
#endif
}

KAA_HOT gboolean
kaa_fiber_is_finished (KaaFiber *fiber)
{
  g_return_val_if_fail (fiber != NULL, FALSE);

  return fiber->finished;
}

const char *
kaa_fiber_get_name (KaaFiber *fiber)
{
  g_return_val_if_fail (fiber != NULL, NULL);

  return fiber->name;
}

/* The SIGSEGV handler's question (kaa-fiber-stack-overflow.c): whose
 * stack was the thread on? One TLS read, async-signal-safe; NULL on the
 * thread's own stack. */
KaaStack *
kaa_fiber_running_stack (void)
{
  KaaFiber *fiber = current_fiber;

  return fiber != NULL ? fiber->stack : NULL;
}

gsize
kaa_fiber_get_stack_size_for_testing (KaaFiber *fiber)
{
  g_return_val_if_fail (fiber != NULL, 0);

  return kaa_stack_get_size (fiber->stack);
}

/**
 * kaa_fiber_name_after:
 * @fiber: a fiber
 * @func: (nullable): a function that identifies the fiber's code, or
 *   %NULL to keep the fiber's name
 *
 * For a fiber whose name says little (a coroutine without a name, whose
 * fiber body is the coroutine layer's): a stack overflow report names
 * @func instead, by its symbol, or its file and offset.
 */
void
kaa_fiber_name_after (KaaFiber  *fiber,
                      KaaFiberCode  func)
{
  g_return_if_fail (fiber != NULL);

  kaa_stack_name_after (fiber->stack, func);
}
