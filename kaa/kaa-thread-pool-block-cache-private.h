/* kaa-thread-pool-block-cache-private.h: freed blocks kept for reuse (layer 4)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * KaaBlockCache: a stack of freed blocks of one size, for an object made
 * per operation in bursts (a thread job and its InProgress). glibc gives
 * the top of its heap back to the kernel as soon as more than 128 KiB of
 * it is free, so after a burst of 100 000 jobs the next burst faults every
 * page back in, which costs more than the jobs themselves
 * (docs/benchmarks.md). A cache keeps the blocks instead, and gives back
 * the ones that stayed unused through a whole decay period of 10 s, the
 * way jemalloc's dirty-page decay does. Thread-safe. The pool keeps one
 * for its jobs (kaa-thread-pool.c), whose InProgress gives the block back
 * (kaa_in_progress_new_in_block()).
 *
 * A cached block is poisoned, so that a use after free reads garbage that
 * stands out. Under ASan or Valgrind the cache is bypassed: a block goes
 * straight back to malloc, so that a use after free is still caught.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define KAA_BLOCK_CACHE_DECAY_USEC (10 * G_USEC_PER_SEC)
/* The most a cache keeps, in bytes: a burst's worth, not a program's. */
#define KAA_BLOCK_CACHE_MAX_BYTES  (64 * 1024 * 1024)

typedef struct
{
  GMutex   lock;
  gsize    block_size;    /* fixed by the first allocation */
  gpointer head;          /* free blocks, each starting with the next one */
  guint    n_cached;
  guint    low_water;     /* the fewest cached since window_start */
  gint64   window_start;  /* monotonic µs; 0 before the first decay */
} KaaBlockCache;

/* What a block holds while cached, after the link to the next one. */
#define KAA_BLOCK_CACHE_POISON     0xdb

#define KAA_BLOCK_CACHE_INIT { { 0 }, 0, NULL, 0, 0, 0 }

/* A zeroed block of @size bytes; every call on @cache passes the same. */
gpointer kaa_block_cache_alloc0 (KaaBlockCache *cache,
                                 gsize          size);
void     kaa_block_cache_free   (KaaBlockCache *cache,
                                 gpointer       block);
/* Gives back what stayed cached for the whole period since the last call,
 * if that period was at least KAA_BLOCK_CACHE_DECAY_USEC long; @all gives
 * back everything. Returns how many blocks went back to malloc. */
guint    kaa_block_cache_decay  (KaaBlockCache *cache,
                                 gint64         now,
                                 gboolean       all);
guint    kaa_block_cache_get_n_cached (KaaBlockCache *cache);

G_END_DECLS
