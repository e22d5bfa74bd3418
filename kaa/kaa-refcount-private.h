/* kaa-refcount-private.h: inline atomic reference counts (layer 0)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * GLib 2.74's g_atomic_ref_count_inc/dec are out-of-line calls that also
 * re-read the count for their checks: on the path that creates, finishes
 * and releases an InProgress they were a third of the time. These are the
 * same operations, inlined, with the memory orders a reference count
 * needs.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef gint KaaRefCount;

static inline void
kaa_ref_count_init (KaaRefCount *rc)
{
  __atomic_store_n (rc, 1, __ATOMIC_RELAXED);
}

/* Taking a reference publishes nothing: the caller already holds one. */
static inline void
kaa_ref_count_inc (KaaRefCount *rc)
{
  __atomic_fetch_add (rc, 1, __ATOMIC_RELAXED);
}

/* Takes a reference unless the count already reached zero (the object is
 * being finalized): for a holder of a pointer that owns no reference, and
 * knows by other means that the memory is still there. Acquire pairs
 * with the release of kaa_ref_count_dec(), as a finalizer's would. */
static inline gboolean
kaa_ref_count_try_inc (KaaRefCount *rc)
{
  gint old = __atomic_load_n (rc, __ATOMIC_RELAXED);

  do
    {
      if (old == 0)
        return FALSE;
    }
  while (!__atomic_compare_exchange_n (rc, &old, old + 1, TRUE,
                                       __ATOMIC_ACQUIRE, __ATOMIC_RELAXED));
  return TRUE;
}

/* Returns TRUE when the last reference went. Release orders this
 * thread's writes before the drop; acquire makes the finalizing thread
 * see every other thread's writes. */
static inline gboolean
kaa_ref_count_dec (KaaRefCount *rc)
{
  return __atomic_fetch_sub (rc, 1, __ATOMIC_ACQ_REL) == 1;
}

/* The checked forms, for objects whose users may release them once too
 * often (KaaInProgress): they return the count as it was before, so that
 * the caller can tell a count at or below zero, a use of an object already
 * freed, from the ordinary cases at no extra cost (the atomic instruction
 * hands the old value back anyway). */
static inline gint
kaa_ref_count_inc_checked (KaaRefCount *rc)
{
  return __atomic_fetch_add (rc, 1, __ATOMIC_RELAXED);
}

static inline gint
kaa_ref_count_dec_checked (KaaRefCount *rc)
{
  return __atomic_fetch_sub (rc, 1, __ATOMIC_ACQ_REL);
}

G_END_DECLS
