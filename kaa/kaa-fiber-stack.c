/* kaa-fiber-stack.c: coroutine stacks, their pool and their guards
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Stacks are carved out of large chunks, one mmap per CHUNK_BYTES, each slot
 * a guard region followed by the usable stack (stacks grow down, into their
 * guard). A chunk holds stacks of one size and is never unmapped: its slots
 * go back to a per-size free list, and once more than POOL_MAX_WARM released
 * stacks keep their pages, the pages of the longest unused ones are handed
 * back to the kernel (a second after the last trim, in batches, see
 * TRIM_INTERVAL_USEC), so an idle pool costs address space only. The
 * trims are the main loops' to run, when they have nothing else to do
 * (kaa_stack_pool_trim_idle()): a free never trims, so their madvise()
 * and the page faults of the stacks they emptied do not land in whatever
 * the program does right after a burst of coroutines ended.
 *
 * Guards use MADV_GUARD_INSTALL when the kernel has it (Linux 6.13): it
 * splits no VMA, so live stacks are not capped by vm.max_map_count. Older
 * kernels get mprotect(PROT_NONE), two VMAs per stack, within the budget
 * of kaa-fiber-stack-maps.c. Guards are large (see stack_guard_size()):
 * code built without -fstack-clash-protection moves the stack pointer by
 * a whole frame at once, and a frame that jumps a small guard lands in
 * the live frames of the neighbouring slot, which no fault reveals.
 *
 * Memcheck is told what is in bounds, since Valgrind cannot see
 * MADV_GUARD_INSTALL: a chunk is out of bounds when mapped, a stack's span
 * is fresh (undefined) memory while handed out and out of bounds again in
 * the pool, and guards never come in. Its leak check reads every word it
 * takes for readable and, on a fault, skips one word: it used to take
 * 32 768 faults per 256 KiB guard (minutes for a few thousand stacks) and
 * read every untouched page of every stack. Out of bounds, a range is
 * skipped, and a stray access to it is reported.
 *
 * The pool is shared by all threads under pool_lock; in front of it each
 * thread keeps a few stacks of the default size it freed, which it takes
 * back without the lock (kaa-fiber-stack-cache.c). An overflow into a
 * guard is reported by kaa-fiber-stack-overflow.c's SIGSEGV handler,
 * which reads the chunks and their slot records without any lock: they
 * are published fully built and never freed, and a slot's live flag is
 * atomic.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kaa-error.h"
#include "kaa-fiber-stack-impl-private.h"
#include "kaa-i18n-private.h"
#include "kaa-live-private.h"
#include "kaa-valgrind-private.h"

/* The advice value is ABI; older headers lack the name. */
#ifndef MADV_GUARD_INSTALL
# define MADV_GUARD_INSTALL 102
#endif

/* Guard sizes: see stack_guard_size(). */
#define GUARD_MIN_BYTES ((gsize) 256 * 1024)
#define GUARD_MAX_BYTES ((gsize) 1024 * 1024)
/* One mmap per 32 MiB of stacks, at most 64 stacks (default size: 64,
 * 21 MiB with their guards). The kernel merges adjacent chunks into one
 * VMA as long as no mprotect guard splits them: 100 000 live stacks add a
 * single line to /proc/self/maps. */
#define CHUNK_BYTES   ((gsize) 32 * 1024 * 1024)
#define CHUNK_SLOTS   64
#define POOL_MAX_WARM 256
/* Trimming as soon as the pool passes the bound would cost a system call
 * per stack of a burst that is reused a moment later (a thousand
 * coroutines ending, then a thousand starting): a trim comes at most once
 * per interval, down to the bound. */
#define TRIM_INTERVAL_USEC G_USEC_PER_SEC
/* A trim of the default-size stacks returns the pages of at most this
 * many, and the next batch may come this much later: the pages a burst of
 * 10 000 coroutines left took one trim 60 to 90 ms of madvise(), a stall
 * of the main loop that ran it (issue #20). */
#define TRIM_BATCH         128
#define TRIM_AGAIN_USEC    (25 * 1000)
/* Cache colouring: every slot gets this much room above its stack, and
 * its frames start at one of COLOR_BYTES / COLOR_STEP offsets in it. Were
 * all stacks to start at the same offset in their page, the hot top
 * frames of thousands of suspended coroutines would compete for the same
 * few cache sets; spread out, 10 000 coroutines taking turns yield about
 * twice as fast. It costs address space, and no memory: the frames
 * occupy as many pages as before. */
