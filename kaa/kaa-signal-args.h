/* kaa-signal-args.h: the arguments of one signal emission
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined (KAA_INSIDE) && !defined (KAA_COMPILATION)
# error "Include <kaa/kaa.h>, not individual libkaa headers."
#endif

#include <glib-object.h>

#include "kaa-version-macros.h"

G_BEGIN_DECLS

typedef struct _KaaSignalArgs KaaSignalArgs;

#define KAA_TYPE_SIGNAL_ARGS (kaa_signal_args_get_type ())

KAA_AVAILABLE_IN_ALL
GType          kaa_signal_args_get_type   (void) G_GNUC_CONST;
KAA_AVAILABLE_IN_ALL
KaaSignalArgs *kaa_signal_args_ref        (KaaSignalArgs *self);
KAA_AVAILABLE_IN_ALL
void           kaa_signal_args_unref      (KaaSignalArgs *self);
KAA_AVAILABLE_IN_ALL
guint          kaa_signal_args_get_length (KaaSignalArgs *self);
KAA_AVAILABLE_IN_ALL
const GValue  *kaa_signal_args_get        (KaaSignalArgs *self,
                                           guint          index);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KaaSignalArgs, kaa_signal_args_unref)

G_END_DECLS
