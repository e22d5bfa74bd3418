/* kaa-trace-private.h: Sysprof marks (layer 0)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Issue 19: libkaa marks coroutine slices, awaits, thread jobs, cascades
 * and the scheduler's dispatch in a Sysprof capture. Whether a capture
 * is active is decided once, when the library is loaded (Sysprof starts
 * the application with SYSPROF_TRACE_FD or SYSPROF_CONTROL_FD set), so
 * that a hot path pays one load of kaa_trace_on while none is; built
 * without sysprof-capture-4 (meson option sysprof), it is always 0.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

G_GNUC_INTERNAL extern gint kaa_trace_on;

#define kaa_trace_is_on() G_UNLIKELY (__atomic_load_n (&kaa_trace_on, __ATOMIC_RELAXED))

/* Sysprof's clock, in ns: where a mark begins. */
gint64 kaa_trace_now  (void);
/* A mark from @begin (kaa_trace_now()) until now, in group "libkaa". */
void   kaa_trace_mark (gint64      begin,
                       const char *name,
                       const char *format,
                       ...) G_GNUC_PRINTF (3, 4);
/* A mark from @begin until @end, both taken earlier (on another thread,
 * for a thread job). */
void   kaa_trace_mark_range (gint64      begin,
                             gint64      end,
                             const char *name,
                             const char *format,
                             ...) G_GNUC_PRINTF (4, 5);

G_END_DECLS
