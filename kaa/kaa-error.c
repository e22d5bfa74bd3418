/* kaa-error.c: the KAA_ERROR domain
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "kaa-error.h"

/**
 * kaa_error_quark:
 *
 * The error domain of libkaa.
 *
 * Returns: the `KAA_ERROR` quark
 * Since: 0.1
 */
G_DEFINE_QUARK (kaa-error-quark, kaa_error)