#define COLOR_BYTES   ((gsize) 4096)
#define COLOR_STEP    64

typedef enum
{
  GUARD_UNKNOWN,
  GUARD_MADVISE,
  GUARD_MPROTECT,
} GuardMode;

/* Lock order: pool_lock is a leaf. A pthread mutex rather than a GMutex:
 * GLib's futex-based GMutex is invisible to TSan, which would then report
 * every pool access made from two threads. */
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
/* Stacks of the default size, which nearly every coroutine uses, have a
 * list of their own: a spawn then costs no hash table lookup. */
static KaaStack   *default_free;
static GHashTable *free_lists;     /* other stack sizes → KaaStack * */
static GuardMode   guard_mode;
/* n_taken: out of the free lists, live or in a thread's cache. */
static guint       n_chunks, n_taken, n_pooled, n_trimmed;
/* Atomic, written under pool_lock: when the next batch may come. The
 * loops read it without the lock to know how long they may sleep. */
static gint64      next_trim;
/* The default-size list while a batched trim is under way: the last
 * stack its previous batch trimmed, where the next one goes on (what
 * follows a stack in the list only changes when the list is popped down
 * to it, which clears this). NULL: the list is some untrimmed stacks,
 * then trimmed ones. */
static KaaStack   *trim_cursor;
/* Atomic, written under pool_lock: past the warm bound, a trim to come.
 * Read by every idle iteration of every main loop that runs coroutines
 * (kaa_stack_pool_trim_is_pending()). */
gint               kaa_stack_trim_pending;

static gsize
stack_round_to_pages_unlocked (gsize size)
{
  static gsize page_size;

  if (page_size == 0)
    page_size = (gsize) sysconf (_SC_PAGESIZE);
  return (size + page_size - 1) / page_size * page_size;
}

/* ------------------------------------------------------------- the pool */

static gboolean
stack_guard_fail (StackChunk  *chunk,
                  int          saved_errno,
                  GError     **error)
{
  g_set_error (error, KAA_ERROR, KAA_ERROR_FAILED,
               _("Could not install the guard region of a %zu-byte coroutine stack: %s"),
               chunk->stack_size, g_strerror (saved_errno));
  return FALSE;
}

static gboolean
stack_guard_install_unlocked (KaaStack  *stack,
                              GError   **error)
{
  StackChunk *chunk = stack->chunk;
  guint8 *guard = chunk->base + stack->index * chunk->slot_size;
  int saved_errno;

  /* Decided once per process: a kernel without the advice says EINVAL. */
  if (guard_mode != GUARD_MPROTECT)
    {
      if (madvise (guard, chunk->guard_size, MADV_GUARD_INSTALL) == 0)
        {
          guard_mode = GUARD_MADVISE;
          return TRUE;
        }
      if (errno != EINVAL || guard_mode == GUARD_MADVISE)
        return stack_guard_fail (chunk, errno, error);
      guard_mode = GUARD_MPROTECT;
    }

  /* The guard splits the mapping around it in three. */
  if (!kaa_stack_maps_take_unlocked (2, error))
    return FALSE;
  if (mprotect (guard, chunk->guard_size, PROT_NONE) == 0)
    return TRUE;
  saved_errno = errno;
  kaa_stack_maps_give_back_unlocked (2);
  return stack_guard_fail (chunk, saved_errno, error);
}

static void
stack_push_free_unlocked (KaaStack *stack)
{
  gsize size = stack->chunk->stack_size;
  gpointer key = GSIZE_TO_POINTER (size);

  if (size == KAA_FIBER_DEFAULT_STACK_SIZE)
    {
      stack->next_free = default_free;
      default_free = stack;
      return;
    }
  if (free_lists == NULL)
    free_lists = g_hash_table_new (NULL, NULL);
  stack->next_free = g_hash_table_lookup (free_lists, key);
  g_hash_table_insert (free_lists, key, stack);
}

