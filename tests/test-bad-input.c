/* test-bad-input.c: every public function under bad input (DESIGN §8, issue #7)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each group calls public functions with NULL, invalid, already-finished
 * or wrong-thread arguments and expects a critical or a GError, never a
 * crash; after every bad call kaa_test_still_works() checks that an ordinary
 * coroutine still settles, and the fixture checks that nothing leaked.
 * GTest makes any critical not announced with g_test_expect_message()
 * fatal, so a bad call that warns twice, or about the wrong thing, fails.
 */
#include "config.h"

#include <signal.h>
#include <string.h>

#include <gio/gio.h>

#include "kaa-test-util.h"

typedef KaaTestFixture Fixture;

#define KAA_TEST_AREA "bad-input"

/* ---------------------------------------------------------------- helpers */

#define EXPECT_CRITICAL(pattern, statement)                                \
  G_STMT_START {                                                           \
    g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, pattern);          \
    statement;                                                             \
    g_test_assert_expected_messages ();                                    \
    kaa_test_still_works ();                                               \
  } G_STMT_END

/* A function returning an InProgress never returns NULL: the critical,
 * then an InProgress already failed with KAA_ERROR_INVALID_ARGUMENT. */
#define EXPECT_INVALID(pattern, call)                                      \
  G_STMT_START {                                                           \
    KaaInProgress *invalid_;                                               \
                                                                           \
    g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, pattern);          \
    invalid_ = (call);                                                     \
    g_test_assert_expected_messages ();                                    \
    g_assert_nonnull (invalid_);                                           \
    g_assert_cmpint (kaa_in_progress_get_state (invalid_), ==, KAA_STATE_FAILED); \
    g_assert_error (kaa_in_progress_get_error (invalid_), KAA_ERROR,      \
                    KAA_ERROR_INVALID_ARGUMENT);                           \
    kaa_in_progress_unref (invalid_);                                      \
    kaa_test_still_works ();                                               \
  } G_STMT_END

/* A GTypeInstance that is not a GObject: type checks reject it safely,
 * where an arbitrary pointer would crash them. */
static GParamSpec *
not_an_object (void)
{
  return g_param_spec_ref_sink (g_param_spec_int ("n", NULL, NULL, 0, 1, 0, G_PARAM_READABLE));
}

static void
count_call (KaaInProgress *ip,
            gpointer       data)
{
  (*(guint *) data)++;
}

static void
count_free (gpointer data)
{
  (*(guint *) data)++;
}

/* ------------------------------------------------------------ InProgress */

