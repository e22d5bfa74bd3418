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

#include "kaa-valgrind-private.h"

G_BEGIN_DECLS

/* Built with AddressSanitizer (GCC's flag or Clang's feature): what the
 * library allocates and reuses itself is then annotated, or left to
 * malloc(). */
#if defined (__SANITIZE_ADDRESS__)
# define KAA_ASAN 1
#elif defined (__has_feature)
# if __has_feature (address_sanitizer)
#  define KAA_ASAN 1
# endif
#endif
#ifndef KAA_ASAN
# define KAA_ASAN 0
#endif

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

/* kaa-alloc-spare.c: each thread keeps a few freed blocks of each kind
 * made per operation, and hands them out again first. A block of a kind
 * goes back with kaa_spare_free() of that kind, on any thread. The common
 * cases are inline, so that the zeroing has a size known at compile time;
 * under AddressSanitizer or Valgrind every call takes the annotated path
 * of kaa-alloc-spare.c. */
typedef enum
{
  KAA_SPARE_IN_PROGRESS,
  KAA_SPARE_COROUTINE,     /* a coroutine and its fiber */
  KAA_N_SPARE_KINDS,
} KaaSpareKind;

/* As many as a thread's stack cache holds stacks (kaa-fiber-stack-cache.c):
 * a spawn right after a finish reuses all three. */
#define KAA_SPARE_BLOCKS 16

/* A thread whose main loop trims (kaa_spare_keep_surplus()) keeps, past
 * those, at most this many more of each kind a burst freed, until its
 * loop has nothing to do (kaa_spare_trim_idle()). */
#define KAA_SPARE_SURPLUS_MAX 16384

typedef struct
{
  guint     len;
  gsize     block_size;   /* fixed by the first block: they are all alike */
  gpointer  blocks[KAA_SPARE_BLOCKS];
  guint     n_surplus;
  guint     surplus_size; /* the length of @surplus, allocated */
  gpointer *surplus;
} KaaSpares;

/* The calling thread's, KAA_N_SPARE_KINDS of them, or NULL before its
 * first free and after its exit. */
G_GNUC_INTERNAL extern KAA_THREAD_LOCAL KaaSpares *kaa_thread_spares;

#define kaa_spare_annotated (KAA_ASAN || kaa_valgrind_running)

/* Set when the calling thread puts a block in its surplus, cleared by
 * the idle trim that finds it empty (spawns may have taken it all back
 * meanwhile): while set, its main loop times its idle iterations to give
 * the surplus back to malloc() (layer 2 reads it in an idle iteration,
 * like the stack pool's flag). */
G_GNUC_INTERNAL extern KAA_THREAD_LOCAL gboolean kaa_spare_surplus_kept;

static inline gboolean
kaa_spare_trim_is_pending (void)
{
  return kaa_spare_surplus_kept;
}

G_GNUC_INTERNAL
void     kaa_spare_keep_surplus (void);
G_GNUC_INTERNAL
void     kaa_spare_trim_idle    (void);
G_GNUC_INTERNAL
guint    kaa_spare_get_surplus_for_testing (KaaSpareKind kind);

G_GNUC_INTERNAL
gpointer kaa_spare_alloc0_slow (KaaSpareKind kind,
                                gsize        size) G_GNUC_WARN_UNUSED_RESULT;
G_GNUC_INTERNAL
void     kaa_spare_free_slow   (KaaSpareKind kind,
                                gpointer     block,
                                gsize        size);

/* @size zeroed bytes for @kind, the same size on every call. */
static inline gpointer
kaa_spare_alloc0 (KaaSpareKind kind,
                  gsize        size)
{
  KaaSpares *spares = kaa_thread_spares;

  if (G_UNLIKELY (spares == NULL || spares[kind].len == 0 || kaa_spare_annotated))
    return kaa_spare_alloc0_slow (kind, size);
  return memset (spares[kind].blocks[--spares[kind].len], 0, size);
}

/* Keeps @block, from kaa_spare_alloc0() for @kind, for the calling
 * thread's next allocation of @kind, or frees it. */
static inline void
kaa_spare_free (KaaSpareKind kind,
                gpointer     block,
                gsize        size)
{
  KaaSpares *spares = kaa_thread_spares;

  if (G_UNLIKELY (spares == NULL || spares[kind].len == KAA_SPARE_BLOCKS ||
                  spares[kind].block_size != size || kaa_spare_annotated))
    {
      kaa_spare_free_slow (kind, block, size);
      return;
    }
  spares[kind].blocks[spares[kind].len++] = block;
}

G_END_DECLS