static KaaStack *
stack_pop_free_unlocked (gsize size)
{
  gpointer key = GSIZE_TO_POINTER (size);
  KaaStack *stack;

  if (size == KAA_FIBER_DEFAULT_STACK_SIZE)
    {
      stack = default_free;
      if (stack != NULL)
        default_free = stack->next_free;
      if (stack == trim_cursor)
        trim_cursor = NULL;
      return stack;
    }
  stack = free_lists != NULL ? g_hash_table_lookup (free_lists, key) : NULL;
  if (stack != NULL)
    g_hash_table_insert (free_lists, key, stack->next_free);
  return stack;
}

/* The guard below a stack of @size bytes. A frame that does not fit in
 * what is left of its stack faults in the guard only if its first access
 * lands there: code built without -fstack-clash-protection can move the
 * stack pointer by the whole frame and write at its far end. The guard
 * covers frames up to a quarter MiB past the stack's end, a MiB for stacks
 * asked big (code with big frames asks for those); the kernel keeps 1 MiB
 * below the main thread's stack for the same reason. MADV_GUARD_INSTALL
 * and mprotect guards take no memory and (mprotect) one VMA whatever their
 * size; what a larger guard costs is address space and page tables: each
 * live stack touches its own 2 MiB page-table range once slots are spread
 * over more than that. Measured with 20 000 stacks of 64 KiB holding one
 * page each, page tables took 0.16 KiB per stack with a 16 KiB guard,
 * 0.63 KiB with 256 KiB, 2.1 KiB with 1 MiB, next to the 4 KiB page. */
static gsize
stack_guard_size (gsize size)
{
  return CLAMP (4 * size, GUARD_MIN_BYTES, GUARD_MAX_BYTES);
}

/* Maps @bytes of stack slots; NULL with @error set if the kernel will not. */
static guint8 *
stack_chunk_map (gsize    bytes,
                 GError **error)
{
  /* MAP_NORESERVE: untouched stack pages must not count against the
   * overcommit limit, or reserving a million stacks would fail. */
  guint8 *base = mmap (NULL, bytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);

  if (base == MAP_FAILED)
    {
      int saved_errno = errno;

      g_set_error (error, KAA_ERROR, KAA_ERROR_FAILED,
                   _("Could not map %zu bytes for coroutine stacks: %s"),
                   bytes, g_strerror (saved_errno));
      return NULL;
    }
  /* Out of bounds for Memcheck until a stack is handed out; guards for
   * good (see kaa_stack_new()). */
  KAA_VALGRIND_MAKE_MEM_NOACCESS (base, bytes);
  return base;
}

/* Maps a chunk for stacks of @size bytes and puts its slots on the free
 * list; guards are installed when a slot is first handed out, so that with
 * mprotect guards an unused slot costs no VMA. */
static gboolean
stack_chunk_new_unlocked (gsize    size,
                          GError **error)
{
  gsize guard_size = stack_guard_size (size);
  gsize slot_size = guard_size + size + COLOR_BYTES;
  guint n_slots = (guint) CLAMP (CHUNK_BYTES / slot_size, 1, CHUNK_SLOTS);
  StackChunk *chunk;
  guint8 *base = stack_chunk_map (n_slots * slot_size, error);
  guint i;

  if (base == NULL)
    return FALSE;
  chunk = g_malloc0 (sizeof *chunk + n_slots * sizeof (KaaStack));
  chunk->base = base;
  chunk->slot_size = slot_size;
  chunk->guard_size = guard_size;
  chunk->stack_size = size;
  chunk->n_slots = n_slots;
  for (i = n_slots; i-- > 0;)
    {
      KaaStack *stack = &chunk->slots[i];
      /* Consecutive slots get different colours (37 is odd, so 64
       * consecutive slots get all 64). */
      gsize color = (i * 37u) % (COLOR_BYTES / COLOR_STEP);

      stack->chunk = chunk;
      stack->index = i;
      stack->bounds.base = base + i * slot_size + guard_size;
      stack->bounds.span = size + COLOR_BYTES;
      stack->bounds.top = stack->bounds.base + stack->bounds.span - color * COLOR_STEP;
      stack_push_free_unlocked (stack);
    }

  n_chunks++;
  kaa_stack_overflow_watch_unlocked (chunk);
  return TRUE;
}

/* Pops a free stack of @size bytes, mapping a chunk if there is none, and
 * makes sure its guard is in place. */
