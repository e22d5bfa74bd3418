/* kaa-scheduler.h: running the main loop the libkaa way
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined (KAA_INSIDE) && !defined (KAA_COMPILATION)
# error "Include <kaa/kaa.h>, not individual libkaa headers."
#endif

#include "kaa-version-macros.h"

G_BEGIN_DECLS

KAA_AVAILABLE_IN_ALL
void      kaa_main_run         (void);
KAA_AVAILABLE_IN_ALL
void      kaa_main_quit        (void);
KAA_AVAILABLE_IN_ALL
gboolean  kaa_main_step        (gboolean may_block);
KAA_AVAILABLE_IN_ALL
gint64    kaa_main_get_budget  (void);
KAA_AVAILABLE_IN_ALL
void      kaa_main_set_budget  (gint64   usec);

G_END_DECLS
