/* kaa-version-macros.h: availability annotations for public symbols
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined (KAA_INSIDE) && !defined (KAA_COMPILATION)
# error "Include <kaa/kaa.h>, not individual libkaa headers."
#endif

#include <glib.h>

/* Inside the library config.h defines KAA_EXTERN with default visibility;
 * everything else is hidden by -fvisibility=hidden. */
#ifndef KAA_EXTERN
# define KAA_EXTERN extern
#endif

#define KAA_AVAILABLE_IN_ALL KAA_EXTERN
