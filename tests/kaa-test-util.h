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

/* Each test owns a private GMainContext, pushed as thread-default, so the
 * InProgresses it creates belong to it and it pumps them deterministically. */
typedef struct
{
  GMainContext *context;
  gint64        live[8];   /* kaa_live_get() of each kind at setup */
} KaaTestFixture;

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

void      kaa_test_wait_for_round         (gint           *done,
                                           gint            round);

GSource  *kaa_test_watchdog_new           (GMainContext   *context,
                                           const char     *what);
void      kaa_test_watchdog_free          (GSource        *source);

KaaThreadPool *kaa_test_pool_new          (guint           max_threads);
void      kaa_test_spin_until             (gint           *flag,
                                           gint            value);
void      kaa_test_pump_until_done        (GMainContext   *context,
                                           KaaInProgress  *ip);
KaaInProgress **kaa_test_ref_all          (KaaInProgress **ips,
                                           guint           n_ips);

G_END_DECLS
