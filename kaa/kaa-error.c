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
GQuark
kaa_error_quark (void)
{
  /* Not G_DEFINE_QUARK: its cache is a plain static, which two threads
   * failing their first jobs at once would race on (TSan says so). */
  static GQuark quark;
  GQuark q = (GQuark) g_atomic_int_get ((gint *) &quark);

  if (G_UNLIKELY (q == 0))
    {
      q = g_quark_from_static_string ("kaa-error-quark");
      g_atomic_int_set ((gint *) &quark, (gint) q);
    }
  return q;
}
