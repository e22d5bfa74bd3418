/* kaa-gio.h: awaiting GIO calls, signals, file descriptors, children and
 * Unix signals
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined (KAA_INSIDE) && !defined (KAA_COMPILATION)
# error "Include <kaa/kaa.h>, not individual libkaa headers."
#endif

#include <gio/gio.h>

#include "kaa-in-progress.h"

G_BEGIN_DECLS

KAA_AVAILABLE_IN_ALL
void           kaa_async_ready                 (GObject        *source_object,
                                                GAsyncResult   *result,
                                                gpointer        in_progress);
KAA_AVAILABLE_IN_ALL
gpointer       kaa_async_data                  (KaaInProgress  *self);

KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_in_progress_new_for_signal  (gpointer        instance,
                                                const char     *detailed_signal) G_GNUC_WARN_UNUSED_RESULT;

KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_io_wait                     (int             fd,
                                                GIOCondition    condition) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_child_wait                  (GPid            pid) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_unix_signal                 (int             signum) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
