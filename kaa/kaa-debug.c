/* kaa-debug.c: the run-time side of the KAA_DEBUG switches
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * slow-slice=MS: the coroutine layer and the InProgress callbacks wrap
 * each slice and each callback in a span when the switch is on (and read
 * one global when it is off). A span's time leaves out the spans nested
 * in it, so that a slow callback run inside a slice is named once, as
 * the callback. Spans are per thread: each main loop has its own.
 */
/* dladdr() and Dl_info. */
#define _GNU_SOURCE
#include "config.h"

#include <dlfcn.h>
#include <string.h>

#include "kaa-debug-private.h"

gint64 kaa_debug_slow_slice_us;
gint kaa_debug_timed;
void (*kaa_debug_exit_report) (void);

static KAA_THREAD_LOCAL KaaDebugSpan *current_span;

void
kaa_debug_span_begin (KaaDebugSpan *span)
{
  span->nested = 0;
  span->outer = current_span;
  current_span = span;
  span->start = g_get_monotonic_time ();
}

gint64
kaa_debug_span_end (KaaDebugSpan *span)
{
  gint64 total = g_get_monotonic_time () - span->start;

  current_span = span->outer;
  if (span->outer != NULL)
    span->outer->nested += total;
  return total - span->nested;
}

char *
kaa_debug_dup_func_name (gpointer func)
{
  Dl_info info;
  const char *file;

  if (func == NULL)
    return NULL;
  if (dladdr (func, &info) == 0 || info.dli_fname == NULL)
    return g_strdup_printf ("%p", func);
  if (info.dli_sname != NULL && info.dli_saddr == func)
    return g_strdup (info.dli_sname);
  file = strrchr (info.dli_fname, '/');
  return g_strdup_printf ("%s+0x%" G_GINTPTR_MODIFIER "x",
                          file != NULL ? file + 1 : info.dli_fname,
                          (guintptr) func - (guintptr) info.dli_fbase);
}

void
kaa_debug_report_slow (const char *what,
                       const char *name,
                       gpointer    func,
                       const char *file,
                       gint        line,
                       gint64      us)
{
  g_autofree char *func_name = kaa_debug_dup_func_name (func);
  g_autofree char *site = file != NULL ? g_strdup_printf (", spawned at %s:%d", file, line)
                                       : g_strdup ("");

  g_warning ("slow-slice: %s \"%s\" (%s%s) held the main loop for %.1f ms (limit %.1f ms)",
             what, name != NULL ? name : "(unnamed)", func_name != NULL ? func_name : "?",
             site, us / 1000.0, kaa_debug_slow_slice_us / 1000.0);
}