static void
test_in_progress_null (Fixture       *f,
                       gconstpointer  data)
{
  GError *error = g_error_new_literal (KAA_ERROR, 0, "x");
  GValue value = G_VALUE_INIT;
  gint64 position, total;

  g_test_summary ("DESIGN §8: every InProgress function answers NULL with a critical");

  EXPECT_CRITICAL ("*self != NULL*", g_assert_null (kaa_in_progress_ref (NULL)));
  EXPECT_CRITICAL ("*self != NULL*", kaa_in_progress_unref (NULL));
  EXPECT_CRITICAL ("*self != NULL*", kaa_in_progress_set_name (NULL, "x"));
  EXPECT_CRITICAL ("*self != NULL*", g_assert_null (kaa_in_progress_get_name (NULL)));
  EXPECT_CRITICAL ("*self != NULL*", g_assert_null (kaa_in_progress_get_context (NULL)));
  EXPECT_CRITICAL ("*self != NULL*", kaa_in_progress_get_state (NULL));
  EXPECT_CRITICAL ("*self != NULL*", g_assert_false (kaa_in_progress_is_done (NULL)));
  EXPECT_CRITICAL ("*self != NULL*", kaa_in_progress_finish_pointer (NULL, NULL, NULL));
  EXPECT_CRITICAL ("*self != NULL*", kaa_in_progress_finish_boolean (NULL, TRUE));
  EXPECT_CRITICAL ("*self != NULL*", kaa_in_progress_finish_int64 (NULL, 1));
  EXPECT_CRITICAL ("*self != NULL*", kaa_in_progress_finish_double (NULL, 1.0));
  EXPECT_CRITICAL ("*self != NULL*", kaa_in_progress_finish_string (NULL, "x"));
  EXPECT_CRITICAL ("*self != NULL*", kaa_in_progress_finish_object (NULL, NULL));
  g_value_init (&value, G_TYPE_INT);
  EXPECT_CRITICAL ("*self != NULL*", kaa_in_progress_finish_value (NULL, &value));
  g_value_unset (&value);
  /* g_return_if_fail() returns before taking the error over. */
  EXPECT_CRITICAL ("*self != NULL*", kaa_in_progress_fail (NULL, error));
  g_clear_error (&error);
  EXPECT_CRITICAL ("*self != NULL*", kaa_in_progress_fail_literal (NULL, KAA_ERROR, 0, "x"));
  EXPECT_CRITICAL ("*self != NULL*", kaa_in_progress_finish_from (NULL, NULL));
  EXPECT_INVALID ("*self != NULL*", kaa_in_progress_shield (NULL));
  EXPECT_CRITICAL ("*self != NULL*", kaa_in_progress_cancel (NULL));
  EXPECT_CRITICAL ("*self != NULL*", kaa_in_progress_pause (NULL));
  EXPECT_CRITICAL ("*self != NULL*", kaa_in_progress_resume (NULL));
  EXPECT_CRITICAL ("*self != NULL*", g_assert_false (kaa_in_progress_is_paused (NULL)));
  EXPECT_CRITICAL ("*self != NULL*", g_assert_null (kaa_in_progress_get_cancellable (NULL)));
  EXPECT_CRITICAL ("*self != NULL*",
                   g_assert_cmpuint (kaa_in_progress_connect (NULL, count_call, NULL, NULL),
                                     ==, 0));
  EXPECT_CRITICAL ("*self != NULL*", kaa_in_progress_disconnect (NULL, 1));
  EXPECT_CRITICAL ("*self != NULL*", g_assert_false (kaa_in_progress_wait (NULL, NULL)));
  EXPECT_CRITICAL ("*self != NULL*", g_assert_false (kaa_in_progress_propagate (NULL, NULL)));
  EXPECT_CRITICAL ("*self != NULL*", g_assert_null (kaa_in_progress_get_error (NULL)));
  EXPECT_CRITICAL ("*self != NULL*", g_assert_null (kaa_in_progress_get_pointer (NULL)));
  EXPECT_CRITICAL ("*self != NULL*", g_assert_false (kaa_in_progress_get_boolean (NULL)));
  EXPECT_CRITICAL ("*self != NULL*", g_assert_cmpint (kaa_in_progress_get_int64 (NULL), ==, 0));
  EXPECT_CRITICAL ("*self != NULL*", kaa_in_progress_get_double (NULL));
  EXPECT_CRITICAL ("*self != NULL*", g_assert_null (kaa_in_progress_get_string (NULL)));
  EXPECT_CRITICAL ("*self != NULL*", g_assert_null (kaa_in_progress_dup_string (NULL)));
  EXPECT_CRITICAL ("*self != NULL*", g_assert_null (kaa_in_progress_get_object (NULL)));
  EXPECT_CRITICAL ("*self != NULL*", g_assert_null (kaa_in_progress_dup_object (NULL)));
  EXPECT_CRITICAL ("*self != NULL*", kaa_in_progress_get_value (NULL, &value));
  g_assert_false (G_IS_VALUE (&value));

  EXPECT_CRITICAL ("*self != NULL*", kaa_in_progress_set_progress (NULL, 1, 2));
  EXPECT_CRITICAL ("*self != NULL*",
                   g_assert_false (kaa_in_progress_get_progress (NULL, &position, &total)));
  EXPECT_CRITICAL ("*self != NULL*", kaa_in_progress_get_fraction (NULL));
  EXPECT_CRITICAL ("*self != NULL*", kaa_in_progress_get_rate (NULL));
  EXPECT_CRITICAL ("*self != NULL*", kaa_in_progress_get_eta (NULL));
  EXPECT_CRITICAL ("*self != NULL*",
                   g_assert_cmpuint (kaa_in_progress_connect_progress (NULL, count_call,
                                                                       NULL, NULL), ==, 0));
  EXPECT_CRITICAL ("*self != NULL*", kaa_in_progress_disconnect_progress (NULL, 1));
  EXPECT_CRITICAL ("*self != NULL*", kaa_in_progress_set_progress_interval (NULL, 10));
}

