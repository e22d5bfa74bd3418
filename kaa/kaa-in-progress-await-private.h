/* kaa-in-progress-await-private.h: awaiting an InProgress on someone's behalf (layer 3)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "kaa-in-progress-private.h"

G_BEGIN_DECLS

/* One awaiter of @awaited: what a coroutine suspended in an await, a
 * kaa_any/kaa_all input, a kaa_timeout input and a finish_from or shield
 * source embed (by value), so the
 * cascade's rules (DESIGN §6) are written once, in kaa-in-progress-await.c.
 * The link does not own @awaited: its holder keeps a reference for as long
 * as it uses the link. Zeroed, a link is not counted and does nothing. */
typedef struct
{
  KaaInProgress *awaited;
  gulong         id;       /* the callback; a stale id is harmless */
  gint           counted;  /* atomic: one of @awaited's awaiters */
  gboolean       paused;   /* owner thread: the link paused @awaited */
} KaaAwaitLink;

/* Counts the link as one awaiter of @awaited, then connects @callback to
 * it. _count() and _connect() are the two halves, for a holder that must
 * be complete before a callback from another thread may reach it. */
void kaa_await_link_start   (KaaAwaitLink          *link,
                             KaaInProgress         *awaited,
                             KaaInProgressCallback  callback,
                             gpointer               user_data,
                             GDestroyNotify         destroy);
void kaa_await_link_count   (KaaAwaitLink          *link,
                             KaaInProgress         *awaited);
void kaa_await_link_connect (KaaAwaitLink          *link,
                             KaaInProgressCallback  callback,
                             gpointer               user_data,
                             GDestroyNotify         destroy);
/* Owner thread of the holder. */
void kaa_await_link_pause   (KaaAwaitLink          *link);
void kaa_await_link_resume  (KaaAwaitLink          *link);
void kaa_await_link_cancel  (KaaAwaitLink          *link);
/* Any thread; only the first call after a start does anything. */
void kaa_await_link_detach  (KaaAwaitLink          *link);
/* Any thread: like _detach(), but cancels @awaited when the link was
 * its last awaiter (a combinator that cancels its losers). */
void kaa_await_link_detach_cancelling (KaaAwaitLink    *link);
/* @awaited was handed to someone who gives up on it at once, never
 * linked: cancelled unless someone else awaits it. */
void kaa_await_link_abandon (KaaInProgress         *awaited);

/* For the stress test's model only. */
guint kaa_in_progress_get_awaiters_for_testing (KaaInProgress *self);

G_END_DECLS
