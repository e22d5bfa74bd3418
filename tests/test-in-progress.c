/* test-in-progress.c: the future type on one thread
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "kaa-test-util.h"
#include "kaa-in-progress-private.h"

typedef KaaTestFixture Fixture;

#define KAA_TEST_AREA "in-progress"

static void
pump (Fixture *f)
{
  for (guint i = 0; i < 10; i++)
    g_main_context_iteration (f->context, FALSE);
}

typedef struct
{
  GString *log;
  char     tag;
  guint    destroyed;
} Rec;

static void
rec_cb (KaaInProgress *self,
        gpointer       data)
{
  Rec *rec = data;

  g_string_append_c (rec->log, rec->tag);
}

static void
rec_destroy (gpointer data)
{
  ((Rec *) data)->destroyed++;
}

static void
count_free (gpointer data)
{
  (*(guint *) data)++;
}

static void
test_states (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();

  g_test_summary ("DESIGN §2: PENDING, then exactly one final state");

  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_PENDING);
  g_assert_false (kaa_in_progress_is_done (ip));
  g_assert_true (kaa_in_progress_get_context (ip) == f->context);

  kaa_in_progress_finish_int64 (ip, 42);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_FINISHED);
  g_assert_true (kaa_in_progress_is_done (ip));
  g_assert_cmpint (kaa_in_progress_get_int64 (ip), ==, 42);
  g_assert_null (kaa_in_progress_get_error (ip));
}

static void
test_second_finish (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  guint freed = 0;

  g_test_summary ("DESIGN §2: a second finish is a critical and leaves the result unchanged");

  kaa_in_progress_finish_int64 (ip, 1);

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*already done*");
  kaa_in_progress_finish_int64 (ip, 2);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*already done*");
  kaa_in_progress_finish_pointer (ip, &freed, count_free);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (freed, ==, 1);

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*already done*");
  kaa_in_progress_fail_literal (ip, KAA_ERROR, KAA_ERROR_FAILED, "late");
  g_test_assert_expected_messages ();

  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_FINISHED);
  g_assert_cmpint (kaa_in_progress_get_int64 (ip), ==, 1);
}

static void
test_finish_after_cancel (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  guint freed = 0;

  g_test_summary ("DESIGN §2: a producer finishing after a cancel is dropped quietly, "
                  "and its result is freed");

  kaa_in_progress_cancel (ip);
  kaa_in_progress_finish_pointer (ip, &freed, count_free);
  kaa_in_progress_finish_int64 (ip, 3);
  kaa_in_progress_fail_literal (ip, KAA_ERROR, KAA_ERROR_FAILED, "late");

  g_assert_cmpuint (freed, ==, 1);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
  g_assert_error (kaa_in_progress_get_error (ip), G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_result_pointer (Fixture       *f,
                     gconstpointer  data)
{
  KaaInProgress *ip = kaa_in_progress_new ();
  guint freed = 0;

  g_test_summary ("DESIGN §2: a pointer result is owned by the InProgress and freed "
                  "with its destroy notify when the InProgress is released");

  kaa_in_progress_finish_pointer (ip, &freed, count_free);
  g_assert_true (kaa_in_progress_get_pointer (ip) == &freed);
  g_assert_cmpuint (freed, ==, 0);
  kaa_in_progress_unref (ip);
  g_assert_cmpuint (freed, ==, 1);
}

static void
test_result_scalars (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(KaaInProgress) b = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) i = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) d = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) s = kaa_in_progress_new ();
  char buf[] = "copied";
  g_autofree char *dup = NULL;

  g_test_summary ("DESIGN §2: typed results for boolean, int64, double and string");

  kaa_in_progress_finish_boolean (b, 7);
  kaa_in_progress_finish_int64 (i, G_MININT64);
  kaa_in_progress_finish_double (d, 2.5);
  kaa_in_progress_finish_string (s, buf);
  buf[0] = 'X';

  g_assert_true (kaa_in_progress_get_boolean (b) == TRUE);
  g_assert_cmpint (kaa_in_progress_get_int64 (i), ==, G_MININT64);
  g_assert_cmpfloat (kaa_in_progress_get_double (d), ==, 2.5);
  g_assert_cmpstr (kaa_in_progress_get_string (s), ==, "copied");
  dup = kaa_in_progress_dup_string (s);
  g_assert_cmpstr (dup, ==, "copied");
  g_assert_true (dup != kaa_in_progress_get_string (s));
}

static void
test_result_object (Fixture       *f,
                    gconstpointer  data)
{
  KaaInProgress *ip = kaa_in_progress_new ();
  GObject *object = g_object_new (G_TYPE_OBJECT, NULL);
  GObject *dup;

  g_test_summary ("DESIGN §2: an object result holds its own reference; get is "
                  "transfer none, dup transfer full");

  g_object_add_weak_pointer (object, (gpointer *) &object);
  kaa_in_progress_finish_object (ip, object);
  g_object_unref (object);
  g_assert_nonnull (object);

  g_assert_true (kaa_in_progress_get_object (ip) == object);
  dup = kaa_in_progress_dup_object (ip);
  g_assert_true (dup == object);
  g_object_unref (dup);

  kaa_in_progress_unref (ip);
  g_assert_null (object);
}

static void
test_result_value (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(KaaInProgress) v = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) i = kaa_in_progress_new ();
  GValue in = G_VALUE_INIT;
  GValue out = G_VALUE_INIT;

  g_test_summary ("DESIGN §2: a GValue result is copied in and out; every kind "
                  "of result reads as a GValue");

  g_value_init (&in, G_TYPE_STRING);
  g_value_set_string (&in, "value");
  kaa_in_progress_finish_value (v, &in);
  g_value_unset (&in);

  kaa_in_progress_get_value (v, &out);
  g_assert_true (G_VALUE_HOLDS_STRING (&out));
  g_assert_cmpstr (g_value_get_string (&out), ==, "value");
  g_value_unset (&out);

  kaa_in_progress_finish_int64 (i, 9);
  kaa_in_progress_get_value (i, &out);
  g_assert_true (G_VALUE_HOLDS_INT64 (&out));
  g_assert_cmpint (g_value_get_int64 (&out), ==, 9);
  g_value_unset (&out);
}

static void
test_result_wrong_kind (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) pending = kaa_in_progress_new ();

  g_test_summary ("DESIGN §8: reading the wrong kind of result, or a result that "
                  "is not there yet, is a critical, never a crash");

  kaa_in_progress_finish_int64 (ip, 5);
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL,
                         "*InProgress * finished with a result of type int64, not string*");
  g_assert_null (kaa_in_progress_get_string (ip));
  g_test_assert_expected_messages ();

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*not done yet*");
  g_assert_cmpint (kaa_in_progress_get_int64 (pending), ==, 0);
  g_test_assert_expected_messages ();

  kaa_in_progress_cancel (pending);
}

static void
test_fail (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  g_autoptr(GError) error = NULL;

  g_test_summary ("DESIGN §2: failure carries a GError with its own domain and code");

  kaa_in_progress_fail (ip, g_error_new (G_FILE_ERROR, G_FILE_ERROR_NOENT, "no %s", "file"));
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_FAILED);
  g_assert_false (kaa_in_progress_propagate (ip, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_cmpstr (error->message, ==, "no file");
  g_assert_null (kaa_in_progress_get_pointer (ip));
}

static void
test_fail_cancelled_error (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();

  g_test_summary ("DESIGN §2: CANCELLED is failing with G_IO_ERROR_CANCELLED");

  kaa_in_progress_fail_literal (ip, G_IO_ERROR, G_IO_ERROR_CANCELLED, "stop");
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
}

static void
test_cancel (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) done = kaa_in_progress_new ();
  g_autoptr(GError) error = NULL;

  g_test_summary ("DESIGN §2: cancel settles as CANCELLED with G_IO_ERROR_CANCELLED; "
                  "cancelling something done does nothing");

  kaa_in_progress_cancel (ip);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_CANCELLED);
  g_assert_false (kaa_in_progress_wait (ip, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  kaa_in_progress_cancel (ip);

  kaa_in_progress_finish_boolean (done, TRUE);
  kaa_in_progress_cancel (done);
  g_assert_cmpint (kaa_in_progress_get_state (done), ==, KAA_STATE_FINISHED);
}

static void
test_cancellable (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(KaaInProgress) a = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) b = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) c = kaa_in_progress_new ();
  GCancellable *cancellable;

  g_test_summary ("DESIGN §7: the GCancellable is created lazily and cancelled with "
                  "the InProgress, and only then");

  cancellable = kaa_in_progress_get_cancellable (a);
  g_assert_true (G_IS_CANCELLABLE (cancellable));
  g_assert_true (kaa_in_progress_get_cancellable (a) == cancellable);
  g_assert_false (g_cancellable_is_cancelled (cancellable));
  kaa_in_progress_cancel (a);
  g_assert_true (g_cancellable_is_cancelled (cancellable));

  kaa_in_progress_cancel (b);
  g_assert_true (g_cancellable_is_cancelled (kaa_in_progress_get_cancellable (b)));

  cancellable = kaa_in_progress_get_cancellable (c);
  kaa_in_progress_finish_int64 (c, 1);
  g_assert_false (g_cancellable_is_cancelled (cancellable));
}

static void
test_connect_order (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  g_autoptr(GString) log = g_string_new (NULL);
  Rec r[3] = { { log, 'a', 0 }, { log, 'b', 0 }, { log, 'c', 0 } };

  g_test_summary ("DESIGN §2: callbacks connected before the finish run inside it, "
                  "in connection order, exactly once, then their destroy notify");

  for (guint i = 0; i < 3; i++)
    g_assert_cmpuint (kaa_in_progress_connect (ip, rec_cb, &r[i], rec_destroy), !=, 0);
  g_assert_cmpstr (log->str, ==, "");

  kaa_in_progress_finish_int64 (ip, 1);
  g_assert_cmpstr (log->str, ==, "abc");
  for (guint i = 0; i < 3; i++)
    g_assert_cmpuint (r[i].destroyed, ==, 1);

  pump (f);
  g_assert_cmpstr (log->str, ==, "abc");
}

static void
test_late_connect (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  g_autoptr(GString) log = g_string_new (NULL);
  Rec r = { log, 'L', 0 };

  g_test_summary ("DESIGN §2: a callback connected after the finish runs on the next "
                  "dispatch of the owner context, never inside connect");

  kaa_in_progress_finish_int64 (ip, 1);
  kaa_in_progress_connect (ip, rec_cb, &r, rec_destroy);
  g_assert_cmpstr (log->str, ==, "");

  g_main_context_iteration (f->context, FALSE);
  g_assert_cmpstr (log->str, ==, "L");
  g_assert_cmpuint (r.destroyed, ==, 1);
  pump (f);
  g_assert_cmpstr (log->str, ==, "L");
}

static void
test_disconnect (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) late = kaa_in_progress_new ();
  g_autoptr(GString) log = g_string_new (NULL);
  Rec r[3] = { { log, 'a', 0 }, { log, 'b', 0 }, { log, 'c', 0 } };
  gulong ids[3];

  g_test_summary ("DESIGN §2: a disconnected callback is never called; its destroy "
                  "notify runs at the disconnect");

  for (guint i = 0; i < 3; i++)
    ids[i] = kaa_in_progress_connect (ip, rec_cb, &r[i], rec_destroy);
  kaa_in_progress_disconnect (ip, ids[2]);   /* the head of the stack */
  kaa_in_progress_disconnect (ip, ids[0]);   /* below the head */
  g_assert_cmpuint (r[0].destroyed, ==, 1);
  g_assert_cmpuint (r[2].destroyed, ==, 1);

  kaa_in_progress_finish_int64 (ip, 1);
  g_assert_cmpstr (log->str, ==, "b");
  kaa_in_progress_disconnect (ip, ids[1]);   /* already called: ignored */
  g_assert_cmpuint (r[1].destroyed, ==, 1);

  /* A late callback disconnected before its dispatch. */
  kaa_in_progress_finish_int64 (late, 1);
  ids[0] = kaa_in_progress_connect (late, rec_cb, &r[0], rec_destroy);
  kaa_in_progress_disconnect (late, ids[0]);
  pump (f);
  g_assert_cmpstr (log->str, ==, "b");
  g_assert_cmpuint (r[0].destroyed, ==, 2);
}