static void
test_in_progress_invalid (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) done = kaa_in_progress_new ();
  g_autoptr(GError) error = g_error_new_literal (KAA_ERROR, KAA_ERROR_FAILED, "set");
  g_autoptr(GParamSpec) pspec = not_an_object ();
  GValue value = G_VALUE_INIT;
  guint calls = 0;

  g_test_summary ("DESIGN §8: invalid arguments to an InProgress are criticals that "
                  "change nothing");

  EXPECT_INVALID ("*error != NULL*", kaa_in_progress_new_for_error (NULL));
  EXPECT_CRITICAL ("*G_IS_VALUE*", kaa_in_progress_finish_value (ip, &value));
  EXPECT_CRITICAL ("*G_IS_VALUE*", kaa_in_progress_finish_value (ip, NULL));
  EXPECT_CRITICAL ("*G_IS_OBJECT*", kaa_in_progress_finish_object (ip, pspec));
  EXPECT_CRITICAL ("*error != NULL*", kaa_in_progress_fail (ip, NULL));
  EXPECT_CRITICAL ("*domain != 0*", kaa_in_progress_fail_literal (ip, 0, 0, "no domain"));
  EXPECT_CRITICAL ("*message != NULL*", kaa_in_progress_fail_literal (ip, KAA_ERROR, 0, NULL));
  EXPECT_CRITICAL ("*source != NULL*", kaa_in_progress_finish_from (ip, NULL));
  EXPECT_CRITICAL ("*self != source*", kaa_in_progress_finish_from (ip, kaa_in_progress_ref (ip)));
  EXPECT_CRITICAL ("*callback != NULL*",
                   g_assert_cmpuint (kaa_in_progress_connect (ip, NULL, NULL, NULL), ==, 0));
  EXPECT_CRITICAL ("*id != 0*", kaa_in_progress_disconnect (ip, 0));
  EXPECT_CRITICAL ("*error == NULL || *error == NULL*",
                   g_assert_false (kaa_in_progress_wait (ip, &error)));
  EXPECT_CRITICAL ("*kaa_in_progress_resume: InProgress * is not paused*", kaa_in_progress_resume (ip));
  EXPECT_CRITICAL ("*position >= 0*", kaa_in_progress_set_progress (ip, -1, 2));
  EXPECT_CRITICAL ("*total >= 0*", kaa_in_progress_set_progress (ip, 1, -2));
  EXPECT_CRITICAL ("*callback != NULL*",
                   g_assert_cmpuint (kaa_in_progress_connect_progress (ip, NULL, NULL, NULL),
                                     ==, 0));
  EXPECT_CRITICAL ("*id != 0*", kaa_in_progress_disconnect_progress (ip, 0));
  EXPECT_CRITICAL ("*msec <= G_MAXUINT / 1000*",
                   kaa_in_progress_set_progress_interval (ip, G_MAXUINT));

  /* Results of what is not done yet. */
  EXPECT_CRITICAL ("*not done yet*", g_assert_cmpint (kaa_in_progress_get_int64 (ip), ==, 0));
  EXPECT_CRITICAL ("*kaa_in_progress_get_error: InProgress * is not done yet*",
                   g_assert_null (kaa_in_progress_get_error (ip)));
  EXPECT_CRITICAL ("*kaa_in_progress_propagate: InProgress * is not done yet*",
                   g_assert_false (kaa_in_progress_propagate (ip, NULL)));

  /* Results of the wrong kind, and a GValue that is already set up. */
  kaa_in_progress_finish_string (done, "text");
  EXPECT_CRITICAL ("*InProgress * finished with a result of type string, not int64*",
                   kaa_in_progress_get_int64 (done));
  EXPECT_CRITICAL ("*InProgress * finished with a result of type string, not object*",
                   g_assert_null (kaa_in_progress_get_object (done)));
  g_value_init (&value, G_TYPE_INT);
  EXPECT_CRITICAL ("*!G_IS_VALUE*", kaa_in_progress_get_value (done, &value));
  g_assert_cmpint (g_value_get_int (&value), ==, 0);
  g_value_unset (&value);
  EXPECT_CRITICAL ("*value != NULL*", kaa_in_progress_get_value (done, NULL));
  g_assert_cmpstr (kaa_in_progress_get_string (done), ==, "text");

  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_PENDING);
  kaa_in_progress_connect (ip, count_call, &calls, NULL);
  kaa_in_progress_finish_int64 (ip, 5);
  g_assert_cmpuint (calls, ==, 1);
  g_assert_cmpint (kaa_in_progress_get_int64 (ip), ==, 5);
}

static void
test_in_progress_finished (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) source = kaa_in_progress_new ();
  g_autoptr(GObject) object = g_object_new (G_TYPE_OBJECT, NULL);
  GValue value = G_VALUE_INIT;
  guint freed = 0;

  g_test_summary ("DESIGN §2, §6: a second finish is a critical that frees what it "
                  "was given and keeps the first result; pausing what is done counts "
                  "but reaches nothing; a resume without a pause is a critical");

  kaa_in_progress_finish_int64 (ip, 1);
  EXPECT_CRITICAL ("*already done*", kaa_in_progress_finish_int64 (ip, 2));
  EXPECT_CRITICAL ("*already done*", kaa_in_progress_finish_boolean (ip, TRUE));
  EXPECT_CRITICAL ("*already done*", kaa_in_progress_finish_double (ip, 2.0));
  EXPECT_CRITICAL ("*already done*", kaa_in_progress_finish_string (ip, "late"));
  EXPECT_CRITICAL ("*already done*", kaa_in_progress_finish_pointer (ip, &freed, count_free));
  g_assert_cmpuint (freed, ==, 1);
  EXPECT_CRITICAL ("*already done*", kaa_in_progress_finish_object (ip, object));
  g_value_init (&value, G_TYPE_STRING);
  g_value_set_static_string (&value, "late");
  EXPECT_CRITICAL ("*already done*", kaa_in_progress_finish_value (ip, &value));
  g_value_unset (&value);
  EXPECT_CRITICAL ("*already done*",
                   kaa_in_progress_fail (ip, g_error_new_literal (KAA_ERROR, 0, "late")));
  EXPECT_CRITICAL ("*already done*", kaa_in_progress_fail_literal (ip, KAA_ERROR, 0, "late"));
  EXPECT_CRITICAL ("*kaa_in_progress_finish_from: InProgress * is already done: it can settle only once*",
                   kaa_in_progress_finish_from (ip, kaa_in_progress_ref (source)));
  g_assert_cmpint (kaa_in_progress_get_state (source), ==, KAA_STATE_PENDING);

  /* The object was only borrowed by the dropped finish: ours is the last ref. */
  g_assert_cmpuint (object->ref_count, ==, 1);

  /* Pausing what is done counts (issue #15), so its resume balances it. */
  kaa_in_progress_cancel (ip);
  kaa_in_progress_pause (ip);
  g_assert_true (kaa_in_progress_is_paused (ip));
  kaa_in_progress_resume (ip);
  g_assert_false (kaa_in_progress_is_paused (ip));
  EXPECT_CRITICAL ("*kaa_in_progress_resume: InProgress * is not paused*", kaa_in_progress_resume (ip));
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_FINISHED);
  g_assert_cmpint (kaa_in_progress_get_int64 (ip), ==, 1);

  kaa_in_progress_finish_boolean (source, TRUE);
}

