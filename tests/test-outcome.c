/* test-outcome.c: one outcome type for an InProgress, a coroutine's
 * return and a thread job's (issue #21 §1)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A coroutine's kaa_coroutine_return_*() and kaa_coroutine_throw() and a
 * thread job's kaa_thread_job_return_*() and GError set a KaaOutcome that
 * the InProgress takes whole when it settles. Each kind must come out of
 * the InProgress as the finish call of that kind would have put it in,
 * through the typed getters and the GValue bindings read, and what a
 * body replaces must be freed once, neither leaked nor freed twice.
 */
#include "config.h"

#include "kaa-test-util.h"

#define KAA_TEST_AREA "outcome"

typedef enum
{
  SET_NOTHING,
  SET_POINTER,
  SET_BOOLEAN,
  SET_INT64,
  SET_DOUBLE,
  SET_STRING,
  SET_OBJECT,
  SET_ERROR,
  N_SETS,
} Set;

static int pointed;

/* What the body or the job sets, and the object it returns, which the
 * test holds a reference to and watches. */
typedef struct
{
  Set      set;
  GObject *object;
} Case;

static void
body_set (KaaCoroutine *self,
          gpointer      user_data)
{
  Case *c = user_data;

  switch (c->set)
    {
    case SET_POINTER: kaa_coroutine_return_pointer (self, &pointed, NULL); break;
    case SET_BOOLEAN: kaa_coroutine_return_boolean (self, 2); break;
    case SET_INT64:   kaa_coroutine_return_int64 (self, -42); break;
    case SET_DOUBLE:  kaa_coroutine_return_double (self, 2.5); break;
    case SET_STRING:  kaa_coroutine_return_string (self, "text"); break;
    case SET_OBJECT:  kaa_coroutine_return_object (self, c->object); break;
    case SET_ERROR:
      kaa_coroutine_throw (self, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "gone"));
      break;
    case SET_NOTHING:
    case N_SETS:
    default:
      break;
    }
}

static gpointer
job_set (KaaThreadJob *job,
         gpointer      user_data,
         GError      **error)
{
  Case *c = user_data;

  switch (c->set)
    {
    case SET_POINTER: kaa_thread_job_return_pointer (job, &pointed, NULL); break;
    case SET_BOOLEAN: kaa_thread_job_return_boolean (job, 2); break;
    case SET_INT64:   kaa_thread_job_return_int64 (job, -42); break;
    case SET_DOUBLE:  kaa_thread_job_return_double (job, 2.5); break;
    case SET_STRING:  kaa_thread_job_return_string (job, "text"); break;
    case SET_OBJECT:  kaa_thread_job_return_object (job, c->object); break;
    case SET_ERROR:
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "gone");
      break;
    case SET_NOTHING:
    case N_SETS:
    default:
      break;
    }
  return NULL;
}

/* What a finish of the same kind gives: the typed getter, then the GValue. */
static void
check_outcome (KaaInProgress *ip,
               Case          *c)
{
  GValue value = G_VALUE_INIT;

  if (c->set == SET_ERROR)
    {
      g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_FAILED);
      g_assert_error (kaa_in_progress_get_error (ip), G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
    }
  else
    {
      g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_FINISHED);
      g_assert_null (kaa_in_progress_get_error (ip));
    }
  kaa_in_progress_get_value (ip, &value);
  switch (c->set)
    {
    case SET_POINTER:
      g_assert_true (kaa_in_progress_get_pointer (ip) == &pointed);
      g_assert_true (g_value_get_pointer (&value) == &pointed);
      break;
    case SET_BOOLEAN:
      /* 2 reads as TRUE, as kaa_in_progress_finish_boolean() stores it. */
      g_assert_cmpint (kaa_in_progress_get_boolean (ip), ==, TRUE);
      g_assert_cmpint (g_value_get_boolean (&value), ==, TRUE);
      break;
    case SET_INT64:
      g_assert_cmpint (kaa_in_progress_get_int64 (ip), ==, -42);
      g_assert_cmpint (g_value_get_int64 (&value), ==, -42);
      break;
    case SET_DOUBLE:
      g_assert_cmpfloat (kaa_in_progress_get_double (ip), ==, 2.5);
      g_assert_cmpfloat (g_value_get_double (&value), ==, 2.5);
      break;
    case SET_STRING:
      g_assert_cmpstr (kaa_in_progress_get_string (ip), ==, "text");
      g_assert_cmpstr (g_value_get_string (&value), ==, "text");
      break;
    case SET_OBJECT:
      g_assert_true (kaa_in_progress_get_object (ip) == c->object);
      g_assert_true (G_VALUE_TYPE (&value) == G_OBJECT_TYPE (c->object));
      g_assert_true (g_value_get_object (&value) == c->object);
      break;
    case SET_NOTHING:
    case SET_ERROR:
      /* Nothing set finishes with a NULL pointer; a failure reads as one. */
      g_assert_null (kaa_in_progress_get_pointer (ip));
      g_assert_true (G_VALUE_TYPE (&value) == G_TYPE_POINTER);
      g_assert_null (g_value_get_pointer (&value));
      break;
    case N_SETS:
    default:
      g_assert_not_reached ();
    }
  g_value_unset (&value);
}