typedef struct
{
  GString       *log;
  KaaInProgress *ip;
  gulong         victim;
} Meddler;

static void
meddler_disconnects (KaaInProgress *self,
                     gpointer       data)
{
  Meddler *m = data;

  g_string_append_c (m->log, 'm');
  kaa_in_progress_disconnect (self, m->victim);
}

static void
test_disconnect_during_delivery (Fixture       *f,
                                 gconstpointer  data)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  g_autoptr(GString) log = g_string_new (NULL);
  Rec victim = { log, 'v', 0 };
  Meddler m = { log, ip, 0 };

  g_test_summary ("DESIGN §2: a callback may disconnect one that has not run yet "
                  "in the same delivery; that one is not called");

  kaa_in_progress_connect (ip, meddler_disconnects, &m, NULL);
  m.victim = kaa_in_progress_connect (ip, rec_cb, &victim, rec_destroy);
  kaa_in_progress_finish_int64 (ip, 1);

  g_assert_cmpstr (log->str, ==, "m");
  g_assert_cmpuint (victim.destroyed, ==, 1);
}

static void
misbehave (KaaInProgress *self,
           gpointer       data)
{
  Rec *rec = data;

  g_string_append_c (rec->log, rec->tag);
  /* Finishing the InProgress it is called for, again, and connecting
   * from inside the delivery. */
  kaa_in_progress_finish_int64 (self, 99);
  kaa_in_progress_connect (self, rec_cb, rec + 1, rec_destroy);
}

