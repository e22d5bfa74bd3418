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

/**
 * KaaCombineFlags:
 * @KAA_COMBINE_NONE: the inputs that have not settled when the outcome
 *   is decided keep running, disconnected
 * @KAA_COMBINE_CANCEL_OTHERS: once the outcome is decided (the winner of
 *   an any, the first failure of a fail-fast all), the inputs that have
 *   not settled are cancelled, each as its last awaiter would cancel it:
 *   one that something else also awaits is only detached from
 *
 * Options of the combinators that decide before every input settled.
 *
 * Since: 0.2
 */
typedef enum /*< flags >*/
{
  KAA_COMBINE_NONE          = 0,
  KAA_COMBINE_CANCEL_OTHERS = 1 << 0,
} KaaCombineFlags;

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
KaaInProgress *kaa_any_with_flags         (KaaInProgress **inputs,
                                           guint           n_inputs,
                                           KaaCombineFlags flags) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_any_success_with_flags (KaaInProgress **inputs,
                                           guint           n_inputs,
                                           KaaCombineFlags flags) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_all_success_with_flags (KaaInProgress **inputs,
                                           guint           n_inputs,
                                           KaaCombineFlags flags) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_timeout      (KaaInProgress  *input,
                                 guint           msec,
                                 gboolean        cancel_input) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
