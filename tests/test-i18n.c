/* test-i18n.c: the library's messages come out in the user's language
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Runs twice (tests/meson.build), with LANGUAGE=de and LANGUAGE=fr, under
 * the C.UTF-8 locale, which every glibc has: LANGUAGE alone then picks
 * the catalogue, so no locale has to be generated. The catalogues come
 * from the build tree (po/), bound before libkaa's first message, which
 * libkaa then respects.
 */
#include "config.h"

#include <libintl.h>
#include <locale.h>

#include "kaa-test-util.h"

typedef KaaTestFixture Fixture;

typedef struct
{
  const char *language;
  const char *cancelled;
  const char *not_in_coroutine;
  const char *critical;
  const char *one_failed;
  const char *two_failed;
} Expected;

static const Expected expectations[] = {
  { "de", "Der Vorgang wurde abgebrochen",
    "Warten ist nur innerhalb einer Koroutine möglich",
    "*nicht aus einer Koroutine aufgerufen*",
    "Der einzige Vorgang ist fehlgeschlagen", "Alle 2 Vorgänge sind fehlgeschlagen" },
  { "fr", "L’opération a été annulée",
    "Attendre n’est possible qu’à l’intérieur d’une coroutine",
    "*appel hors d’une coroutine*",
    "La seule opération a échoué", "Les 2 opérations ont toutes échoué" },
};

static const Expected *expected;

static void
test_cancelled (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();

  g_test_summary ("Issue #8: a cancelled operation's error message is translated");

  kaa_in_progress_cancel (ip);
  g_assert_cmpstr (kaa_in_progress_get_error (ip)->message, ==, expected->cancelled);
}

static void
test_not_in_coroutine (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_test_summary ("Issue #8: awaiting outside a coroutine gives a translated critical "
                  "and error");

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, expected->critical);
  g_assert_false (kaa_await (kaa_in_progress_new (), &error));
  g_test_assert_expected_messages ();
  g_assert_error (error, KAA_ERROR, KAA_ERROR_NOT_IN_COROUTINE);
  g_assert_cmpstr (error->message, ==, expected->not_in_coroutine);
}

/* The message of kaa_any_success() over @n inputs that all fail. */
static char *
all_failed_message (guint n)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KaaInProgress) any = NULL;
  KaaInProgress *inputs[2];

  for (guint i = 0; i < n; i++)
    {
      inputs[i] = kaa_in_progress_new ();
      kaa_in_progress_fail_literal (inputs[i], KAA_ERROR, KAA_ERROR_FAILED, "no");
    }
  /* any_success takes the references it is given: ours stay for later. */
  {
    KaaInProgress *given[2];

    for (guint i = 0; i < n; i++)
      given[i] = kaa_in_progress_ref (inputs[i]);
    any = kaa_any_success (given, n);
  }
  g_assert_false (kaa_in_progress_wait (any, &error));
  g_assert_error (error, KAA_ERROR, KAA_ERROR_ALL_FAILED);
  for (guint i = 0; i < n; i++)
    {
      g_assert_nonnull (kaa_in_progress_get_error (inputs[i]));   /* handled */
      kaa_in_progress_unref (inputs[i]);
    }
  return g_strdup (error->message);
}

static void
test_plural (Fixture       *f,
             gconstpointer  data)
{
  g_autofree char *one = NULL;
  g_autofree char *two = NULL;

  g_test_summary ("Issue #16: a count in a message takes the plural form its "
                  "language wants, never \"All 1 operations failed\"");
  g_test_bug ("16");

  one = all_failed_message (1);
  two = all_failed_message (2);
  g_assert_cmpstr (one, ==, expected->one_failed);
  g_assert_cmpstr (two, ==, expected->two_failed);
}

int
main (int    argc,
      char **argv)
{
  const char *language = g_getenv ("LANGUAGE");

  g_test_init (&argc, &argv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (expectations); i++)
    if (g_strcmp0 (language, expectations[i].language) == 0)
      expected = &expectations[i];
  if (expected == NULL)
    g_error ("run with LANGUAGE=de or LANGUAGE=fr, not %s", language ? language : "(unset)");
  if (setlocale (LC_ALL, "C.UTF-8") == NULL)
    g_error ("no C.UTF-8 locale");
  bindtextdomain (GETTEXT_PACKAGE, KAA_BUILD_PO_DIR);

  g_test_add ("/kaa/i18n/cancelled", Fixture, NULL, kaa_test_fixture_setup, test_cancelled,
              kaa_test_fixture_teardown);
  g_test_add ("/kaa/i18n/not-in-coroutine", Fixture, NULL, kaa_test_fixture_setup,
              test_not_in_coroutine, kaa_test_fixture_teardown);
  g_test_add ("/kaa/i18n/plural", Fixture, NULL, kaa_test_fixture_setup, test_plural,
              kaa_test_fixture_teardown);
  return g_test_run ();
}