/* -------------------------------------------------------- wrong thread */

typedef struct
{
  KaaInProgress *ip;
  gulong         id;
} ForeignCall;

static gpointer
foreign_owner_calls (gpointer data)
{
  ForeignCall *call = data;

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*kaa_scheduler_is_owner*");
  kaa_in_progress_disconnect (call->ip, call->id);
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL,
                         "kaa_in_progress_pause: InProgress * does not run*");
  kaa_in_progress_pause (call->ip);
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL,
                         "kaa_in_progress_resume: InProgress * does not run*");
  kaa_in_progress_resume (call->ip);
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*kaa_scheduler_is_owner*");
  g_assert_cmpuint (kaa_in_progress_connect_progress (call->ip, count_call, NULL, NULL), ==, 0);
  g_test_assert_expected_messages ();
  return NULL;
}

static void
test_wrong_thread (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  ForeignCall call = { ip, 0 };
  guint calls = 0;

  g_test_summary ("DESIGN §2, §6: what only the owner thread may do (disconnect, "
                  "pause, resume, progress callbacks) is a critical elsewhere and "
                  "changes nothing");

  call.id = kaa_in_progress_connect (ip, count_call, &calls, NULL);
  g_thread_join (g_thread_new ("foreign", foreign_owner_calls, &call));
  kaa_test_still_works ();

  g_assert_false (kaa_in_progress_is_paused (ip));
  kaa_in_progress_finish_int64 (ip, 3);
  g_assert_cmpuint (calls, ==, 1);
}

/* --------------------------------------------------------- coroutines */

static void
body_await_forever (KaaCoroutine *co,
                    gpointer      data)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (kaa_await (kaa_in_progress_ref (data), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_coroutine_null (Fixture       *f,
                     gconstpointer  data)
{
  static const KaaCoroutineDef no_func = { .name = "no-func" };
  static const KaaCoroutineDef bad_policy = {
    .name = "bad-policy", .func = kaa_test_body_yield_then_return, .policy = 99
  };
  static const KaaCoroutineDef singleton = {
    .name = "singleton", .func = kaa_test_body_yield_then_return, .policy = KAA_POLICY_SINGLETON
  };
  g_autoptr(GParamSpec) pspec = not_an_object ();
  g_autoptr(GError) error = NULL;
  g_autoptr(KaaInProgress) pending = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) other = kaa_coroutine_spawn (body_await_forever, pending, NULL);
  guint freed = 0;

  g_test_summary ("DESIGN §4, §8: coroutine functions answer NULL, a coroutine that "
                  "is not the running one, and bad definitions with a critical");

  EXPECT_INVALID ("*func != NULL*", kaa_coroutine_spawn (NULL, NULL, NULL));
  EXPECT_INVALID ("*def != NULL*", kaa_coroutine_spawn_def (NULL, NULL, NULL, NULL));
  EXPECT_INVALID ("*def->func != NULL*", kaa_coroutine_spawn_def (&no_func, NULL, NULL, NULL));
  EXPECT_INVALID ("*policy*", kaa_coroutine_spawn_def (&bad_policy, NULL, NULL, NULL));
  EXPECT_INVALID ("*G_IS_OBJECT*", kaa_coroutine_spawn_def (&singleton, pspec, NULL, NULL));
  EXPECT_INVALID ("*step != NULL*", kaa_coiterate (NULL, NULL, NULL));

  EXPECT_CRITICAL ("*self != NULL*", g_assert_null (kaa_coroutine_get_in_progress (NULL)));
  EXPECT_CRITICAL ("*self != NULL*", g_assert_null (kaa_coroutine_get_name (NULL)));
  EXPECT_CRITICAL ("*self != NULL*", g_assert_null (kaa_coroutine_get_last (NULL)));
  EXPECT_CRITICAL ("*self != NULL*", g_assert_false (kaa_coroutine_is_cancelled (NULL)));
  EXPECT_CRITICAL ("*in_progress != NULL*", g_assert_false (kaa_await (NULL, &error)));
  EXPECT_CRITICAL ("*in_progress != NULL*", kaa_await_boolean (NULL, &error));
  EXPECT_CRITICAL ("*in_progress != NULL*", kaa_await_int64 (NULL, &error));
  EXPECT_CRITICAL ("*in_progress != NULL*", kaa_await_double (NULL, &error));
  EXPECT_CRITICAL ("*in_progress != NULL*", g_assert_null (kaa_await_string (NULL, &error)));
  EXPECT_CRITICAL ("*in_progress != NULL*", g_assert_null (kaa_await_object (NULL, &error)));
  g_assert_no_error (error);

  /* Outside any coroutine, and on behalf of one that is not running. */
  EXPECT_CRITICAL ("*own outcome*", kaa_coroutine_return_boolean (NULL, TRUE));
  EXPECT_CRITICAL ("*own outcome*", kaa_coroutine_return_int64 (NULL, 1));
  EXPECT_CRITICAL ("*own outcome*", kaa_coroutine_return_double (NULL, 1.0));
  EXPECT_CRITICAL ("*own outcome*", kaa_coroutine_return_string (NULL, "x"));
  EXPECT_CRITICAL ("*own outcome*", kaa_coroutine_return_object (NULL, NULL));
  EXPECT_CRITICAL ("*own outcome*", kaa_coroutine_return_pointer (NULL, &freed, count_free));
  g_assert_cmpuint (freed, ==, 1);
  EXPECT_CRITICAL ("*own outcome*", kaa_coroutine_become (NULL, kaa_test_body_yield_then_return,
                                                          &freed, count_free));
  g_assert_cmpuint (freed, ==, 2);
  EXPECT_CRITICAL ("*error != NULL*", kaa_coroutine_throw (NULL, NULL));
  EXPECT_CRITICAL ("*own outcome*",
                   kaa_coroutine_throw (NULL, g_error_new_literal (KAA_ERROR, 0, "x")));
  EXPECT_CRITICAL ("*func != NULL*", kaa_coroutine_become (NULL, NULL, NULL, NULL));

  kaa_in_progress_cancel (other);
  g_assert_cmpint (kaa_in_progress_get_state (other), ==, KAA_STATE_CANCELLED);
}

typedef struct
{
  KaaCoroutine  *stranger;
  KaaInProgress *gate;
} Strangers;

static void
body_stranger (KaaCoroutine *co,
               gpointer      data)
{
  Strangers *s = data;
  g_autoptr(GError) error = NULL;

  s->stranger = co;
  g_assert_true (kaa_await (kaa_in_progress_ref (s->gate), &error));
  kaa_coroutine_return_int64 (co, 1);
}

static void
body_meddles (KaaCoroutine *co,
              gpointer      data)
{
  Strangers *s = data;
  g_autoptr(GError) error = NULL;
  KaaInProgress *mine = kaa_in_progress_ref (kaa_coroutine_get_in_progress (co));
  guint freed = 0;

  EXPECT_CRITICAL ("*own outcome*", kaa_coroutine_return_int64 (s->stranger, 99));
  EXPECT_CRITICAL ("*own outcome*", kaa_coroutine_return_pointer (s->stranger, &freed,
                                                                  count_free));
  g_assert_cmpuint (freed, ==, 1);
  EXPECT_CRITICAL ("*own outcome*",
                   kaa_coroutine_throw (s->stranger, g_error_new_literal (KAA_ERROR, 0, "x")));
  EXPECT_CRITICAL ("*kaa_await: coroutine * awaits its own InProgress*wait forever*",
                   g_assert_false (kaa_await (mine, &error)));
  g_assert_error (error, KAA_ERROR, KAA_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "cannot await its own InProgress"));
  kaa_coroutine_return_int64 (co, 2);
}

