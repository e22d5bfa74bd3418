/* kaa-i18n.c: gettext for the library's own messages
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "kaa-i18n-private.h"

static void
i18n_bind (void)
{
  static gsize bound = 0;

  if (g_once_init_enter (&bound))
    {
      /* gettext answers an unbound domain with its default directory: an
       * application that bound ours itself (a relocated install, a test
       * running from the build tree) keeps its choice. */
      const char *unbound = bindtextdomain ("libkaa-never-bound", NULL);

      if (g_strcmp0 (bindtextdomain (GETTEXT_PACKAGE, NULL), unbound) == 0)
        bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
      bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
      g_once_init_leave (&bound, 1);
    }
}

const char *
kaa_gettext (const char *msgid)
{
  i18n_bind ();
  return g_dgettext (GETTEXT_PACKAGE, msgid);
}

const char *
kaa_ngettext (const char *msgid,
              const char *msgid_plural,
              gulong      n)
{
  i18n_bind ();
  return g_dngettext (GETTEXT_PACKAGE, msgid, msgid_plural, n);
}
