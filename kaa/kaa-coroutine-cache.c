/* kaa-coroutine-cache.c: each thread's few spare coroutine blocks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A coroutine and its fiber share one allocation of a fixed size
 * (kaa_coroutine_start()). A thread that spawns and awaits one coroutine
 * after another frees such a block and allocates one a moment later; the
 * malloc() and free() of that pair cost about 130 instructions of the
 * 1 800 of a spawn and await (issue #20), a list pop and push a tenth of
 * that. So each thread keeps the last few blocks it freed, and a spawn
 * takes one of those first. Only the owner thread of a coroutine frees
 * it, nearly always the thread that made it.
 *
 * A cached block is no coroutine: KAA_LIVE_COROUTINE counts it out when
 * it is freed, as before, and in when it is handed out again, zeroed as
 * kaa_alloc0() would. Under AddressSanitizer and Memcheck a cached block
 * is out of bounds, so a use of a finished coroutine is reported until
 * its block is handed out again. The blocks go to free() when their
 * thread exits. Everything here is its thread's own: no lock, no atomic.
 */
#include "config.h"

#include <string.h>

#include "kaa-alloc-private.h"
#include "kaa-coroutine-private.h"
#include "kaa-valgrind-private.h"

#if defined (__SANITIZE_ADDRESS__)
# define CACHE_ASAN 1
#elif defined (__has_feature)
# if __has_feature (address_sanitizer)
#  define CACHE_ASAN 1
# endif
#endif
#ifndef CACHE_ASAN
# define CACHE_ASAN 0
#endif

#if CACHE_ASAN
# include <sanitizer/asan_interface.h>
#else
# define ASAN_POISON_MEMORY_REGION(addr, size) ((void) (addr), (void) (size))
# define ASAN_UNPOISON_MEMORY_REGION(addr, size) ((void) (addr), (void) (size))
#endif

/* As many as a thread's stack cache holds stacks (kaa-fiber-stack-cache.c):
 * a spawn right after a finish reuses both. */
#define CACHE_BLOCKS 16

typedef struct
{
  guint    len;
  gsize    block_size;   /* fixed by the first block: they are all alike */
  gpointer blocks[CACHE_BLOCKS];
} BlockCache;

static KAA_THREAD_LOCAL BlockCache *thread_cache;
/* Set once the cache is gone at thread exit: a coroutine freed later (by
 * another exit handler) goes straight to free(). */
static KAA_THREAD_LOCAL gboolean    thread_cache_closed;

static void
block_cache_free (gpointer data)
{
  BlockCache *cache = data;

  while (cache->len > 0)
    {
      gpointer block = cache->blocks[--cache->len];

      ASAN_UNPOISON_MEMORY_REGION (block, cache->block_size);
      g_free (block);
    }
  thread_cache = NULL;
  thread_cache_closed = TRUE;
  g_free (cache);
}

static GPrivate cache_key = G_PRIVATE_INIT (block_cache_free);

/**
 * kaa_coroutine_block_alloc0:
 * @size: the bytes of a coroutine and its fiber; the same on every call
 *
 * Returns: (transfer full): @size zeroed bytes, a block the calling
 *   thread freed if it keeps one
 */
gpointer
kaa_coroutine_block_alloc0 (gsize size)
{
  BlockCache *cache = thread_cache;
  gpointer block;

  if (cache == NULL || cache->len == 0)
    return kaa_alloc0 (size);
  g_assert (cache->block_size == size);
  block = cache->blocks[--cache->len];
  ASAN_UNPOISON_MEMORY_REGION (block, size);
  KAA_VALGRIND_MAKE_MEM_UNDEFINED (block, size);
  return memset (block, 0, size);
}

/**
 * kaa_coroutine_block_free:
 * @block: (transfer full): from kaa_coroutine_block_alloc0()
 * @size: its size
 *
 * Keeps @block for the calling thread's next spawn, or frees it.
 */
void
kaa_coroutine_block_free (gpointer block,
                          gsize    size)
{
  BlockCache *cache = thread_cache;

  if (G_UNLIKELY (cache == NULL) && !thread_cache_closed)
    {
      cache = g_new0 (BlockCache, 1);
      cache->block_size = size;
      g_private_set (&cache_key, cache);
      thread_cache = cache;
    }
  if (cache == NULL || cache->len == CACHE_BLOCKS)
    {
      g_free (block);
      return;
    }
  g_assert (cache->block_size == size);
  cache->blocks[cache->len++] = block;
  ASAN_POISON_MEMORY_REGION (block, size);
  KAA_VALGRIND_MAKE_MEM_NOACCESS (block, size);
}