static void
test_coroutine_not_running (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(KaaInProgress) gate = kaa_in_progress_new ();
  Strangers s = { NULL, gate };
  g_autoptr(KaaInProgress) stranger = kaa_coroutine_spawn (body_stranger, &s, NULL);
  g_autoptr(KaaInProgress) meddler = kaa_coroutine_spawn (body_meddles, &s, NULL);

  g_test_summary ("DESIGN §4: a coroutine sets only its own outcome, and awaiting its "
                  "own InProgress, which could never finish, is a critical and an error");

  g_assert_true (kaa_in_progress_wait (meddler, NULL));
  g_assert_cmpint (kaa_in_progress_get_int64 (meddler), ==, 2);
  kaa_in_progress_finish_boolean (gate, TRUE);
  g_assert_true (kaa_in_progress_wait (stranger, NULL));
  g_assert_cmpint (kaa_in_progress_get_int64 (stranger), ==, 1);
}

static void
test_outside_coroutine (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  KaaInProgress *borrowed;

  g_test_summary ("DESIGN §4: every await and yield outside a coroutine is a critical "
                  "and KAA_ERROR_NOT_IN_COROUTINE, and takes the InProgress it was given");

#define EXPECT_NOT_IN_COROUTINE(call)                                           \
  G_STMT_START {                                                                \
    EXPECT_CRITICAL ("*not called from a coroutine*", call);                    \
    g_assert_error (error, KAA_ERROR, KAA_ERROR_NOT_IN_COROUTINE);              \
    g_clear_error (&error);                                                     \
  } G_STMT_END

  EXPECT_CRITICAL ("*not called from a coroutine*", g_assert_false (kaa_yield ()));
  EXPECT_NOT_IN_COROUTINE (g_assert_false (kaa_await (kaa_in_progress_new (), &error)));
  EXPECT_NOT_IN_COROUTINE (kaa_await_boolean (kaa_in_progress_new (), &error));
  EXPECT_NOT_IN_COROUTINE (kaa_await_int64 (kaa_in_progress_new (), &error));
  EXPECT_NOT_IN_COROUTINE (kaa_await_double (kaa_in_progress_new (), &error));
  EXPECT_NOT_IN_COROUTINE (g_assert_null (kaa_await_string (kaa_in_progress_new (), &error)));
  EXPECT_NOT_IN_COROUTINE (g_assert_null (kaa_await_object (kaa_in_progress_new (), &error)));
  EXPECT_CRITICAL ("*not called from a coroutine*",
                   g_assert_false (kaa_await (kaa_sleep (1), NULL)));
  /* The borrowing await takes nothing: the caller's reference stays. */
  borrowed = kaa_in_progress_new ();
  EXPECT_NOT_IN_COROUTINE (g_assert_false (kaa_await_borrowed (borrowed, &error)));
  g_assert_cmpint (kaa_in_progress_get_state (borrowed), ==, KAA_STATE_PENDING);
  kaa_in_progress_unref (borrowed);

#undef EXPECT_NOT_IN_COROUTINE
}

