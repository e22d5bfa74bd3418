/* test-coroutine-many.c: many coroutines alive at once (DESIGN §4)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A program of its own, in suite "slow": it maps a hundred thousand
 * stacks, which is quick natively but not under Valgrind.
 */
#include "config.h"

#include "kaa-test-util.h"

typedef KaaTestFixture Fixture;

#define MANY 100000

typedef struct
{
  KaaInProgress *gate;
  guint          resumed;
} Crowd;

static void
body_waits_at_gate (KaaCoroutine *co,
                    gpointer      data)
{
  Crowd *crowd = data;

  if (kaa_await (kaa_in_progress_ref (crowd->gate), NULL))
    crowd->resumed++;
}

static void
test_many_suspended (Fixture       *f,
                     gconstpointer  data)
{
  Crowd crowd = { kaa_in_progress_new (), 0 };
  KaaInProgress **ips = g_new (KaaInProgress *, MANY);
  guint settled = 0;

  g_test_summary ("DESIGN §4, issue #3: 100 000 coroutines suspended at the same "
                  "time, each on a stack of its own with a guard region, all resume");

  for (guint i = 0; i < MANY; i++)
    {
      ips[i] = kaa_coroutine_spawn (body_waits_at_gate, &crowd, NULL);
      g_assert_false (kaa_in_progress_is_done (ips[i]));
    }
  kaa_in_progress_finish_pointer (crowd.gate, NULL, NULL);
  kaa_test_drain (f->context);

  g_assert_cmpuint (crowd.resumed, ==, MANY);
  for (guint i = 0; i < MANY; i++)
    {
      settled += kaa_in_progress_get_state (ips[i]) == KAA_STATE_FINISHED;
      kaa_in_progress_unref (ips[i]);
    }
  g_assert_cmpuint (settled, ==, MANY);
  kaa_in_progress_unref (crowd.gate);
  g_free (ips);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/kaa/coroutine/many-suspended", Fixture, NULL,
              kaa_test_fixture_setup, test_many_suspended, kaa_test_fixture_teardown);

  return g_test_run ();
}
