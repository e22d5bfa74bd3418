/* test-timers.c: timer dispatch under the scheduler's budget (issue #17 §6)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "kaa-test-util.h"

#define N_SLEEPS 100000
/* Sleeps share a deadline in groups, so that the order can be checked
 * where the heap does not keep one among equals. */
#define PER_GROUP 1000

typedef struct
{
  GArray *fired;   /* group numbers, in firing order */
} Fired;

typedef struct
{
  Fired *fired;
  guint  group;
} Tag;

static void
tag_fired (KaaInProgress *ip,
           gpointer       data)
{
  Tag *tag = data;

  g_assert_cmpint (kaa_in_progress_get_state (ip), ==, KAA_STATE_FINISHED);
  g_array_append_val (tag->fired->fired, tag->group);
}

static void
test_many_due_timers (KaaTestFixture *f,
                      gconstpointer   data)
{
  Fired fired = { g_array_sized_new (FALSE, FALSE, sizeof (guint), N_SLEEPS) };
  Tag *tags = g_new (Tag, N_SLEEPS);
  KaaInProgress **sleeps = g_new (KaaInProgress *, N_SLEEPS);
  gint64 before, took;
  guint iterations = 1;

  g_test_summary ("DESIGN §3: timers are budgeted like the ready queue: with a hundred "
                  "thousand sleeps due at once, one iteration fires some and returns "
                  "near the budget, and all of them fire over the next iterations, in "
                  "deadline order");
  kaa_main_set_budget (1000);
  for (guint i = 0; i < N_SLEEPS; i++)
    {
      tags[i].fired = &fired;
      tags[i].group = i / PER_GROUP;
      sleeps[i] = kaa_sleep (1 + i / PER_GROUP);
      kaa_in_progress_connect (sleeps[i], tag_fired, &tags[i], NULL);
    }
  g_usleep ((N_SLEEPS / PER_GROUP + 20) * 1000);

  before = g_get_monotonic_time ();
  g_main_context_iteration (f->context, FALSE);
  took = g_get_monotonic_time () - before;
  g_test_message ("first iteration: %u of %u sleeps fired in %" G_GINT64_FORMAT " µs",
                  fired.fired->len, N_SLEEPS, took);
  g_assert_cmpuint (fired.fired->len, >, 0);
  g_assert_cmpuint (fired.fired->len, <, N_SLEEPS);
  /* The budget is 1 ms; the bound is generous for Valgrind and a loaded
   * machine. That not all fired is what shows the budget at work. */
  g_assert_cmpint (took, <, 1000 * 1000);

  while (fired.fired->len < N_SLEEPS)
    {
      g_main_context_iteration (f->context, FALSE);
      iterations++;
    }
  g_test_message ("all fired in %u iterations", iterations);
  for (guint i = 1; i < N_SLEEPS; i++)
    g_assert_cmpuint (g_array_index (fired.fired, guint, i - 1), <=,
                      g_array_index (fired.fired, guint, i));

  for (guint i = 0; i < N_SLEEPS; i++)
    kaa_in_progress_unref (sleeps[i]);
  g_free (sleeps);
  g_free (tags);
  g_array_unref (fired.fired);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/kaa/timers/many-due", KaaTestFixture, NULL, kaa_test_fixture_setup,
              test_many_due_timers, kaa_test_fixture_teardown);

  return g_test_run ();
}