static void
test_await_error_set (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = g_error_new_literal (KAA_ERROR, KAA_ERROR_FAILED, "earlier");
  KaaInProgress *borrowed = kaa_in_progress_new ();

  g_test_summary ("DESIGN §2: an await whose *error is already set is a critical that "
                  "still takes the InProgress it was given; the borrowing await leaves "
                  "the caller's reference alone (the live counters check both)");

#define EXPECT_ERROR_SET(call)                                                  \
  G_STMT_START {                                                                \
    EXPECT_CRITICAL ("*error == NULL || *error == NULL*", call);                \
    g_assert_error (error, KAA_ERROR, KAA_ERROR_FAILED);                        \
  } G_STMT_END

  EXPECT_ERROR_SET (g_assert_false (kaa_await (kaa_in_progress_new (), &error)));
  EXPECT_ERROR_SET (kaa_await_boolean (kaa_in_progress_new (), &error));
  EXPECT_ERROR_SET (kaa_await_int64 (kaa_in_progress_new (), &error));
  EXPECT_ERROR_SET (kaa_await_double (kaa_in_progress_new (), &error));
  EXPECT_ERROR_SET (g_assert_null (kaa_await_string (kaa_in_progress_new (), &error)));
  EXPECT_ERROR_SET (g_assert_null (kaa_await_object (kaa_in_progress_new (), &error)));
  EXPECT_ERROR_SET (g_assert_false (kaa_await (kaa_sleep (1), &error)));
  EXPECT_ERROR_SET (g_assert_false (kaa_await_borrowed (borrowed, &error)));
  EXPECT_CRITICAL ("*in_progress != NULL*", g_assert_false (kaa_await_borrowed (NULL, NULL)));

#undef EXPECT_ERROR_SET

  g_assert_cmpint (kaa_in_progress_get_state (borrowed), ==, KAA_STATE_PENDING);
  kaa_in_progress_unref (borrowed);
}

/* -------------------------------------------------------- thread pools */

typedef struct
{
  guint       freed;
  GParamSpec *pspec;
} Misbehaviour;

static gpointer
job_misbehaves (KaaThreadJob *job,
                gpointer      data,
                GError      **error)
{
  Misbehaviour *m = data;
  guint *freed = &m->freed;

  /* The main thread expects these messages and is blocked in a wait. */
  g_assert_false (kaa_thread_job_check (NULL));
  g_assert_null (kaa_thread_job_get_cancellable (NULL));
  kaa_thread_job_set_progress (NULL, 1, 2);
  kaa_thread_job_return_pointer (NULL, freed, count_free);
  kaa_thread_job_return_boolean (NULL, TRUE);
  kaa_thread_job_return_int64 (NULL, 1);
  kaa_thread_job_return_double (NULL, 1.0);
  kaa_thread_job_return_string (NULL, "x");
  kaa_thread_job_return_object (NULL, NULL);
  kaa_thread_job_return_object (job, m->pspec);
  kaa_thread_job_return_int64 (job, 8);
  kaa_thread_job_return_int64 (job, 9);
  kaa_thread_job_return_pointer (job, freed, count_free);
  return NULL;
}

