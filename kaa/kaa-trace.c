/* kaa-trace.c: Sysprof marks, when a capture is active
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Sysprof hands a program it starts one of two things in the
 * environment: SYSPROF_TRACE_FD, a file to write a capture of its own to
 * (what GTK uses), or SYSPROF_CONTROL_FD, a socket to ask for a shared
 * ring buffer, which sysprof_collector_*() use. The first is written
 * through one SysprofCaptureWriter under a lock (marks come from worker
 * threads too) and flushed at exit; the second through the collector,
 * which keeps a buffer per thread (preferred when both are set). Which
 * one, if any, is decided once, when the library is loaded, so that a hot path pays one load of
 * kaa_trace_on while no capture is active.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "kaa-debug-private.h"
#include "kaa-trace-private.h"

#if HAVE_SYSPROF
# include <sysprof-capture.h>
#endif

gint kaa_trace_on;

#if HAVE_SYSPROF
static SysprofCaptureWriter *writer;        /* under writer_lock; NULL: the collector */
static GMutex                writer_lock;
static gint32                writer_pid;    /* getpid() is a system call */
/* Written out when full: a few large writes, not one per few marks. */
#define WRITER_BUFFER_SIZE (4 * 1024 * 1024)
#endif

gint64
kaa_trace_now (void)
{
#if HAVE_SYSPROF
  return SYSPROF_CAPTURE_CURRENT_TIME;
#else
  return g_get_monotonic_time () * 1000;
#endif
}

static void
trace_mark_valist (gint64      begin,
                   gint64      end,
                   const char *name,
                   const char *format,
                   va_list     args) G_GNUC_PRINTF (4, 0);

static void
trace_mark_valist (gint64      begin,
                   gint64      end,
                   const char *name,
                   const char *format,
                   va_list     args)
{
#if HAVE_SYSPROF
  /* On the stack: a mark may be one per slice. Longer messages are cut. */
  char message[256];

  g_vsnprintf (message, sizeof message, format, args);
  if (writer == NULL)
    {
      sysprof_collector_mark (begin, end - begin, "libkaa", name, message);
      return;
    }
  g_mutex_lock (&writer_lock);
  if (writer != NULL)
    sysprof_capture_writer_add_mark (writer, begin, -1, writer_pid, end - begin,
                                     "libkaa", name, message);
  g_mutex_unlock (&writer_lock);
#endif
}

void
kaa_trace_mark (gint64      begin,
                const char *name,
                const char *format,
                ...)
{
  gint64 end = kaa_trace_now ();
  va_list args;

  va_start (args, format);
  trace_mark_valist (begin, end, name, format, args);
  va_end (args);
}

void
kaa_trace_mark_range (gint64      begin,
                      gint64      end,
                      const char *name,
                      const char *format,
                      ...)
{
  va_list args;

  va_start (args, format);
  trace_mark_valist (begin, end, name, format, args);
  va_end (args);
}

#if HAVE_SYSPROF
static void
trace_exit (void)
{
  g_mutex_lock (&writer_lock);
  __atomic_store_n (&kaa_trace_on, FALSE, __ATOMIC_RELAXED);
  sysprof_capture_writer_flush (writer);
  g_clear_pointer (&writer, sysprof_capture_writer_unref);
  g_mutex_unlock (&writer_lock);
}
#endif

__attribute__((constructor)) static void
trace_init (void)
{
#if HAVE_SYSPROF
  /* The collector first: Sysprof sets both for a program it starts, and
   * GTK writes its own capture to SYSPROF_TRACE_FD, which two writers
   * would interleave. */
  if (g_getenv ("SYSPROF_CONTROL_FD") != NULL)
    kaa_trace_on = sysprof_collector_is_active ();
  else if (g_getenv ("SYSPROF_TRACE_FD") != NULL)
    {
      writer = sysprof_capture_writer_new_from_env (WRITER_BUFFER_SIZE);
      writer_pid = getpid ();
      if (writer != NULL)
        atexit (trace_exit);
      kaa_trace_on = writer != NULL;
    }
  if (kaa_trace_on)
    kaa_debug_timed = TRUE;
#endif
}
