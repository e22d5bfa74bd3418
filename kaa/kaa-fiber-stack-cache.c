/* kaa-fiber-stack-cache.c: each thread's few spare stacks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A coroutine that spawns and awaits one coroutine after another frees a
 * stack and takes one back a moment later, on the same thread. Through
 * the shared pool (kaa-fiber-stack.c) that pair costs a lock and an
 * unlock each (and, when frees still trimmed the pool, a clock read on
 * every free for a second after a burst): about 300 of the 1 800
 * instructions of a spawn and await (issue #20). So each thread keeps
 * the last few stacks of the default size it freed and hands them out
 * again first, with no lock. Past a few, a burst's frees go to the pool
 * in batches, one lock for half a cache.
 *
 * A cached stack is pooled, not live: the pool's statistics count it so,
 * and its warm bound counts the caches first (they hold the most
 * recently freed stacks), so a trim returns the pages of the shared free
 * lists only; a thread's cache is small enough to stay warm. When the
 * thread exits its stacks go back to the shared pool.
 *
 * The cache's contents are its thread's alone; the list of caches and
 * the length of each, which the pool reads to count them, are under the
 * pool's lock and atomic respectively.
 */
#include "config.h"

#include <string.h>

#include "kaa-fiber-private.h"

/* Enough for the common pattern (one at a time, or a handful fanned
 * out); a burst of thousands goes through the shared pool. */
#define CACHE_STACKS 16
/* A full cache gives this many, its oldest, to the pool under one lock:
 * the end of a burst of thousands takes the lock once per so many stacks,
 * not once per stack (issue #20, yield-10000). */
#define CACHE_FLUSH  (CACHE_STACKS / 2)

typedef struct _StackCache StackCache;

struct _StackCache
{
  StackCache *next;                  /* under the pool's lock */
  StackCache *prev;
  guint       len;                   /* atomic: written by its thread only */
  KaaStack   *stacks[CACHE_STACKS];  /* its thread only */
};

static KAA_THREAD_LOCAL StackCache *thread_cache;
/* Set once the cache is gone at thread exit: a stack freed later (by
 * another exit handler) goes straight to the pool. */
static KAA_THREAD_LOCAL gboolean    thread_cache_closed;
static StackCache                  *caches;   /* under the pool's lock */

/* Thread exit: the stacks go back to the shared pool, in the same
 * critical section that stops counting them here, so the statistics
 * never see them twice or not at all. */
static void
stack_cache_free (gpointer data)
{
  StackCache *cache = data;

  kaa_stack_pool_lock ();
  if (cache->prev != NULL)
    cache->prev->next = cache->next;
  else
    caches = cache->next;
  if (cache->next != NULL)
    cache->next->prev = cache->prev;
  for (guint i = 0; i < cache->len; i++)
    kaa_stack_release_unlocked (cache->stacks[i]);
  kaa_stack_pool_unlock ();
  thread_cache = NULL;
  thread_cache_closed = TRUE;
  g_free (cache);
}

static GPrivate cache_key = G_PRIVATE_INIT (stack_cache_free);

static StackCache *
stack_cache_new (void)
{
  StackCache *cache = g_new0 (StackCache, 1);

  kaa_stack_pool_lock ();
  cache->next = caches;
  if (caches != NULL)
    caches->prev = cache;
  caches = cache;
  kaa_stack_pool_unlock ();
  g_private_set (&cache_key, cache);
  thread_cache = cache;
  return cache;
}

/* Gives the CACHE_FLUSH oldest stacks of the full @cache back to the
 * shared pool, in the critical section that stops counting them here. */
static void
stack_cache_flush (StackCache *cache)
{
  kaa_stack_pool_lock ();
  for (guint i = 0; i < CACHE_FLUSH; i++)
    kaa_stack_release_unlocked (cache->stacks[i]);
  memmove (cache->stacks, cache->stacks + CACHE_FLUSH,
           (CACHE_STACKS - CACHE_FLUSH) * sizeof *cache->stacks);
  __atomic_store_n (&cache->len, CACHE_STACKS - CACHE_FLUSH, __ATOMIC_RELAXED);
  kaa_stack_pool_unlock ();
}

/**
 * kaa_stack_cache_pop:
 *
 * Returns: (transfer full) (nullable): a stack of the default size the
 *   calling thread freed, or %NULL when it keeps none
 */
KaaStack *
kaa_stack_cache_pop (void)
{
  StackCache *cache = thread_cache;
  guint len;

  if (cache == NULL || (len = cache->len) == 0)
    return NULL;
  /* Relaxed: only the pool's counts read it, and they are exact only
   * once the threads they count are quiet. */
  __atomic_store_n (&cache->len, len - 1, __ATOMIC_RELAXED);
  return cache->stacks[len - 1];
}

/**
 * kaa_stack_cache_push:
 * @stack: (transfer full): a stack of the default size, no longer live
 *
 * Keeps @stack for the calling thread's next kaa_stack_cache_pop(); a
 * full cache first gives its oldest half to the shared pool.
 *
 * Returns: %FALSE if its thread is exiting: then the stack is still the
 *   caller's
 */
gboolean
kaa_stack_cache_push (KaaStack *stack)
{
  StackCache *cache = thread_cache;

  if (G_UNLIKELY (cache == NULL))
    {
      if (thread_cache_closed)
        return FALSE;
      cache = stack_cache_new ();
    }
  if (cache->len == CACHE_STACKS)
    stack_cache_flush (cache);
  cache->stacks[cache->len] = stack;
  __atomic_store_n (&cache->len, cache->len + 1, __ATOMIC_RELAXED);
  return TRUE;
}

/* Under the pool's lock: the stacks all threads' caches hold. */
guint
kaa_stack_cache_count_unlocked (void)
{
  guint n = 0;

  for (StackCache *cache = caches; cache != NULL; cache = cache->next)
    n += __atomic_load_n (&cache->len, __ATOMIC_RELAXED);
  return n;
}
