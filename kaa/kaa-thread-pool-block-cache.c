/* kaa-thread-pool-block-cache.c: freed blocks kept for reuse
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * See kaa-thread-pool-block-cache-private.h for why. One lock per cache:
 * the blocks of a thread job are allocated and freed on its owner thread nearly
 * always, so the lock is uncontended and its line stays with that thread.
 */
#include "config.h"

#include <string.h>

#include "kaa-alloc-private.h"
#include "kaa-thread-pool-block-cache-private.h"
#include "kaa-valgrind-private.h"

#define CACHE_BYPASS (KAA_ASAN || KAA_ON_VALGRIND)

/* A cached block is filled with 0xdb bytes past its link: a late use of
 * it reads garbage that stands out (a pointer no system maps, a negative
 * count, which KaaInProgress reports) instead of a plausible stale
 * object. Outside the lock, which the other threads of the pool may
 * want meanwhile: a block that then finds the cache full was poisoned
 * for nothing, which is rare and cheap. block_size was fixed by the
 * allocation of this very block. */
static void
block_poison (KaaBlockCache *cache,
              gpointer       block)
{
  memset ((guint8 *) block + sizeof (gpointer), KAA_BLOCK_CACHE_POISON,
          cache->block_size - sizeof (gpointer));
}

gpointer
kaa_block_cache_alloc0 (KaaBlockCache *cache,
                        gsize          size)
{
  gpointer block = NULL;

  if (!CACHE_BYPASS)
    {
      g_mutex_lock (&cache->lock);
      g_assert (cache->block_size == 0 || cache->block_size == size);
      if (cache->head != NULL)
        {
          block = cache->head;
          cache->head = *(gpointer *) block;
          cache->n_cached--;
          cache->low_water = MIN (cache->low_water, cache->n_cached);
        }
      else if (cache->block_size == 0)
        cache->block_size = size;   /* once: block_poison() reads it unlocked */
      g_mutex_unlock (&cache->lock);
    }
  if (block == NULL)
    block = g_malloc (size);
  return memset (block, 0, size);
}

void
kaa_block_cache_free (KaaBlockCache *cache,
                      gpointer       block)
{
  if (!CACHE_BYPASS)
    {
      block_poison (cache, block);
      g_mutex_lock (&cache->lock);
      if ((gsize) cache->n_cached * cache->block_size < KAA_BLOCK_CACHE_MAX_BYTES)
        {
          *(gpointer *) block = cache->head;
          cache->head = block;
          cache->n_cached++;
          block = NULL;
        }
      g_mutex_unlock (&cache->lock);
    }
  g_free (block);
}

guint
kaa_block_cache_decay (KaaBlockCache *cache,
                       gint64         now,
                       gboolean       all)
{
  gpointer list;
  guint n;

  g_mutex_lock (&cache->lock);
  if (!all && cache->window_start != 0 && now - cache->window_start < KAA_BLOCK_CACHE_DECAY_USEC)
    {
      g_mutex_unlock (&cache->lock);
      return 0;
    }
  /* The first call only starts a period. */
  if (all)
    n = cache->n_cached;
  else if (cache->window_start == 0)
    n = 0;
  else
    n = MIN (cache->low_water, cache->n_cached);
  /* The top of the stack is as good as any: the blocks are alike. */
  list = cache->head;
  for (guint i = 0; i < n; i++)
    cache->head = *(gpointer *) cache->head;
  cache->n_cached -= n;
  cache->low_water = cache->n_cached;
  cache->window_start = now;
  g_mutex_unlock (&cache->lock);

  /* The first n blocks of list are ours now; free them unlocked. */
  for (guint i = 0; i < n; i++)
    {
      gpointer next = *(gpointer *) list;

      g_free (list);
      list = next;
    }
  return n;
}

guint
kaa_block_cache_get_n_cached (KaaBlockCache *cache)
{
  guint n;

  g_mutex_lock (&cache->lock);
  n = cache->n_cached;
  g_mutex_unlock (&cache->lock);
  return n;
}