static void
test_misbehaving_callback (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  g_autoptr(GString) log = g_string_new (NULL);
  Rec r[3] = { { log, 'x', 0 }, { log, 'n', 0 }, { log, 'z', 0 } };

  g_test_summary ("DESIGN §2: a misbehaving callback never stops the others; a "
                  "callback connected from inside a delivery runs on the next dispatch");

  kaa_in_progress_connect (ip, misbehave, &r[0], NULL);
  kaa_in_progress_connect (ip, rec_cb, &r[2], rec_destroy);

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*already done*");
  kaa_in_progress_finish_int64 (ip, 1);
  g_test_assert_expected_messages ();

  g_assert_cmpstr (log->str, ==, "xz");
  g_assert_cmpint (kaa_in_progress_get_int64 (ip), ==, 1);
  g_main_context_iteration (f->context, FALSE);
  g_assert_cmpstr (log->str, ==, "xzn");
}

static void
drop_last_ref (KaaInProgress *self,
               gpointer       data)
{
  kaa_in_progress_unref (self);
}

static void
test_callback_drops_last_ref (Fixture       *f,
                              gconstpointer  data)
{
  KaaInProgress *ip = kaa_in_progress_new ();
  g_autoptr(GString) log = g_string_new (NULL);
  Rec r = { log, 'r', 0 };

  g_test_summary ("DESIGN §2: the InProgress stays alive while its callbacks run, "
                  "even if one of them drops the last reference");

  kaa_in_progress_connect (ip, drop_last_ref, NULL, NULL);
  kaa_in_progress_connect (ip, rec_cb, &r, rec_destroy);
  kaa_in_progress_finish_int64 (ip, 1);
  g_assert_cmpstr (log->str, ==, "r");
  g_assert_cmpuint (r.destroyed, ==, 1);
}