static void
test_thread_pool (Fixture       *f,
                  gconstpointer  data)
{
  static const KaaThreadDef no_func = { .name = "no-func" };
  g_autoptr(KaaThreadPool) pool = kaa_thread_pool_new ("bad-input", 1);
  g_autoptr(KaaThreadPool) again = NULL;
  g_autoptr(KaaThreadPool) doomed = kaa_thread_pool_new ("bad-input-doomed", 1);
  g_autoptr(KaaInProgress) misbehaving = NULL;
  g_autoptr(KaaInProgress) late = NULL;
  g_autoptr(GParamSpec) pspec = not_an_object ();
  Misbehaviour m = { 0, pspec };

  g_test_summary ("DESIGN §5, §8: thread pool and job functions answer bad input with "
                  "a critical; a second result is dropped; a shut-down pool fails jobs");

  EXPECT_INVALID ("*func != NULL*", kaa_thread_run (NULL, NULL, NULL));
  EXPECT_INVALID ("*def != NULL*", kaa_thread_run_def (NULL, NULL, NULL));
  EXPECT_INVALID ("*def->func != NULL*", kaa_thread_run_def (&no_func, NULL, NULL));
  EXPECT_INVALID ("*func != NULL*", kaa_main_thread_run (NULL, NULL, NULL));
  EXPECT_INVALID ("*self != NULL*", kaa_thread_pool_run (NULL, 0, kaa_test_job_returns_six, NULL, NULL));
  EXPECT_INVALID ("*func != NULL*", kaa_thread_pool_run (pool, 0, NULL, NULL, NULL));
  EXPECT_CRITICAL ("*name != NULL*", g_assert_null (kaa_thread_pool_new (NULL, 1)));
  EXPECT_CRITICAL ("*name != NULL*", g_assert_null (kaa_thread_pool_get (NULL)));
  EXPECT_CRITICAL ("*already exists*", again = kaa_thread_pool_new ("bad-input", 4));
  g_assert_true (again == pool);
  g_assert_cmpuint (kaa_thread_pool_get_max_threads (again), ==, 1);
  EXPECT_CRITICAL ("*self != NULL*", g_assert_null (kaa_thread_pool_ref (NULL)));
  EXPECT_CRITICAL ("*self != NULL*", kaa_thread_pool_unref (NULL));
  EXPECT_CRITICAL ("*self != NULL*", g_assert_null (kaa_thread_pool_get_name (NULL)));
  EXPECT_CRITICAL ("*self != NULL*", kaa_thread_pool_get_max_threads (NULL));
  EXPECT_CRITICAL ("*self != NULL*", kaa_thread_pool_get_n_threads (NULL));
  EXPECT_CRITICAL ("*self != NULL*", kaa_thread_pool_set_idle_timeout (NULL, 10));
  EXPECT_CRITICAL ("*msec <= G_MAXINT*", kaa_thread_pool_set_idle_timeout (pool, G_MAXUINT));
  EXPECT_CRITICAL ("*self != NULL*", kaa_thread_pool_shutdown (NULL));

  /* What job_misbehaves() does on the worker, in order. */
  for (guint i = 0; i < 9; i++)
    g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*job != NULL*");
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*G_IS_OBJECT*");
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*already has a result*");
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*already has a result*");
  misbehaving = kaa_thread_pool_run (pool, 0, job_misbehaves, &m, NULL);
  g_assert_true (kaa_in_progress_wait (misbehaving, NULL));
  g_test_assert_expected_messages ();
  g_assert_cmpint (kaa_in_progress_get_int64 (misbehaving), ==, 8);
  /* A NULL job is dropped as g_return_if_fail() drops it, result and all;
   * the second return of a real job frees what it was given. */
  g_assert_cmpuint (m.freed, ==, 1);
  kaa_test_pool_still_works (pool);
  kaa_test_still_works ();

  kaa_thread_pool_shutdown (doomed);
  late = kaa_thread_pool_run (doomed, 0, kaa_test_job_returns_six, NULL, NULL);
  g_assert_cmpint (kaa_in_progress_get_state (late), ==, KAA_STATE_FAILED);
  g_assert_error (kaa_in_progress_get_error (late), KAA_ERROR, KAA_ERROR_FAILED);
  kaa_thread_pool_shutdown (doomed);
  kaa_test_pool_still_works (pool);
}

/* --------------------------------------------- combinators, scheduler */

static void
test_combinators (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(KaaInProgress) pending = kaa_in_progress_new ();
  KaaInProgress *with_hole[] = { NULL, NULL };

  g_test_summary ("DESIGN §2, §3, §8: combinators answer NULL inputs and unknown flags "
                  "with an already-failed InProgress, releasing the inputs they were "
                  "given; a budget must be positive");

  /* Each call takes the references in with_hole: ours, taken anew each time. */
  EXPECT_INVALID ("*inputs_are_valid*", kaa_any (NULL, 2));
  with_hole[0] = kaa_in_progress_ref (pending);
  EXPECT_INVALID ("*inputs_are_valid*", kaa_any (with_hole, 2));
  with_hole[0] = kaa_in_progress_ref (pending);
  EXPECT_INVALID ("*inputs_are_valid*", kaa_any_success (with_hole, 2));
  EXPECT_INVALID ("*inputs_are_valid*", kaa_all (NULL, 1));
  with_hole[0] = kaa_in_progress_ref (pending);
  EXPECT_INVALID ("*inputs_are_valid*", kaa_all_success (with_hole, 2));
  with_hole[0] = kaa_in_progress_ref (pending);
  with_hole[1] = kaa_in_progress_ref (pending);
  EXPECT_INVALID ("*flags_are_valid*", kaa_any_with_flags (with_hole, 2, 0x80));
  with_hole[0] = kaa_in_progress_ref (pending);
  EXPECT_INVALID ("*flags_are_valid*", kaa_any_success_with_flags (with_hole, 1, 0x80));
  with_hole[0] = kaa_in_progress_ref (pending);
  EXPECT_INVALID ("*flags_are_valid*",
                  kaa_all_success_with_flags (with_hole, 1, KAA_COMBINE_CANCEL_OTHERS | 2));
  EXPECT_INVALID ("*input != NULL*", kaa_timeout (NULL, 10, TRUE));
  EXPECT_CRITICAL ("*usec > 0*", kaa_main_set_budget (0));
  EXPECT_CRITICAL ("*usec > 0*", kaa_main_set_budget (-1));
  g_assert_cmpint (kaa_main_get_budget (), >, 0);

  /* The input beside the hole was released, not cancelled or held: it
   * still settles alone, and the live counters see it go. */
  g_assert_cmpint (kaa_in_progress_get_state (pending), ==, KAA_STATE_PENDING);
  kaa_in_progress_finish_boolean (pending, TRUE);
}

/* ------------------------------------------------------------------ GIO */

