/* kaa-combinators.h: any / all / timeout / sleep
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined (KAA_INSIDE) && !defined (KAA_COMPILATION)
# error "Include <kaa/kaa.h>, not individual libkaa headers."
#endif

#include "kaa-in-progress.h"

G_BEGIN_DECLS

KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_sleep        (guint           msec) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_any          (KaaInProgress **inputs,
                                 guint           n_inputs) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_any_success  (KaaInProgress **inputs,
                                 guint           n_inputs) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_all          (KaaInProgress **inputs,
                                 guint           n_inputs) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_all_success  (KaaInProgress **inputs,
                                 guint           n_inputs) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_timeout      (KaaInProgress  *input,
                                 guint           msec,
                                 gboolean        cancel_input) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
