/* kaa-gio-stream.h: streams of repeated events, as channels
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined (KAA_INSIDE) && !defined (KAA_COMPILATION)
# error "Include <kaa/kaa.h>, not individual libkaa headers."
#endif

#include <gio/gio.h>

#include "kaa-channel.h"

G_BEGIN_DECLS

KAA_AVAILABLE_IN_ALL
KaaChannel *kaa_channel_new_for_signal      (gpointer      instance,
                                             const char   *detailed_signal,
                                             guint         bound,
                                             KaaOverflow   overflow) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaChannel *kaa_channel_new_for_unix_signal (int           signum,
                                             guint         bound,
                                             KaaOverflow   overflow) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaChannel *kaa_channel_new_for_lines       (GInputStream *stream,
                                             guint         capacity) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaChannel *kaa_channel_new_for_children (GFile               *directory,
                                          const char          *attributes,
                                          GFileQueryInfoFlags  flags,
                                          guint                capacity) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaChannel *kaa_channel_new_for_fd          (int           fd,
                                             GIOCondition  condition) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