static void
test_wait (Fixture       *f,
           gconstpointer  data)
{
  /* Before the sleep, whose 20 ms run from its creation. */
  gint64 start = g_get_monotonic_time ();
  g_autoptr(KaaInProgress) done = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) sleep = kaa_sleep (20);
  g_autoptr(GError) error = NULL;

  g_test_summary ("DESIGN §2: wait on the owner thread iterates the owner context "
                  "until the InProgress is done");

  kaa_in_progress_finish_int64 (done, 1);
  g_assert_true (kaa_in_progress_wait (done, &error));

  g_assert_true (kaa_in_progress_wait (sleep, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 20000);
}

static void
test_finish_from (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(KaaInProgress) source = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) follower = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) failing = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) follower2 = kaa_in_progress_new ();
  GObject *object = g_object_new (G_TYPE_OBJECT, NULL);

  g_test_summary ("DESIGN §2: finish_from settles an InProgress like another: "
                  "its result, or a copy of its error");

  kaa_in_progress_finish_from (follower, kaa_in_progress_ref (source));
  g_assert_false (kaa_in_progress_is_done (follower));
  kaa_in_progress_finish_object (source, object);
  g_assert_cmpint (kaa_in_progress_get_state (follower), ==, KAA_STATE_FINISHED);
  g_assert_true (kaa_in_progress_get_object (follower) == object);
  g_object_unref (object);

  kaa_in_progress_finish_from (follower2, kaa_in_progress_ref (failing));
  kaa_in_progress_fail_literal (failing, G_FILE_ERROR, G_FILE_ERROR_ACCES, "denied");
  g_assert_cmpint (kaa_in_progress_get_state (follower2), ==, KAA_STATE_FAILED);
  g_assert_error (kaa_in_progress_get_error (follower2), G_FILE_ERROR, G_FILE_ERROR_ACCES);
}

static void
test_finish_from_done (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(KaaInProgress) source = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) follower = kaa_in_progress_new ();

  g_test_summary ("DESIGN §2: finish_from a source that is already done settles at once");

  kaa_in_progress_finish_string (source, "now");
  kaa_in_progress_finish_from (follower, kaa_in_progress_ref (source));
  g_assert_cmpstr (kaa_in_progress_get_string (follower), ==, "now");
}

