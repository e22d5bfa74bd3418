/* kaa-dump.h: a live dump of every InProgress, as a tree of who awaits what
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined (KAA_INSIDE) && !defined (KAA_COMPILATION)
# error "Include <kaa/kaa.h>, not individual libkaa headers."
#endif

#include <glib.h>

#include "kaa-version-macros.h"

G_BEGIN_DECLS

KAA_AVAILABLE_IN_ALL
char     *kaa_dump_to_string  (void) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
GVariant *kaa_dump_to_variant (void) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
void      kaa_dump            (void);
KAA_AVAILABLE_IN_ALL
guint     kaa_dump_on_signal  (int signum);
KAA_AVAILABLE_IN_ALL
void      kaa_dump_track_all  (void);

G_END_DECLS