static KaaStack *
stack_take_unlocked (gsize    size,
                     GError **error)
{
  KaaStack *stack = stack_pop_free_unlocked (size);

  if (stack == NULL && stack_chunk_new_unlocked (size, error))
    stack = stack_pop_free_unlocked (size);
  if (stack == NULL)
    return NULL;
  if (!stack->guarded && !stack_guard_install_unlocked (stack, error))
    {
      stack_push_free_unlocked (stack);
      return NULL;
    }
  stack->guarded = TRUE;

  n_taken++;
  if (stack->released)
    n_pooled--;
  if (stack->trimmed)
    n_trimmed--;
  stack->released = FALSE;
  stack->trimmed = FALSE;
  return stack;
}

/**
 * kaa_stack_new:
 * @size: usable bytes, 0 for %KAA_FIBER_DEFAULT_STACK_SIZE; rounded up to
 *   whole pages
 * @name: (nullable): reported if the stack overflows
 * @error: return location for a #GError
 *
 * Takes a stack from the calling thread's cache, else from the pool,
 * mapping a new chunk if none is free.
 *
 * Returns: (transfer full) (nullable): the stack, or %NULL with @error set
 *   when no memory, mapping or guard could be had
 */
KaaStack *
kaa_stack_new (gsize        size,
               const char  *name,
               GError     **error)
{
  KaaStack *stack;

  /* Past this, rounding and the chunk arithmetic would overflow; no mmap
   * could satisfy it anyway. */
  if (size > G_MAXSIZE / 4)
    {
      g_set_error (error, KAA_ERROR, KAA_ERROR_FAILED,
                   _("Could not map a %zu-byte coroutine stack: %s"),
                   size, g_strerror (ENOMEM));
      return NULL;
    }

  /* Unrounded: the default size is whole pages of any page size Linux has. */
  stack = size == 0 || size == KAA_FIBER_DEFAULT_STACK_SIZE ? kaa_stack_cache_pop () : NULL;
  if (stack == NULL)
    {
      pthread_mutex_lock (&pool_lock);
      size = stack_round_to_pages_unlocked (size != 0 ? size : KAA_FIBER_DEFAULT_STACK_SIZE);
      stack = stack_take_unlocked (size, error);
      pthread_mutex_unlock (&pool_lock);
    }

  if (stack != NULL)
    {
      /* Fresh, as malloc() memory is: a read of what the stack's last
       * fiber left is an uninitialised read. */
      KAA_VALGRIND_MAKE_MEM_UNDEFINED (kaa_stack_get_base (stack), kaa_stack_get_span (stack));
      stack->name = name != NULL ? name : "(unnamed)";
      stack->body = NULL;
      /* The name is in place before the handler may look at it. */
      g_atomic_int_set (&stack->live, TRUE);
      kaa_live_add (KAA_LIVE_STACK, 1);
    }
  return stack;
}

/* Pooled stacks side by side in one chunk, in a row of the free list:
 * stacks freed together (a cascade unwinding a long chain) lie there one
 * slot apart, and one madvise() trims them all, and the guards between
 * them, which stay in place (guard markers and PROT_NONE pages alike
 * outlive MADV_DONTNEED). A system call per stack cost a million-deep
 * unwind two thirds of its time. */
typedef struct
{
  KaaStack   *first;
  guint       n;
  StackChunk *chunk;
  guint       lo, hi;   /* slot indices */
} TrimRun;

static void
trim_run_flush (TrimRun *run)
{
  StackChunk *chunk = run->chunk;
  guint8 *start, *end;
  KaaStack *stack = run->first;

  if (run->n == 0)
    return;
  start = chunk->base + run->lo * chunk->slot_size + chunk->guard_size;
  end = chunk->base + (run->hi + 1) * chunk->slot_size;
  /* On failure they stay untrimmed, and the next trim tries again. */
  if (madvise (start, (gsize) (end - start), MADV_DONTNEED) == 0)
    {
      for (guint i = 0; i < run->n; i++, stack = stack->next_free)
        stack->trimmed = TRUE;
      n_trimmed += run->n;
    }
  run->n = 0;
}

static void
trim_run_add (TrimRun  *run,
              KaaStack *stack)
{
  if (run->n > 0 && stack->chunk == run->chunk &&
      (stack->index + 1 == run->lo || stack->index == run->hi + 1))
    {
      run->lo = MIN (run->lo, stack->index);
      run->hi = MAX (run->hi, stack->index);
      run->n++;
      return;
    }
  trim_run_flush (run);
  *run = (TrimRun) { stack, 1, stack->chunk, stack->index, stack->index };
}