static void
test_finish_from_cancel (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(KaaInProgress) source = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) follower = kaa_in_progress_new ();
  g_autoptr(GString) log = g_string_new (NULL);
  Rec s = { log, 's', 0 };
  Rec fo = { log, 'f', 0 };

  g_test_summary ("DESIGN §6: cancelling a follower cancels what it follows, "
                  "innermost first");

  kaa_in_progress_finish_from (follower, kaa_in_progress_ref (source));
  kaa_in_progress_connect (source, rec_cb, &s, NULL);
  kaa_in_progress_connect (follower, rec_cb, &fo, NULL);
  kaa_in_progress_cancel (follower);

  g_assert_cmpint (kaa_in_progress_get_state (source), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (kaa_in_progress_get_state (follower), ==, KAA_STATE_CANCELLED);
  g_assert_cmpstr (log->str, ==, "sf");
}

static void
test_shield (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(KaaInProgress) source = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) shield = kaa_in_progress_shield (kaa_in_progress_ref (source));
  g_autoptr(KaaInProgress) shield2 = kaa_in_progress_shield (kaa_in_progress_ref (source));

  g_test_summary ("DESIGN §2: a shield follows an InProgress without passing cancel "
                  "down to it (kaa's noabort)");

  kaa_in_progress_cancel (shield);
  g_assert_cmpint (kaa_in_progress_get_state (shield), ==, KAA_STATE_CANCELLED);
  g_assert_cmpint (kaa_in_progress_get_state (source), ==, KAA_STATE_PENDING);

  kaa_in_progress_finish_int64 (source, 8);
  g_assert_cmpint (kaa_in_progress_get_int64 (shield2), ==, 8);
  g_assert_cmpint (kaa_in_progress_get_state (shield), ==, KAA_STATE_CANCELLED);
}

static void
test_unhandled_failure (Fixture       *f,
                        gconstpointer  data)
{
  KaaInProgress *ip = kaa_in_progress_new ();

  g_test_summary ("DESIGN §2: a failure nobody saw logs one warning, naming the "
                  "InProgress, when it is released");

  kaa_in_progress_set_name (ip, "load-config");
  g_assert_cmpstr (kaa_in_progress_get_name (ip), ==, "load-config");
  kaa_in_progress_fail_literal (ip, KAA_ERROR, KAA_ERROR_FAILED, "disk on fire");

  g_test_expect_message ("Kaa", G_LOG_LEVEL_WARNING,
                         "*load-config*nobody handled*disk on fire*");
  kaa_in_progress_unref (ip);
  g_test_assert_expected_messages ();
}

static const char static_name[] = "static-name";

static void
test_static_name (Fixture       *f,
                  gconstpointer  data)
{
  KaaInProgress *ip = kaa_in_progress_new ();
  char *copied = g_strdup ("copied-name");

  g_test_summary ("set_static_name keeps the very string it was given, with no "
                  "copy; set_name copies, and either replaces the other without "
                  "a leak or a dangling name");

  kaa_in_progress_set_static_name (ip, static_name);
  g_assert_true (kaa_in_progress_get_name (ip) == static_name);
  kaa_in_progress_set_name (ip, copied);
  g_free (copied);
  g_assert_cmpstr (kaa_in_progress_get_name (ip), ==, "copied-name");
  kaa_in_progress_set_static_name (ip, static_name);
  g_assert_true (kaa_in_progress_get_name (ip) == static_name);
  kaa_in_progress_set_static_name (ip, NULL);
  g_assert_null (kaa_in_progress_get_name (ip));
  kaa_in_progress_set_static_name (ip, static_name);
  kaa_in_progress_fail_literal (ip, KAA_ERROR, KAA_ERROR_FAILED, "disk on fire");

  g_test_expect_message ("Kaa", G_LOG_LEVEL_WARNING,
                         "*static-name*nobody handled*disk on fire*");
  kaa_in_progress_unref (ip);
  g_test_assert_expected_messages ();
}

static void
ignore_cb (KaaInProgress *self,
           gpointer       data)
{
}

