/* kaa-fiber-stack-impl-private.h: the stack pool's records, shared by the
 * files of the pool (layer 1) only
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * kaa-fiber-stack.c holds the pool (chunks, free lists, guards, trims);
 * kaa-fiber-stack-overflow.c the SIGSEGV handler that names the coroutine
 * whose stack overflowed, which reads these records without a lock.
 */
#pragma once

#include "kaa-fiber-private.h"

G_BEGIN_DECLS

typedef struct _StackChunk StackChunk;

struct _KaaStack
{
  /* First: kaa_stack_get_base() and the others read it (kaa-fiber-private.h).
   * Immutable once the chunk is published. */
  KaaStackBounds bounds;
  StackChunk   *chunk;
  guint         index;
  /* Atomic: set while handed out; the SIGSEGV handler reports only faults
   * in the guard of a live stack. */
  gint          live;
  /* Borrowed from the fiber, which outlives its use of the stack; written
   * by the owner before the stack is used, read by the handler. */
  const char   *name;
  /* The same: when set, the report names this function instead. */
  KaaFiberCode  body;
  /* Under pool_lock. */
  KaaStack     *next_free;
  gboolean      guarded;
  gboolean      released;    /* back in the pool after use */
  gboolean      trimmed;     /* pages returned to the kernel while pooled */
};

struct _StackChunk
{
  /* Immutable once the chunk is published; `next` links the chunks the
   * overflow handler watches (kaa_stack_overflow_watch_unlocked()). */
  StackChunk *next;
  guint8     *base;
  gsize       slot_size;   /* guard + stack + colour room */
  gsize       guard_size;
  gsize       stack_size;
  guint       n_slots;
  KaaStack    slots[];
};

/* Under the pool's lock, once @chunk is built: its guards are watched
 * from now on; the first chunk installs the handler. */
G_GNUC_INTERNAL
void kaa_stack_overflow_watch_unlocked (StackChunk *chunk);

G_END_DECLS
