/* kaa-i18n-private.h: gettext for the library's own messages (layer 0)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib/gi18n-lib.h>

G_BEGIN_DECLS

/* Binds GETTEXT_PACKAGE to LOCALEDIR once; every _() in the library goes
 * through kaa_gettext() so that the binding is in place before the first
 * lookup. */
const char *kaa_gettext  (const char *msgid) G_GNUC_FORMAT (1);
/* ngettext() for counts, "All %u operations failed": the form the
 * language wants for @n. xgettext knows it (po/meson.build). */
const char *kaa_ngettext (const char *msgid,
                          const char *msgid_plural,
                          gulong      n) G_GNUC_FORMAT (2);

/* _("Operation was cancelled"), the message of every cancel, looked up
 * once per thread until the locale or the catalogues change. */
const char *kaa_gettext_cancelled (void);

#undef _
#define _(s) kaa_gettext (s)

G_END_DECLS
