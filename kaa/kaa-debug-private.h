/* kaa-debug-private.h: what the KAA_DEBUG switches need at run time (layer 0)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The switches are parsed once, when the library is loaded
 * (kaa-live.c); this is what the layers above call while they run:
 * the slow-slice clock and the names of functions in reports.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* slow-slice=MS, in µs; 0 when off. */
G_GNUC_INTERNAL extern gint64 kaa_debug_slow_slice_us;
/* Non-zero when slow-slice or a Sysprof capture (kaa-trace-private.h)
 * wants coroutine slices timed: the one load the slice path makes. */
G_GNUC_INTERNAL extern gint kaa_debug_timed;

/* A stretch of time on the main loop (a coroutine's slice, a callback),
 * on the caller's C stack. Spans nest: a callback run inside a slice is
 * its own span, and the slice's time leaves it out, so the slow one is
 * named, not the one around it. */
typedef struct _KaaDebugSpan KaaDebugSpan;
struct _KaaDebugSpan
{
  gint64        start;
  gint64        nested;   /* µs spent in spans inside this one */
  KaaDebugSpan *outer;
};

void    kaa_debug_span_begin (KaaDebugSpan *span);
/* The span's own time in µs, nested spans left out. */
gint64  kaa_debug_span_end   (KaaDebugSpan *span);

/* "held the main loop for N ms" warning for @what ("coroutine",
 * "callback of InProgress") named @name, with @func named by
 * kaa_debug_dup_func_name() and the place it was started when known. */
void    kaa_debug_report_slow (const char *what,
                               const char *name,
                               gpointer    func,
                               const char *file,
                               gint        line,
                               gint64      us);

/* @func by its symbol, or its file and offset as backtrace_symbols()
 * would put it (static functions are not in the dynamic symbol table;
 * addr2line turns the offset into a line), or its address. */
char   *kaa_debug_dup_func_name (gpointer func) G_GNUC_WARN_UNUSED_RESULT;

/* Set by the layer that can describe what is alive (the live dump), run
 * at exit by KAA_DEBUG=leaks and dump. */
extern void (*kaa_debug_exit_report) (void);

G_END_DECLS
