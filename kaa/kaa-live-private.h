/* kaa-live-private.h: counts of live objects, for leak accounting (layer 0)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every kind of object libkaa allocates per operation counts itself in
 * and out here. Tests read the totals to prove that a scenario leaves
 * nothing behind; KAA_DEBUG=leaks prints them when the process exits.
 * Counting is a plain add to a per-thread slot, so it costs next to
 * nothing on the hot paths.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  KAA_LIVE_IN_PROGRESS,
  KAA_LIVE_COROUTINE,
  KAA_LIVE_STACK,
  KAA_LIVE_THREAD_JOB,
  KAA_LIVE_TIMER,
  KAA_LIVE_N_KINDS,
} KaaLiveKind;

typedef struct
{
  gint64 count[KAA_LIVE_N_KINDS];
} KaaLiveSlot;

/* The calling thread's slot; only this thread writes it, others read.
 * Release stores, acquire loads: a reader that sees one count change
 * sees every change the thread made before it (a job counted gone has
 * dropped its InProgress, kaa-thread-pool-job.c). Plain moves on x86. */
extern KAA_THREAD_LOCAL KaaLiveSlot *kaa_live_slot;

KaaLiveSlot *kaa_live_slot_new (void);

static inline void
kaa_live_add (KaaLiveKind kind,
              gint64      delta)
{
  KaaLiveSlot *slot = kaa_live_slot;

  if (G_UNLIKELY (slot == NULL))
    slot = kaa_live_slot_new ();
  __atomic_store_n (&slot->count[kind],
                    __atomic_load_n (&slot->count[kind], __ATOMIC_RELAXED) + delta,
                    __ATOMIC_RELEASE);
}

/* The number alive now, summed over every thread, past and present. */
gint64       kaa_live_get      (KaaLiveKind kind);

/* KAA_DEBUG, a comma-separated list like G_DEBUG, read once when the
 * library is loaded (kaa-live.c): `leaks` prints the live counts and
 * what is alive at exit, `dump` the live dump at exit, `refs`
 * quarantines freed InProgresses (kaa-in-progress-refs.c), `unhandled`
 * keeps where each InProgress was made for the unhandled-failure
 * warning, `slow-slice=MS` (kaa-debug-private.h) names slow slices. */
typedef enum
{
  KAA_DEBUG_LEAKS     = 1 << 0,
  KAA_DEBUG_REFS      = 1 << 1,
  KAA_DEBUG_DUMP      = 1 << 2,
  KAA_DEBUG_UNHANDLED = 1 << 3,
  KAA_DEBUG_SLOW      = 1 << 4,   /* slow-slice=MS */
  /* Not a switch: every new InProgress goes into the dump's registry
   * (set by leaks, dump and unhandled, or by kaa_dump_track_all()). */
  KAA_DEBUG_TRACK_ALL = 1 << 5,
} KaaDebugFlags;

/* Read with kaa_debug_get(): kaa_dump_track_all() may set a bit while
 * other threads run. */
G_GNUC_INTERNAL extern guint kaa_debug_flags;

static inline guint
kaa_debug_get (void)
{
  return __atomic_load_n (&kaa_debug_flags, __ATOMIC_RELAXED);
}


G_END_DECLS
