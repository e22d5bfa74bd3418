/* kaa-gio-private.h: what the GIO bridges share (layer 6)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "kaa-in-progress-private.h"

G_BEGIN_DECLS

/* A bridge's pointer to the InProgress it settles, for a callback (a
 * GSource's, a signal handler) that may run while another thread drops
 * the last reference to that InProgress (issue 17 §4).
 *
 * The InProgress owns its bridge, not the other way round, so that a wait
 * nobody holds any more goes away with its source or handler. The
 * callback therefore owns no reference and must take one before it
 * settles; two things could go wrong:
 *
 *  - the count may already be zero, the InProgress being finalized on
 *    another thread: kaa_in_progress_try_ref() then refuses;
 *  - the memory may be freed under the callback as it tries: finalize
 *    calls the release hook before it frees, and the release hook calls
 *    kaa_bridge_link_release(), which closes the link to new readers and
 *    waits for the ones inside (a few instructions each) to leave.
 *
 * So a reader either gets a real reference, or NULL, and never touches
 * freed memory. The obvious alternative, an armed source holding a
 * strong reference, was rejected: a wait dropped unsettled (the loser of
 * a kaa_any() in a loop) would then keep its fd watch or signal handler
 * until the fd is ready or the signal comes, which may be never.
 *
 * Readers may run on any thread, several at once. No reader calls
 * anything that could reach the release hook while inside, so the wait
 * in kaa_bridge_link_release() always ends. */
typedef struct
{
  KaaInProgress *self;      /* not owned; immutable */
  gint           readers;   /* atomic: LINK_RELEASED | readers inside */
} KaaBridgeLink;

void           kaa_bridge_link_init    (KaaBridgeLink *link,
                                        KaaInProgress *self);
KaaInProgress *kaa_bridge_link_ref     (KaaBridgeLink *link) G_GNUC_WARN_UNUSED_RESULT;
void           kaa_bridge_link_release (KaaBridgeLink *link);

/* Issue 17 §1: cancels a bridge's InProgress when its context dies
 * (kaa-gio-death.c). Made when the bridge starts, on the thread that
 * made @self (NULL where none is needed); released once, from the
 * bridge's release hook, on any thread. */
typedef struct _KaaBridgeDeath KaaBridgeDeath;

KaaBridgeDeath *kaa_bridge_death_new     (KaaInProgress  *self);
void            kaa_bridge_death_release (KaaBridgeDeath *death);

G_END_DECLS
