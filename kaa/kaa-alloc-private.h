/* kaa-alloc-private.h: zeroed allocation and layout on the hot paths
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * g_new0() is calloc(), and glibc's calloc() never takes a chunk from the
 * per-thread cache (tcache): every call goes through the locked arena
 * path, about 200 instructions. malloc() plus a memset() of a size known
 * at compile time (a few vector stores) takes the cache and costs a tenth
 * of that, which matters for the objects made per operation: an
 * InProgress, a coroutine, a fiber, a thread job.
 */
#pragma once

#include <string.h>

#include <glib.h>

G_BEGIN_DECLS

#define kaa_new0(type) ((type *) kaa_alloc0 (sizeof (type)))

/* Where a second struct starts when it shares the allocation of one of
 * @size bytes: the next 16-byte boundary, aligned for anything a struct
 * holds (what malloc() guarantees for the block itself). */
#define KAA_ALLOC_TAIL_OFFSET(size) (((gsize) (size) + 15) & ~(gsize) 15)

/* Keeps the fields on either side in different cache lines, whatever the
 * alignment of the allocation: for state written by one thread and read
 * by another, which would otherwise slow down every thread that uses the
 * line for something else (false sharing). 64 bytes covers x86-64 and
 * most aarch64 parts. */
#define KAA_CACHE_LINE_PAD(name) guint8 name[64]

static inline gpointer
kaa_alloc0 (gsize size)
{
  return memset (g_malloc (size), 0, size);
}

G_END_DECLS
