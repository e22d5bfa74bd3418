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
/* The other language's expectations. */
static const Expected *other;

/* The message a cancel gives on the calling thread, which owns the
 * thread-default context. */
static char *
cancel_message (void)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();

  kaa_in_progress_cancel (ip);
  return g_strdup (kaa_in_progress_get_error (ip)->message);
}

/* A coroutine cancelled in an await: the message of the error the await
 * returns, which is the await's own, not the InProgress's. */
static void
body_await_sleep (KaaCoroutine *co,
                  gpointer      data)
{
  char **message = data;
  g_autoptr(GError) error = NULL;

  if (!kaa_await (kaa_sleep (60 * 1000), &error))
    *message = g_strdup (error->message);
}

static char *
await_cancel_message (void)
{
  char *message = NULL;
  g_autoptr(KaaInProgress) ip = kaa_coroutine_spawn (body_await_sleep, &message, NULL);

  /* On the owner thread the coroutine has unwound when this returns. */
  kaa_in_progress_cancel (ip);
  g_assert_nonnull (message);
  return message;
}

/* What a program does to switch languages: LANGUAGE, then the locale,
 * which moves gettext's catalogue serial (a setlocale() to the locale
 * already set does not, hence the detour through "C"). setenv() races
 * with getenv() on other threads: the one worker the tests start sits in
 * poll() meanwhile. */
static void
switch_language (const char *language)
{
  g_setenv ("LANGUAGE", language, TRUE);
  g_assert_nonnull (setlocale (LC_ALL, "C"));
  g_assert_nonnull (setlocale (LC_ALL, "C.UTF-8"));
}

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

/* Both a cancelled InProgress and a cancelled await say @want. */
static void
assert_cancel_message (const char *want)
{
  g_autofree char *message = cancel_message ();
  g_autofree char *awaited = await_cancel_message ();

  g_assert_cmpstr (message, ==, want);
  g_assert_cmpstr (awaited, ==, want);
}

static void
test_cancelled_after_switch (Fixture       *f,
                             gconstpointer  data)
{
  g_test_summary ("Issue #20: the message of a cancel, which each thread looks up "
                  "once, follows the thread's own switch of the language");

  assert_cancel_message (expected->cancelled);
  switch_language (other->language);
  assert_cancel_message (other->cancelled);
  switch_language (expected->language);
  assert_cancel_message (expected->cancelled);
}

/* On a worker with a context of its own: its lookups outlive the main
 * thread's switch of language. */
static void
cancel_into (gpointer data)
{
  char **message = data;

  *message = cancel_message ();
}

static void
test_cancelled_other_thread (Fixture       *f,
                             gconstpointer  data)
{
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  KaaTestWorker worker;

  g_test_summary ("Issue #20: a thread that looked up the message of a cancel sees "
                  "the language another thread switched to");

  kaa_test_worker_start (&worker);
  kaa_test_worker_call (&worker, cancel_into, &before);
  switch_language (other->language);
  kaa_test_worker_call (&worker, cancel_into, &after);
  switch_language (expected->language);
  kaa_test_worker_kill (&worker);
  g_assert_cmpstr (before, ==, expected->cancelled);
  g_assert_cmpstr (after, ==, other->cancelled);
}

static void
test_cancelled_thread_locale (Fixture       *f,
                              gconstpointer  data)
{
  locale_t c_locale = newlocale (LC_ALL_MASK, "C", (locale_t) 0);

  g_test_summary ("Issue #20: a thread's own locale (uselocale()) decides the message "
                  "of a cancel made while it is in use, and only then");

  g_assert_nonnull (c_locale);
  assert_cancel_message (expected->cancelled);
  /* The C locale translates nothing, whatever LANGUAGE says. */
  uselocale (c_locale);
  assert_cancel_message ("Operation was cancelled");
  uselocale (LC_GLOBAL_LOCALE);
  assert_cancel_message (expected->cancelled);
  freelocale (c_locale);
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
      {
        expected = &expectations[i];
        other = &expectations[(i + 1) % G_N_ELEMENTS (expectations)];
      }
  if (expected == NULL)
    g_error ("run with LANGUAGE=de or LANGUAGE=fr, not %s", language ? language : "(unset)");
  if (setlocale (LC_ALL, "C.UTF-8") == NULL)
    g_error ("no C.UTF-8 locale");
  bindtextdomain (GETTEXT_PACKAGE, KAA_BUILD_PO_DIR);

  g_test_add ("/kaa/i18n/cancelled", Fixture, NULL, kaa_test_fixture_setup, test_cancelled,
              kaa_test_fixture_teardown);
  g_test_add ("/kaa/i18n/cancelled-after-switch", Fixture, NULL, kaa_test_fixture_setup,
              test_cancelled_after_switch, kaa_test_fixture_teardown);
  g_test_add ("/kaa/i18n/cancelled-other-thread", Fixture, NULL, kaa_test_fixture_setup,
              test_cancelled_other_thread, kaa_test_fixture_teardown);
  g_test_add ("/kaa/i18n/cancelled-thread-locale", Fixture, NULL, kaa_test_fixture_setup,
              test_cancelled_thread_locale, kaa_test_fixture_teardown);
  g_test_add ("/kaa/i18n/not-in-coroutine", Fixture, NULL, kaa_test_fixture_setup,
              test_not_in_coroutine, kaa_test_fixture_teardown);
  g_test_add ("/kaa/i18n/plural", Fixture, NULL, kaa_test_fixture_setup, test_plural,
              kaa_test_fixture_teardown);
  return g_test_run ();
}
