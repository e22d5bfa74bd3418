/* kaa-in-progress-refs.c: catching an unref too many
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * DESIGN §2: an unref too many, or a use after the last unref, is
 * reported with a critical naming the InProgress, never silent
 * corruption. Finalize leaves a tombstone in the freed block: a negative
 * reference count (KAA_REF_COUNT_FREED) and a name that is static or
 * NULL. The count sits past the 16 bytes where malloc and the block cache
 * link their free blocks, so every later ref or unref reads a count at or
 * below zero, as long as the memory was not handed out again: by default
 * the check is a best effort that costs one comparison on the paths that
 * already read the count.
 *
 * With KAA_DEBUG=refs, a freed InProgress is not freed: it is poisoned
 * (0xdb bytes) but for its tombstone and its name, and kept in a FIFO of
 * the last QUARANTINE_SIZE ones, so that a late unref of any of them is
 * always caught and named. Any thread may finalize, so the FIFO has a
 * lock; it is taken only when the debug flag is on.
 */
#include "config.h"

#include <string.h>

#include "kaa-live-private.h"

#include "kaa-in-progress-impl-private.h"

/* 4096 InProgresses of about 200 bytes: under a megabyte, and many
 * thousands of operations between a free and its late unref. */
#define QUARANTINE_SIZE 4096
#define POISON_BYTE     0xdb

static GMutex         quarantine_lock;
static KaaInProgress *quarantine[QUARANTINE_SIZE];   /* under quarantine_lock */
static guint          quarantine_next;               /* under quarantine_lock */

/* @function found the count of @self at or below zero, and undid its own
 * change to it. */
void
kaa_in_progress_report_freed (KaaInProgress *self,
                              const char    *function)
{
  /* Only an intact tombstone vouches for the name: otherwise the memory
   * is poisoned in a cache, or someone else's. */
  if (__atomic_load_n (&self->ref_count, __ATOMIC_RELAXED) == KAA_REF_COUNT_FREED)
    g_critical ("%s: InProgress %s (%p) was already freed: this is an unref too many, "
                "or a use after its last unref",
                function, in_progress_name (self), self);
  else
    g_critical ("%s: InProgress %p was already freed: this is an unref too many, or a use "
                "after its last unref (run with KAA_DEBUG=refs to learn its name)",
                function, self);
}

gboolean
kaa_in_progress_check_alive (KaaInProgress *self,
                             const char    *function)
{
  if (!in_progress_is_freed (self))
    return TRUE;
  if (function != NULL)
    kaa_in_progress_report_freed (self, function);
  return FALSE;
}

/* Keeps @self allocated, poisoned, with its tombstone and name; frees
 * the oldest one kept, if the FIFO is full. */
void
kaa_in_progress_quarantine (KaaInProgress *self)
{
  const char *name = self->name;
  char *owned_name = self->owned_name;
  const char *producer_kind = self->producer_kind;
  gint cached = g_atomic_int_get (&self->flags) & FLAG_OWN_BLOCK;
  KaaInProgress *evicted;

  memset (self, POISON_BYTE, sizeof *self);
  self->name = name;
  self->owned_name = owned_name;
  self->producer_kind = producer_kind;
  self->flags = cached;
  __atomic_store_n (&self->ref_count, KAA_REF_COUNT_FREED, __ATOMIC_RELAXED);
  __atomic_store_n (&self->state, STATE_FREED, __ATOMIC_RELAXED);

  g_mutex_lock (&quarantine_lock);
  evicted = quarantine[quarantine_next];
  quarantine[quarantine_next] = self;
  quarantine_next = (quarantine_next + 1) % QUARANTINE_SIZE;
  g_mutex_unlock (&quarantine_lock);

  if (evicted != NULL)
    {
      g_free (evicted->owned_name);
      kaa_in_progress_free_block (evicted);
    }
}
