/* kaa-test-util.h: what every test program needs around a private context
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <kaa/kaa.h>

G_BEGIN_DECLS

/* Only reached when a test is about to fail (a lost wake-up); generous
 * enough for Valgrind and TSan. */
#define KAA_TEST_WATCHDOG_SEC 60

/* 1 in a ThreadSanitizer build (gcc says so with a macro, clang with a
 * feature test). */
#if defined (__SANITIZE_THREAD__)
# define KAA_TEST_TSAN 1
#elif defined (__has_feature)
# if __has_feature (thread_sanitizer)
#  define KAA_TEST_TSAN 1
# endif
#endif
#ifndef KAA_TEST_TSAN
# define KAA_TEST_TSAN 0
#endif

/* Each test owns a private GMainContext, pushed as thread-default, so the
 * InProgresses it creates belong to it and it pumps them deterministically. */
typedef struct
{
  GMainContext *context;
  gint64        live[8];   /* kaa_live_get() of each kind at setup */
} KaaTestFixture;

/* Adds the test @func at "/kaa/" KAA_TEST_AREA "/" @path, run in a
 * KaaTestFixture; a test program defines KAA_TEST_AREA first. The quiet
 * form also checks that the test left its context quiet. */
#define KAA_TEST_ADD(path, func) \
  g_test_add ("/kaa/" KAA_TEST_AREA "/" path, KaaTestFixture, NULL, \
              kaa_test_fixture_setup, func, kaa_test_fixture_teardown)
/* The same, handing @data to @func. */
#define KAA_TEST_ADD_DATA(path, func, data) \
  g_test_add ("/kaa/" KAA_TEST_AREA "/" path, KaaTestFixture, data, \
              kaa_test_fixture_setup, func, kaa_test_fixture_teardown)
#define KAA_TEST_ADD_QUIET(path, func) \
  g_test_add ("/kaa/" KAA_TEST_AREA "/" path, KaaTestFixture, NULL, \
              kaa_test_fixture_setup, func, kaa_test_fixture_teardown_quiet)

void      kaa_test_fixture_setup          (KaaTestFixture *f,
                                           gconstpointer   data);
void      kaa_test_fixture_teardown       (KaaTestFixture *f,
                                           gconstpointer   data);
void      kaa_test_fixture_teardown_quiet (KaaTestFixture *f,
                                           gconstpointer   data);
void      kaa_test_fixture_kill_context   (KaaTestFixture *f);

void      kaa_test_drain                  (GMainContext   *context);
gint      kaa_test_next_wakeup_msec       (GMainContext   *context);
void      kaa_test_pump_for               (guint           msec);

void      kaa_test_body_yield_then_return (KaaCoroutine   *co,
                                           gpointer        data);
void      kaa_test_still_works            (void);
guint     kaa_test_recurse                (guint           depth);

void      kaa_test_wait_for_round         (gint           *done,
                                           gint            round);

void      kaa_test_print_dump             (void);
GSource  *kaa_test_watchdog_new           (GMainContext   *context,
                                           const char     *what);
void      kaa_test_watchdog_free          (GSource        *source);

KaaThreadPool *kaa_test_pool_new          (guint           max_threads);
gpointer  kaa_test_job_nothing            (KaaThreadJob   *job,
                                           gpointer        data,
                                           GError        **error);
gpointer  kaa_test_job_returns_six        (KaaThreadJob   *job,
                                           gpointer        data,
                                           GError        **error);
void      kaa_test_pool_still_works       (KaaThreadPool  *pool);
void      kaa_test_spin_until             (gint           *flag,
                                           gint            value);
void      kaa_test_pump_until_done        (GMainContext   *context,
                                           KaaInProgress  *ip);
KaaInProgress **kaa_test_ref_all          (KaaInProgress **ips,
                                           guint           n_ips);
void      kaa_test_poll_until_done        (GMainContext   *context,
                                           KaaInProgress  *ip);

/* A thread running a context of its own (kaa-test-util.c). Calls reach
 * it through atomics and g_main_context_wakeup(), never through a GSource
 * attached from this thread, whose hand-over inside GLib TSan cannot see. */
typedef struct
{
  GMainContext *context;   /* until kaa_test_worker_kill() */
  GThread      *thread;    /* joined by the kill; kept to compare with */
  gpointer      call;      /* atomic: the call for the worker to run */
  gint          running;   /* atomic */
  gint          quit;      /* atomic */
  gint          let_go;    /* atomic: the killer touches the context no more */
} KaaTestWorker;

void      kaa_test_worker_start           (KaaTestWorker  *w);
void      kaa_test_worker_call            (KaaTestWorker  *w,
                                           void          (*func) (gpointer data),
                                           gpointer        data);
void      kaa_test_worker_kill            (KaaTestWorker  *w);

/* A thread that settles what the test hands it, while the test pauses
 * and resumes on the owner thread what that settles: the race of a pause
 * hook with a settle elsewhere (kaa-test-util.c). A hand-over settles a
 * batch of InProgresses in a row, in order, so that the race comes up
 * many times per wake-up of the settler, also on a loaded machine. */
#define KAA_TEST_RACE_BATCH 256

typedef struct
{
  GThread  *thread;
  void    (*settle) (gpointer item);
  gpointer  item;      /* atomic: handed over, not taken yet */
  gint      given;     /* the test's thread only */
  gint      settled;   /* atomic: how many settle calls returned */
  gint      stop;      /* atomic */
} KaaTestSettler;

void      kaa_test_settler_start          (KaaTestSettler *s,
                                           void          (*settle) (gpointer item));
void      kaa_test_settler_race           (KaaTestSettler *s,
                                           gpointer        item,
                                           KaaInProgress **ips,
                                           guint           n_ips);
void      kaa_test_settler_stop           (KaaTestSettler *s);

/* A chain of coroutines, each awaiting the next (kaa-test-util.c). */
typedef struct
{
  guint         *cleaned;     /* levels, in the order their cleanups ran */
  guint          n_cleaned;
  guint          depth;
  KaaInProgress *bottom;      /* what level 0 awaits */
} KaaTestDeep;

KaaInProgress *kaa_test_deep_new          (KaaTestDeep    *deep,
                                           guint           depth);
void      kaa_test_deep_assert_unwound    (KaaTestDeep    *deep);
void      kaa_test_deep_clear             (KaaTestDeep    *deep);

/* A g_auto() cleanup that counts its runs, atomically: the C form of
 * `finally`, to see a coroutine's cleanups run once. */
typedef struct
{
  gint *counter;
} KaaTestFinally;

void      kaa_test_finally_run            (KaaTestFinally *finally);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (KaaTestFinally, kaa_test_finally_run)

G_END_DECLS