/* Trims the stacks of @list past the first POOL_MAX_WARM warm ones that
 * the lists seen so far (@warm) left room for, at most @budget of them,
 * from @stack on (the head, or where the previous batch stopped). A list
 * is some untrimmed stacks, then trimmed ones (pushes and pops come at
 * its head), but for the default one while a batched trim is under way
 * (trim_cursor). Returns the last stack trimmed if the budget ran out
 * with untrimmed ones left, else NULL. */
static KaaStack *
stack_trim_list_unlocked (KaaStack *stack,
                          guint    *warm,
                          guint    *budget)
{
  TrimRun run = { NULL, };
  KaaStack *last = NULL;

  for (; stack != NULL && !stack->trimmed && *warm < POOL_MAX_WARM; stack = stack->next_free)
    ++*warm;
  for (; stack != NULL && !stack->trimmed && *budget > 0; stack = stack->next_free)
    {
      trim_run_add (&run, stack);
      last = stack;
      --*budget;
    }
  trim_run_flush (&run);
  return stack != NULL && !stack->trimmed ? last : NULL;
}

/* Keeps the first POOL_MAX_WARM warm stacks of the threads' caches and of
 * the free lists, which are LIFO, so those are the most recently used,
 * and trims the rest, at most @budget of them. The caches are their
 * threads' own: they count first, and are never trimmed. A batch goes on
 * where the previous one stopped, without walking what that one walked:
 * walking the whole list per batch cost a million-deep cancel's unwind a
 * walk of a million cold entries every 25 ms. */
static void
stack_pool_trim_unlocked (guint budget)
{
  GHashTableIter iter;
  gpointer list;
  guint warm = kaa_stack_cache_count_unlocked ();

  if (trim_cursor != NULL)
    {
      /* The warm ones are before it. */
      warm = POOL_MAX_WARM;
      trim_cursor = stack_trim_list_unlocked (trim_cursor->next_free, &warm, &budget);
      return;
    }
  trim_cursor = stack_trim_list_unlocked (default_free, &warm, &budget);
  if (trim_cursor != NULL || free_lists == NULL)
    return;
  /* Other sizes are rare: no batches there, the budget is a bound. */
  budget = G_MAXUINT;
  g_hash_table_iter_init (&iter, free_lists);
  while (g_hash_table_iter_next (&iter, NULL, &list))
    stack_trim_list_unlocked (list, &warm, &budget);
}

/* The caches are not counted: a trim keeps them anyway. Relaxed: a free
 * that misses the change takes the other path once, harmlessly. */
static void
stack_note_trim_unlocked (void)
{
  __atomic_store_n (&kaa_stack_trim_pending, n_pooled - n_trimmed > POOL_MAX_WARM,
                    __ATOMIC_RELAXED);
}

/**
 * kaa_stack_free:
 * @stack: (transfer full): a stack from kaa_stack_new()
 *
 * Returns @stack to the calling thread's cache if it has the default size
 * and the cache has room, else to the pool. Past %POOL_MAX_WARM pooled
 * stacks that still hold their pages, an idle main loop gives the pages
 * back to the kernel later (kaa_stack_pool_trim_idle()); the address
 * range stays reserved for the next stack of this size.
 */
void
kaa_stack_free (KaaStack *stack)
{
  g_atomic_int_set (&stack->live, FALSE);
  kaa_live_add (KAA_LIVE_STACK, -1);
  KAA_VALGRIND_MAKE_MEM_NOACCESS (kaa_stack_get_base (stack), kaa_stack_get_span (stack));
  if (stack->chunk->stack_size == KAA_FIBER_DEFAULT_STACK_SIZE &&
      kaa_stack_cache_push (stack))
    return;

  pthread_mutex_lock (&pool_lock);
  kaa_stack_release_unlocked (stack);
  pthread_mutex_unlock (&pool_lock);
}

/**
 * kaa_stack_pool_get_next_trim:
 *
 * Lock-free, for a main loop about to sleep: when the next trim batch may
 * run. Only meaningful while kaa_stack_pool_trim_is_pending().
 *
 * Returns: a time of g_get_monotonic_time()
 */
