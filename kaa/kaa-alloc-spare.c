/* kaa-alloc-spare.c: each thread's few spare blocks of the kinds made per operation
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * An InProgress, and a coroutine with its fiber, are each one allocation
 * of a fixed size. A thread that spawns and awaits one coroutine after
 * another frees one of each and allocates one of each a moment later;
 * the malloc() and free() of such a pair cost over a hundred instructions
 * of a spawn and await (issue #20), a pop and push here a tenth of that.
 * So each thread keeps the last few blocks of each kind it freed, and an
 * allocation of that kind takes one of those first. A block is kept by
 * the thread that frees it: for a coroutine nearly always the thread that
 * made it; an InProgress may go on any thread, whose spares then hold it.
 *
 * A spare block is no object: the live counts count it out when it is
 * freed and in when it is handed out again, zeroed as kaa_alloc0() would.
 * Its bytes are left as they were, so an InProgress's tombstone
 * (kaa-in-progress.c) still catches an unref too many until the block is
 * handed out again. Under AddressSanitizer and Memcheck a spare block is
 * out of bounds, so such a use is reported there. The blocks go to
 * free() when their thread exits. Everything here is its thread's own:
 * no lock, no atomic.
 */
#include "config.h"

#include <string.h>

#include "kaa-alloc-private.h"
#include "kaa-valgrind-private.h"

#if KAA_ASAN
# include <sanitizer/asan_interface.h>
#else
# define ASAN_POISON_MEMORY_REGION(addr, size) ((void) (addr), (void) (size))
# define ASAN_UNPOISON_MEMORY_REGION(addr, size) ((void) (addr), (void) (size))
#endif

KAA_THREAD_LOCAL KaaSpares *kaa_thread_spares;
/* Set once the spares are gone at thread exit: a block freed later (by
 * another exit handler) goes straight to free(). */
static KAA_THREAD_LOCAL gboolean thread_spares_closed;

static void
spares_free (gpointer data)
{
  KaaSpares *spares = data;

  for (guint kind = 0; kind < KAA_N_SPARE_KINDS; kind++)
    while (spares[kind].len > 0)
      {
        gpointer block = spares[kind].blocks[--spares[kind].len];

        ASAN_UNPOISON_MEMORY_REGION (block, spares[kind].block_size);
        g_free (block);
      }
  kaa_thread_spares = NULL;
  thread_spares_closed = TRUE;
  g_free (spares);
}

static GPrivate spares_key = G_PRIVATE_INIT (spares_free);

/* kaa_spare_alloc0()'s other cases: no spare block, or one to unpoison. */
gpointer
kaa_spare_alloc0_slow (KaaSpareKind kind,
                       gsize        size)
{
  KaaSpares *spares = kaa_thread_spares;
  gpointer block;

  if (spares == NULL || spares[kind].len == 0)
    return kaa_alloc0 (size);
  g_assert (spares[kind].block_size == size);
  block = spares[kind].blocks[--spares[kind].len];
  ASAN_UNPOISON_MEMORY_REGION (block, size);
  KAA_VALGRIND_MAKE_MEM_UNDEFINED (block, size);
  return memset (block, 0, size);
}

/* kaa_spare_free()'s other cases: the thread's first free, a full kind, a
 * thread that exited, or a block to poison. */
void
kaa_spare_free_slow (KaaSpareKind kind,
                     gpointer     block,
                     gsize        size)
{
  KaaSpares *spares = kaa_thread_spares;

  if (G_UNLIKELY (spares == NULL) && !thread_spares_closed)
    {
      spares = g_new0 (KaaSpares, KAA_N_SPARE_KINDS);
      g_private_set (&spares_key, spares);
      kaa_thread_spares = spares;
    }
  if (spares == NULL || spares[kind].len == KAA_SPARE_BLOCKS)
    {
      g_free (block);
      return;
    }
  if (spares[kind].block_size == 0)
    spares[kind].block_size = size;
  g_assert (spares[kind].block_size == size);
  spares[kind].blocks[spares[kind].len++] = block;
  ASAN_POISON_MEMORY_REGION (block, size);
  KAA_VALGRIND_MAKE_MEM_NOACCESS (block, size);
}