static void
test_handled_failure (Fixture       *f,
                      gconstpointer  data)
{
  KaaInProgress *seen_by_getter = kaa_in_progress_new ();
  KaaInProgress *seen_by_propagate = kaa_in_progress_new ();
  KaaInProgress *seen_by_callback = kaa_in_progress_new ();
  KaaInProgress *seen_by_wait = kaa_in_progress_new ();
  KaaInProgress *cancelled = kaa_in_progress_new ();
  g_autoptr(GError) error = NULL;

  g_test_summary ("DESIGN §2: a failure seen by a getter, a wait or a callback is "
                  "handled; a cancellation is never unhandled (GTest would abort "
                  "on any warning here)");

  kaa_in_progress_fail_literal (seen_by_getter, KAA_ERROR, KAA_ERROR_FAILED, "x");
  g_assert_nonnull (kaa_in_progress_get_error (seen_by_getter));

  kaa_in_progress_fail_literal (seen_by_propagate, KAA_ERROR, KAA_ERROR_FAILED, "x");
  g_assert_false (kaa_in_progress_propagate (seen_by_propagate, &error));
  g_clear_error (&error);

  kaa_in_progress_connect (seen_by_callback, ignore_cb, NULL, NULL);
  kaa_in_progress_fail_literal (seen_by_callback, KAA_ERROR, KAA_ERROR_FAILED, "x");

  kaa_in_progress_fail_literal (seen_by_wait, KAA_ERROR, KAA_ERROR_FAILED, "x");
  g_assert_false (kaa_in_progress_wait (seen_by_wait, &error));
  g_clear_error (&error);

  kaa_in_progress_cancel (cancelled);

  kaa_in_progress_unref (seen_by_getter);
  kaa_in_progress_unref (seen_by_propagate);
  kaa_in_progress_unref (seen_by_callback);
  kaa_in_progress_unref (seen_by_wait);
  kaa_in_progress_unref (cancelled);
}

static void
test_gtype (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  GValue value = G_VALUE_INIT;

  g_test_summary ("DESIGN §2: KaaInProgress is a GType that GValue can carry");

  g_assert_true (G_TYPE_IS_BOXED (KAA_TYPE_IN_PROGRESS));
  g_assert_true (G_TYPE_IS_ENUM (KAA_TYPE_STATE));
  g_value_init (&value, KAA_TYPE_IN_PROGRESS);
  g_value_set_boxed (&value, ip);
  g_assert_true (g_value_get_boxed (&value) == ip);
  g_value_unset (&value);
  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_PENDING);
  kaa_in_progress_cancel (ip);
}

static void
test_new_for_error (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = g_error_new_literal (KAA_ERROR, KAA_ERROR_FAILED, "pre-failed");
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new_for_error (error);

  g_test_summary ("DESIGN §2: an InProgress can be created already failed");

  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_FAILED);
  g_assert_error (kaa_in_progress_get_error (ip), KAA_ERROR, KAA_ERROR_FAILED);
}

/* A producer that counts the pause and resume hooks it sees. */
typedef struct
{
  KaaProducer producer;
  guint       n_pause;
  guint       n_resume;
} PauseProducer;

static void
pause_producer_pause (KaaProducer   *producer,
                      KaaInProgress *in_progress)
{
  ((PauseProducer *) producer)->n_pause++;
}

static void
pause_producer_resume (KaaProducer   *producer,
                       KaaInProgress *in_progress)
{
  ((PauseProducer *) producer)->n_resume++;
}

static const KaaProducerOps pause_producer_ops = {
  .pause = pause_producer_pause,
  .resume = pause_producer_resume,
};

static void
test_pause_counter (Fixture       *f,
                    gconstpointer  data)
{
  PauseProducer producer = { { &pause_producer_ops }, 0, 0 };
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();

  g_test_summary ("DESIGN §6: pause is a counter; only 0 -> 1 and 1 -> 0 reach the "
                  "producer; a resume without a pause is a critical and changes nothing");
  kaa_in_progress_set_producer (ip, &producer.producer);

  kaa_in_progress_pause (ip);
  kaa_in_progress_pause (ip);
  g_assert_true (kaa_in_progress_is_paused (ip));
  g_assert_cmpuint (producer.n_pause, ==, 1);

  kaa_in_progress_resume (ip);
  g_assert_true (kaa_in_progress_is_paused (ip));
  g_assert_cmpuint (producer.n_resume, ==, 0);
  kaa_in_progress_resume (ip);
  g_assert_false (kaa_in_progress_is_paused (ip));
  g_assert_cmpuint (producer.n_resume, ==, 1);

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*kaa_in_progress_resume: InProgress * is not paused*");
  kaa_in_progress_resume (ip);
  g_test_assert_expected_messages ();
  g_assert_false (kaa_in_progress_is_paused (ip));
  g_assert_cmpuint (producer.n_resume, ==, 1);

  /* What is done still counts a pause (issue #15), but reaches nothing. */
  kaa_in_progress_finish_int64 (ip, 1);
  kaa_in_progress_pause (ip);
  g_assert_true (kaa_in_progress_is_paused (ip));
  g_assert_cmpuint (producer.n_pause, ==, 1);
  kaa_in_progress_resume (ip);
  g_assert_false (kaa_in_progress_is_paused (ip));
  g_assert_cmpuint (producer.n_resume, ==, 1);
}