gint64
kaa_stack_pool_get_next_trim (void)
{
  return __atomic_load_n (&next_trim, __ATOMIC_RELAXED);
}

/**
 * kaa_stack_pool_trim_idle:
 * @now: g_get_monotonic_time(), or a main loop's time of the iteration
 *
 * The hook of the main loops (layer 2 and up), called when one has just
 * slept with nothing to do: if a trim is pending and its time has come,
 * gives back the pages of one batch of pooled stacks, and sets the time
 * of the next. Any thread, any loop: whichever comes first trims.
 */
void
kaa_stack_pool_trim_idle (gint64 now)
{
  guint trimmed;

  if (!kaa_stack_pool_trim_is_pending () || now < kaa_stack_pool_get_next_trim ())
    return;
  pthread_mutex_lock (&pool_lock);
  if (n_pooled - n_trimmed > POOL_MAX_WARM && now >= next_trim)
    {
      trimmed = n_trimmed;
      stack_pool_trim_unlocked (TRIM_BATCH);
      /* Not done: the next batch a little later. */
      __atomic_store_n (&next_trim,
                        now + (n_pooled - n_trimmed > POOL_MAX_WARM
                               ? TRIM_AGAIN_USEC : TRIM_INTERVAL_USEC),
                        __ATOMIC_RELAXED);
      stack_note_trim_unlocked ();
      /* Nothing left that a batch could trim (a madvise() that fails):
       * no loop should wake for it again until the next release. */
      if (n_trimmed == trimmed)
        __atomic_store_n (&kaa_stack_trim_pending, FALSE, __ATOMIC_RELAXED);
    }
  pthread_mutex_unlock (&pool_lock);
}

/* A stack no longer live, or out of a thread's cache, back on its free
 * list. */
void
kaa_stack_release_unlocked (KaaStack *stack)
{
  n_taken--;
  n_pooled++;
  stack->released = TRUE;
  stack_push_free_unlocked (stack);
  stack_note_trim_unlocked ();
}

/* For the threads' caches (kaa-fiber-stack-cache.c), which keep their
 * list under the pool's lock. */
void
kaa_stack_pool_lock (void)
{
  pthread_mutex_lock (&pool_lock);
}

void
kaa_stack_pool_unlock (void)
{
  pthread_mutex_unlock (&pool_lock);
}

/* Gives the pages of pooled stacks beyond POOL_MAX_WARM back to the
 * kernel now (the ones deepest in the free lists: the longest unused). */
void
kaa_stack_pool_trim_for_testing (void)
{
  pthread_mutex_lock (&pool_lock);
  /* A batched trim under way first, then from the head. */
  stack_pool_trim_unlocked (G_MAXUINT);
  stack_pool_trim_unlocked (G_MAXUINT);
  __atomic_store_n (&next_trim, g_get_monotonic_time () + TRIM_INTERVAL_USEC,
                    __ATOMIC_RELAXED);
  stack_note_trim_unlocked ();
  pthread_mutex_unlock (&pool_lock);
}

/* Makes the overflow report of @stack name @func, the body of the code
 * that runs on it, instead of the name it was made with. */
void
kaa_stack_name_after (KaaStack  *stack,
                      KaaFiberCode  func)
{
  stack->body = func;
}

/* The size asked for, rounded to pages: at least this much is usable
 * below kaa_stack_get_top(). */
gsize
kaa_stack_get_size (KaaStack *stack)
{
  return stack->chunk->stack_size;
}

void
kaa_stack_pool_get_stats_for_testing (KaaStackPoolStats *stats)
{
  guint cached;

  pthread_mutex_lock (&pool_lock);
  cached = kaa_stack_cache_count_unlocked ();
  stats->n_chunks = n_chunks;
  stats->n_live = n_taken - cached;
  stats->n_pooled = n_pooled + cached;
  stats->n_cached = cached;
  stats->n_trimmed = n_trimmed;
  stats->guard_madvise = guard_mode == GUARD_MADVISE;
  pthread_mutex_unlock (&pool_lock);
}

void
kaa_stack_pool_set_map_limit_for_testing (guint limit,
                                          guint reserve)
{
  pthread_mutex_lock (&pool_lock);
  kaa_stack_maps_set_limit_unlocked (limit, reserve);
  pthread_mutex_unlock (&pool_lock);
}
