/* kaa-i18n.c: gettext for the library's own messages
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <locale.h>

#include "kaa-i18n-private.h"

#if HAVE_NL_MSG_CAT_CNTR
/* gettext's catalogue serial, in glibc and GNU libintl: it moves whenever
 * a lookup may answer differently (setlocale(), textdomain(),
 * bindtextdomain(), and an increment by hand after a change of LANGUAGE,
 * as the gettext manual asks). gettext's own cache of answers keys on it
 * too. */
extern int _nl_msg_cat_cntr;

typedef struct
{
  const char *text;     /* NULL until the first lookup */
  int         serial;   /* _nl_msg_cat_cntr when it was looked up */
} Memo;

static KAA_THREAD_LOCAL Memo cancelled_memo;
#endif

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

/* Every cancel makes an error with this message: a cascade one per level,
 * a million for a million-deep chain. Each gettext() lookup costs about
 * 1 000 instructions and takes glibc's locale lock, whose locked
 * instruction waits for every store before it; that was a third of the
 * instructions of a cascade's level (issue #20). So each thread keeps the
 * translation until gettext's serial moves. A thread with a locale of its
 * own (uselocale()) looks it up each time: the serial does not follow
 * that one. */
const char *
kaa_gettext_cancelled (void)
{
  static const char msgid[] = N_("Operation was cancelled");
#if HAVE_NL_MSG_CAT_CNTR
  Memo *memo = &cancelled_memo;
  /* Read first: a change made during the lookup below then makes the
   * next call look up again. */
  int serial = __atomic_load_n (&_nl_msg_cat_cntr, __ATOMIC_RELAXED);

  if (uselocale ((locale_t) 0) == LC_GLOBAL_LOCALE)
    {
      if (memo->text == NULL || memo->serial != serial)
        {
          memo->text = _(msgid);
          memo->serial = serial;
        }
      return memo->text;
    }
#endif
  return _(msgid);
}