static void
test_bad_input (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(KaaInProgress) ip = kaa_in_progress_new ();
  g_autoptr(KaaInProgress) shield = NULL;

  g_test_summary ("DESIGN §8: bad input gets a critical, never a crash; functions "
                  "returning an InProgress return an already-failed one");

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*self != NULL*");
  kaa_in_progress_finish_int64 (NULL, 1);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*callback != NULL*");
  g_assert_cmpuint (kaa_in_progress_connect (ip, NULL, NULL, NULL), ==, 0);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*id != 0*");
  kaa_in_progress_disconnect (ip, 0);
  g_test_assert_expected_messages ();

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*self != source*");
  kaa_in_progress_finish_from (ip, kaa_in_progress_ref (ip));
  g_test_assert_expected_messages ();

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*self != NULL*");
  shield = kaa_in_progress_shield (NULL);
  g_test_assert_expected_messages ();
  g_assert_nonnull (shield);
  g_assert_error (kaa_in_progress_get_error (shield), KAA_ERROR, KAA_ERROR_INVALID_ARGUMENT);

  kaa_in_progress_cancel (ip);
}

/* ---- waits nested in callbacks ---- */

static gboolean
finish_once (gpointer data)
{
  kaa_in_progress_finish_pointer (data, NULL, NULL);
  return G_SOURCE_REMOVE;
}

/* Settles @ip from a later iteration of the thread's context. */
static void
finish_idle (KaaInProgress *ip)
{
  GSource *source = g_idle_source_new ();

  g_source_set_callback (source, finish_once, ip, NULL);
  g_source_attach (source, g_main_context_get_thread_default ());
  g_source_unref (source);
}

typedef struct
{
  guint  level;
  guint  levels;
  guint *reached;
} Nest;

static void nest_wait (guint  level,
                       guint  levels,
                       guint *reached);

static void
nest_next (KaaInProgress *ip,
           gpointer       data)
{
  Nest *nest = data;

  nest_wait (nest->level + 1, nest->levels, nest->reached);
}

/* Waits for a follower of what an idle settles; the follower's callback
 * waits in turn for the next level, inside this wait. */
static void
nest_wait (guint  level,
           guint  levels,
           guint *reached)
{
  Nest nest = { level, levels, reached };
  g_autoptr(KaaInProgress) source = NULL;
  g_autoptr(KaaInProgress) follower = NULL;
  g_autoptr(GError) error = NULL;

  if (level == levels)
    return;
  *reached = level + 1;
  source = kaa_in_progress_new ();
  follower = kaa_in_progress_new ();
  kaa_in_progress_finish_from (follower, kaa_in_progress_ref (source));
  kaa_in_progress_connect (follower, nest_next, &nest, NULL);
  finish_idle (source);
  g_assert_true (kaa_in_progress_wait (follower, &error));
  g_assert_no_error (error);
}

static void
test_wait_nested_in_callbacks (Fixture       *f,
                               gconstpointer  data)
{
  GSource *watchdog = kaa_test_watchdog_new (f->context, "the nested waits");
  guint reached = 0;

  g_test_summary ("DESIGN §2: waits nest up to their documented limit of 32, each "
                  "started by a callback on what the one around it waits for: what "
                  "settles inside a nested wait is delivered there");

  nest_wait (0, 30, &reached);
  g_assert_cmpuint (reached, ==, 30);
  kaa_test_watchdog_free (watchdog);
}

static void
finish_next (KaaInProgress *ip,
             gpointer       data)
{
  kaa_in_progress_finish_pointer (data, NULL, NULL);
}

static void
nest_in_chain (KaaInProgress *ip,
               gpointer       data)
{
  nest_wait (0, 3, data);
}

static void
test_wait_deep_in_chain (Fixture       *f,
                         gconstpointer  data)
{
  GSource *watchdog = kaa_test_watchdog_new (f->context, "a wait deep in callbacks");
  KaaInProgress *chain[16];
  guint reached = 0;

  g_test_summary ("DESIGN §2: a wait in the innermost of 16 callbacks (as deep as "
                  "deliveries nest before they queue), each finishing "
                  "what the next one is connected to, sees what settles meanwhile "
                  "delivered however deep the delivery around it already is");

  for (guint i = 0; i < G_N_ELEMENTS (chain); i++)
    chain[i] = kaa_in_progress_new ();
  for (guint i = 0; i + 1 < G_N_ELEMENTS (chain); i++)
    kaa_in_progress_connect (chain[i], finish_next, chain[i + 1], NULL);
  kaa_in_progress_connect (chain[G_N_ELEMENTS (chain) - 1], nest_in_chain, &reached, NULL);
  kaa_in_progress_finish_pointer (chain[0], NULL, NULL);
  g_assert_cmpuint (reached, ==, 3);
  for (guint i = 0; i < G_N_ELEMENTS (chain); i++)
    kaa_in_progress_unref (chain[i]);
  kaa_test_watchdog_free (watchdog);
}

