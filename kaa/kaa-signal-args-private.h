/* kaa-signal-args-private.h: making a signal emission's arguments
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "kaa-signal-args.h"

G_BEGIN_DECLS

/* Any thread, inside a closure's marshaller: copies the arguments after
 * the instance (param_values[0]). */
KaaSignalArgs *kaa_signal_args_new_for_emission (guint         n_param_values,
                                                 const GValue *param_values);

G_END_DECLS