/* Runs each kind through @start and checks it, and that the object
 * result went with its InProgress. */
static void
check_each (KaaTestFixture  *f,
            KaaInProgress *(*start) (Case *c))
{
  for (Set set = SET_NOTHING; set < N_SETS; set++)
    {
      Case c = { .set = set, .object = g_object_new (G_TYPE_OBJECT, NULL) };
      GObject *watch = c.object;
      KaaInProgress *ip = start (&c);

      kaa_test_pump_until_done (f->context, ip);
      check_outcome (ip, &c);
      kaa_in_progress_unref (ip);
      g_object_add_weak_pointer (watch, (gpointer *) &watch);
      g_object_unref (c.object);
      g_assert_null (watch);
    }
}

static KaaInProgress *
start_coroutine (Case *c)
{
  return kaa_coroutine_spawn (body_set, c, NULL);
}

static KaaInProgress *
start_job (Case *c)
{
  return kaa_thread_run (job_set, c, NULL);
}

static void
test_coroutine_each_kind (KaaTestFixture *f,
                          gconstpointer   data)
{
  g_test_summary ("Issue 21 §1: every kind a coroutine returns or throws settles its "
                  "InProgress as the finish or fail call of that kind does");
  g_test_bug ("21");

  check_each (f, start_coroutine);
}

static void
test_job_each_kind (KaaTestFixture *f,
                    gconstpointer   data)
{
  g_test_summary ("Issue 21 §1: every kind a thread job returns, or its GError, settles "
                  "its InProgress as the finish or fail call of that kind does");
  g_test_bug ("21");

  check_each (f, start_job);
}

typedef struct
{
  gint     freed;
  GObject *object;
} Replace;

static void
count_free (gpointer data)
{
  ((Replace *) data)->freed++;
}

static void
body_replace (KaaCoroutine *self,
              gpointer      user_data)
{
  Replace *r = user_data;

  kaa_coroutine_return_string (self, "first");
  kaa_coroutine_return_pointer (self, r, count_free);
  /* The same pointer again is kept, not freed under the new result. */
  kaa_coroutine_return_pointer (self, r, count_free);
  kaa_coroutine_return_int64 (self, 1);
  g_assert_cmpint (r->freed, ==, 1);
  /* The same object twice holds one reference, not two. */
  kaa_coroutine_return_object (self, r->object);
  kaa_coroutine_return_object (self, r->object);
}

static void
test_coroutine_replaced (KaaTestFixture *f,
                         gconstpointer   data)
{
  Replace r = { .object = g_object_new (G_TYPE_OBJECT, NULL) };
  GObject *watch = r.object;
  KaaInProgress *ip;

  g_test_summary ("Issue 21 §1: a coroutine's later return replaces the earlier one, "
                  "which is freed once, also when the same pointer or object comes twice");
  g_test_bug ("21");

  ip = kaa_coroutine_spawn (body_replace, &r, NULL);
  kaa_test_pump_until_done (f->context, ip);
  g_assert_true (kaa_in_progress_get_object (ip) == r.object);
  g_assert_cmpint (r.freed, ==, 1);
  kaa_in_progress_unref (ip);
  g_object_add_weak_pointer (watch, (gpointer *) &watch);
  g_object_unref (r.object);
  g_assert_null (watch);
}

static gpointer
job_error_after_return (KaaThreadJob *job,
                        gpointer      user_data,
                        GError      **error)
{
  kaa_thread_job_return_pointer (job, user_data, count_free);
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "gone");
  return NULL;
}

static void
test_job_error_wins (KaaTestFixture *f,
                     gconstpointer   data)
{
  Replace r = { 0 };
  KaaInProgress *ip;

  g_test_summary ("Issue 21 §1: a thread job's GError wins over a result it returned "
                  "before, which is freed once");
  g_test_bug ("21");

  ip = kaa_thread_run (job_error_after_return, &r, NULL);
  kaa_test_pump_until_done (f->context, ip);
  g_assert_error (kaa_in_progress_get_error (ip), G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_cmpint (r.freed, ==, 1);
  kaa_in_progress_unref (ip);
  g_assert_cmpint (r.freed, ==, 1);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  KAA_TEST_ADD ("coroutine/each-kind", test_coroutine_each_kind);
  KAA_TEST_ADD ("thread-job/each-kind", test_job_each_kind);
  KAA_TEST_ADD ("coroutine/replaced", test_coroutine_replaced);
  KAA_TEST_ADD ("thread-job/error-wins", test_job_error_wins);

  return g_test_run ();
}