static void
wait_for_follower (KaaInProgress *ip,
                   gpointer       data)
{
  g_assert_true (kaa_in_progress_wait (data, NULL));
}

static void
test_wait_runs_queued_deliveries (Fixture       *f,
                                  gconstpointer  data)
{
  GSource *watchdog = kaa_test_watchdog_new (f->context, "a wait on queued deliveries");
  KaaInProgress *chain[40];
  g_autoptr(KaaInProgress) follower = kaa_in_progress_new ();
  guint last = G_N_ELEMENTS (chain) - 1;

  g_test_summary ("DESIGN §2, §6: deliveries too deep to run inside their settle wait "
                  "for the outermost one; a wait in one of its callbacks runs them, "
                  "since what it waits for may depend on them");

  for (guint i = 0; i < G_N_ELEMENTS (chain); i++)
    chain[i] = kaa_in_progress_new ();
  for (guint i = 0; i < last; i++)
    kaa_in_progress_connect (chain[i], finish_next, chain[i + 1], NULL);
  kaa_in_progress_finish_from (follower, kaa_in_progress_ref (chain[last]));
  /* Runs once the first callback returned, the rest of the chain queued. */
  kaa_in_progress_connect (chain[0], wait_for_follower, follower, NULL);
  kaa_in_progress_finish_pointer (chain[0], NULL, NULL);
  g_assert_true (kaa_in_progress_is_done (follower));
  for (guint i = 0; i < G_N_ELEMENTS (chain); i++)
    kaa_in_progress_unref (chain[i]);
  kaa_test_watchdog_free (watchdog);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);


  KAA_TEST_ADD ("states", test_states);
  KAA_TEST_ADD ("second-finish", test_second_finish);
  KAA_TEST_ADD ("finish-after-cancel", test_finish_after_cancel);
  KAA_TEST_ADD ("result-pointer", test_result_pointer);
  KAA_TEST_ADD ("result-scalars", test_result_scalars);
  KAA_TEST_ADD ("result-object", test_result_object);
  KAA_TEST_ADD ("result-value", test_result_value);
  KAA_TEST_ADD ("result-wrong-kind", test_result_wrong_kind);
  KAA_TEST_ADD ("fail", test_fail);
  KAA_TEST_ADD ("fail-cancelled-error", test_fail_cancelled_error);
  KAA_TEST_ADD ("cancel", test_cancel);
  KAA_TEST_ADD ("cancellable", test_cancellable);
  KAA_TEST_ADD ("connect-order", test_connect_order);
  KAA_TEST_ADD ("late-connect", test_late_connect);
  KAA_TEST_ADD ("disconnect", test_disconnect);
  KAA_TEST_ADD ("disconnect-during-delivery", test_disconnect_during_delivery);
  KAA_TEST_ADD ("misbehaving-callback", test_misbehaving_callback);
  KAA_TEST_ADD ("callback-drops-last-ref", test_callback_drops_last_ref);
  KAA_TEST_ADD ("wait", test_wait);
  KAA_TEST_ADD ("finish-from", test_finish_from);
  KAA_TEST_ADD ("finish-from-done", test_finish_from_done);
  KAA_TEST_ADD ("finish-from-cancel", test_finish_from_cancel);
  KAA_TEST_ADD ("shield", test_shield);
  KAA_TEST_ADD ("unhandled-failure", test_unhandled_failure);
  KAA_TEST_ADD ("static-name", test_static_name);
  KAA_TEST_ADD ("handled-failure", test_handled_failure);
  KAA_TEST_ADD ("gtype", test_gtype);
  KAA_TEST_ADD ("new-for-error", test_new_for_error);
  KAA_TEST_ADD ("pause-counter", test_pause_counter);
  KAA_TEST_ADD ("bad-input", test_bad_input);
  KAA_TEST_ADD ("wait-nested-in-callbacks", test_wait_nested_in_callbacks);
  KAA_TEST_ADD ("wait-deep-in-chain", test_wait_deep_in_chain);
  KAA_TEST_ADD ("wait-runs-queued-deliveries", test_wait_runs_queued_deliveries);

  return g_test_run ();
}
