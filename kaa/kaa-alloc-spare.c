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
 *
 * A burst (thousands of coroutines ending in one iteration) frees far
 * more than a few: each free() past them cost some 165 instructions of
 * glibc's coalescing with the neighbouring chunks, a fifth of a
 * coroutine's end among 10 000 (issue #20). A thread whose main loop
 * runs libkaa's scheduler, and so trims when it has nothing to do, keeps
 * those too, up to
 * KAA_SPARE_SURPLUS_MAX of each kind: the next burst of spawns takes
 * them back, and an idle loop hands them to free() a batch at a time
 * (kaa_spare_trim_idle(), from kaa-scheduler-trim.c), as it trims the
 * stack pool. Other threads, thread-pool workers among them, keep only
 * the few: nothing would ever trim theirs.
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

/* An idle trim gives this many of each kind back, about 0.3 ms of
 * free(); the rest waits for the loop's next idle wake-up. */
#define SURPLUS_TRIM_BATCH 4096

KAA_THREAD_LOCAL KaaSpares *kaa_thread_spares;
KAA_THREAD_LOCAL gboolean   kaa_spare_surplus_kept;
/* Set once the spares are gone at thread exit: a block freed later (by
 * another exit handler) goes straight to free(). */
static KAA_THREAD_LOCAL gboolean thread_spares_closed;
/* Set by kaa_spare_keep_surplus(): this thread's main loop trims. */
static KAA_THREAD_LOCAL gboolean thread_keeps_surplus;

static void
spare_block_free (gpointer block,
                  gsize    size)
{
  ASAN_UNPOISON_MEMORY_REGION (block, size);
  g_free (block);
}

/* Gives at most @max of the surplus of @spares back to malloc(), the
 * last kept first; the list goes with the last of them. */
static void
spares_trim_surplus (KaaSpares *spares,
                     guint      max)
{
  for (guint i = 0; i < max && spares->n_surplus > 0; i++)
    spare_block_free (spares->surplus[--spares->n_surplus], spares->block_size);
  if (spares->n_surplus == 0)
    {
      g_clear_pointer (&spares->surplus, g_free);
      spares->surplus_size = 0;
    }
}

static void
spares_free (gpointer data)
{
  KaaSpares *spares = data;

  for (guint kind = 0; kind < KAA_N_SPARE_KINDS; kind++)
    {
      while (spares[kind].len > 0)
        spare_block_free (spares[kind].blocks[--spares[kind].len], spares[kind].block_size);
      spares_trim_surplus (&spares[kind], G_MAXUINT);
    }
  kaa_thread_spares = NULL;
  kaa_spare_surplus_kept = FALSE;
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

  if (spares == NULL || (spares[kind].len == 0 && spares[kind].n_surplus == 0))
    return kaa_alloc0 (size);
  g_assert (spares[kind].block_size == size);
  if (spares[kind].len > 0)
    block = spares[kind].blocks[--spares[kind].len];
  else
    block = spares[kind].surplus[--spares[kind].n_surplus];
  ASAN_UNPOISON_MEMORY_REGION (block, size);
  KAA_VALGRIND_MAKE_MEM_UNDEFINED (block, size);
  return memset (block, 0, size);
}

/* Keeps @block past the few of @spares, if this thread's loop trims and
 * the surplus has room. */
static gboolean
spares_keep_surplus (KaaSpares *spares,
                     gpointer   block)
{
  if (!thread_keeps_surplus || spares->n_surplus == KAA_SPARE_SURPLUS_MAX)
    return FALSE;
  if (spares->n_surplus == spares->surplus_size)
    {
      spares->surplus_size = MAX (64, 2 * spares->surplus_size);
      spares->surplus = g_renew (gpointer, spares->surplus, spares->surplus_size);
    }
  spares->surplus[spares->n_surplus++] = block;
  kaa_spare_surplus_kept = TRUE;
  return TRUE;
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
  if (spares == NULL)
    {
      g_free (block);
      return;
    }
  if (spares[kind].block_size == 0)
    spares[kind].block_size = size;
  g_assert (spares[kind].block_size == size);
  if (spares[kind].len < KAA_SPARE_BLOCKS)
    spares[kind].blocks[spares[kind].len++] = block;
  else if (!spares_keep_surplus (&spares[kind], block))
    {
      g_free (block);
      return;
    }
  ASAN_POISON_MEMORY_REGION (block, size);
  KAA_VALGRIND_MAKE_MEM_NOACCESS (block, size);
}

/**
 * kaa_spare_keep_surplus:
 *
 * Says the calling thread runs a main loop that trims when idle (layer 2,
 * the first time a thread runs a scheduler's context): from now on it
 * keeps what a burst frees past the few, until kaa_spare_trim_idle().
 */
void
kaa_spare_keep_surplus (void)
{
  thread_keeps_surplus = TRUE;
}

/**
 * kaa_spare_trim_idle:
 *
 * The calling thread's main loop has had nothing to do: one batch of its
 * surplus goes back to malloc(). The flag stays set while some is left.
 */
void
kaa_spare_trim_idle (void)
{
  KaaSpares *spares = kaa_thread_spares;
  gboolean kept = FALSE;

  if (spares == NULL)
    return;
  for (guint kind = 0; kind < KAA_N_SPARE_KINDS; kind++)
    {
      spares_trim_surplus (&spares[kind], SURPLUS_TRIM_BATCH);
      kept |= spares[kind].n_surplus > 0;
    }
  kaa_spare_surplus_kept = kept;
}

/* The blocks of @kind the calling thread keeps past the few. */
guint
kaa_spare_get_surplus_for_testing (KaaSpareKind kind)
{
  return kaa_thread_spares != NULL ? kaa_thread_spares[kind].n_surplus : 0;
}