static void
test_gio (Fixture       *f,
          gconstpointer  data)
{
  g_autoptr(GObject) object = g_object_new (G_TYPE_OBJECT, NULL);
  g_autoptr(GBytes) bytes = g_bytes_new_static ("x", 1);
  g_autoptr(GParamSpec) pspec = not_an_object ();
  g_autoptr(GError) error = NULL;

  g_test_summary ("DESIGN §7, §8: every GIO bridge answers bad input with a critical "
                  "and an already-failed InProgress");

  EXPECT_INVALID ("*G_IS_FILE*", kaa_file_load_contents (NULL));
  EXPECT_INVALID ("*G_IS_FILE*", kaa_file_replace_contents (NULL, bytes));
  EXPECT_INVALID ("*G_IS_SOCKET_CLIENT*", kaa_socket_client_connect_to_host (NULL, "x:1", 1));
  EXPECT_INVALID ("*G_IS_INPUT_STREAM*", kaa_input_stream_read_bytes (NULL, 1));
  EXPECT_INVALID ("*G_IS_OUTPUT_STREAM*", kaa_output_stream_write_all (NULL, bytes));
  EXPECT_INVALID ("*G_IS_IO_STREAM*", kaa_io_stream_close (NULL));
  EXPECT_INVALID ("*G_IS_SUBPROCESS*", kaa_subprocess_wait_check (NULL));
  EXPECT_INVALID ("*G_IS_SUBPROCESS*", kaa_subprocess_communicate_utf8 (NULL, NULL));
  EXPECT_INVALID ("*G_IS_DBUS_CONNECTION*",
                  kaa_dbus_connection_call (NULL, NULL, "/", "a.b", "c", NULL, NULL,
                                            G_DBUS_CALL_FLAGS_NONE, -1));
  EXPECT_INVALID ("*bus_type*", kaa_bus_get (G_BUS_TYPE_NONE));
  EXPECT_INVALID ("*bus_type*", kaa_bus_get ((GBusType) 77));
  EXPECT_INVALID ("*hostname != NULL*", kaa_resolver_lookup_by_name (NULL, NULL));
  EXPECT_INVALID ("*G_IS_RESOLVER*",
                  kaa_resolver_lookup_by_name ((GResolver *) object, "localhost"));
  EXPECT_INVALID ("*G_IS_OBJECT*", kaa_in_progress_new_for_signal (pspec, "notify"));
  EXPECT_INVALID ("*detailed_signal != NULL*", kaa_in_progress_new_for_signal (object, NULL));
  EXPECT_INVALID ("*GObject has no signal*no-such-signal*",
                  kaa_in_progress_new_for_signal (object, "no-such-signal"));
  EXPECT_INVALID ("*fd >= 0*", kaa_io_wait (-1, G_IO_IN));
  EXPECT_INVALID ("*condition != 0*", kaa_io_wait (0, 0));
  EXPECT_INVALID ("*G_IS_SOCKET*", kaa_socket_wait (NULL, G_IO_IN));
  EXPECT_INVALID ("*pid > 0*", kaa_child_wait (0));
  EXPECT_INVALID ("*signum*", kaa_unix_signal (SIGKILL));

  EXPECT_CRITICAL ("*self != NULL*", kaa_async_ready (object, NULL, NULL));
  EXPECT_CRITICAL ("*self != NULL*", g_assert_null (kaa_async_data (NULL)));
  EXPECT_CRITICAL ("*self != NULL*",
                   kaa_in_progress_to_task (NULL, NULL, NULL, NULL, NULL, NULL));
  EXPECT_CRITICAL ("*g_task_is_valid*",
                   g_assert_null (kaa_in_progress_from_task (NULL, NULL, NULL, &error)));
  g_assert_no_error (error);
}

/* -------------------------------------------------------- stack sizes */

static void
test_stack_size (Fixture       *f,
                 gconstpointer  data)
{
  static const KaaCoroutineDef huge = {
    .name = "huge", .func = kaa_test_body_yield_then_return, .stack_size = G_MAXSIZE / 2
  };
  static const KaaCoroutineDef tiny = {
    .name = "tiny", .func = kaa_test_body_yield_then_return, .stack_size = 1
  };
  g_autoptr(KaaInProgress) failed = kaa_coroutine_spawn_def (&huge, NULL, NULL, NULL);
  g_autoptr(KaaInProgress) small = kaa_coroutine_spawn_def (&tiny, NULL, NULL, NULL);
  g_autoptr(GError) error = NULL;

  g_test_summary ("STYLE §5: a stack that cannot be had fails the InProgress with a "
                  "GError naming it, never aborts; a tiny stack size is rounded up");

  g_assert_false (kaa_in_progress_wait (failed, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "coroutine stack"));
  g_assert_true (kaa_in_progress_wait (small, NULL));
  g_assert_cmpint (kaa_in_progress_get_int64 (small), ==, 42);
  kaa_test_still_works ();
}

/* ------------------------------------------------------------- main */

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);


  KAA_TEST_ADD ("in-progress-null", test_in_progress_null);
  KAA_TEST_ADD ("in-progress-invalid", test_in_progress_invalid);
  KAA_TEST_ADD ("in-progress-finished", test_in_progress_finished);
  KAA_TEST_ADD ("wrong-thread", test_wrong_thread);
  KAA_TEST_ADD ("coroutine-null", test_coroutine_null);
  KAA_TEST_ADD ("coroutine-not-running", test_coroutine_not_running);
  KAA_TEST_ADD ("outside-coroutine", test_outside_coroutine);
  KAA_TEST_ADD ("await-error-set", test_await_error_set);
  KAA_TEST_ADD ("thread-pool", test_thread_pool);
  KAA_TEST_ADD ("combinators", test_combinators);
  KAA_TEST_ADD ("gio", test_gio);
  KAA_TEST_ADD ("stack-size", test_stack_size);

  return g_test_run ();
}

