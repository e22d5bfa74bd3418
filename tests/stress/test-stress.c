/* test-stress.c: the model-based randomized stress test (issue #7)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Drives the interpreter of kaa-stress.c from a seeded generator. The
 * seed is printed first; a failure names the operation it happened at
 * and replays with --seed N (or KAA_STRESS_SEED=N). The budget is time
 * (KAA_STRESS_SECONDS, 40 by default) or, when KAA_STRESS_OPS is set, a
 * count of operations with no time limit: the long mode.
 */
#include "config.h"

#include "kaa-stress.h"

static guint64 seed;
static guint64 max_ops;
static gdouble max_seconds = 40;

/* The budget goes in chunks, so that time is looked at now and then. */
#define CHUNK_OPS 2000
#define PROGRESS_OPS 500000

static guint
max_nodes (void)
{
  /* TSan stops at 8128 live threads and fibers together; ASan and
   * Valgrind pay per stack too. An episode never holds more coroutines
   * than nodes. */
  const char *env = g_getenv ("KAA_STRESS_NODES");

  return env != NULL ? (guint) g_ascii_strtoull (env, NULL, 10) : 48;
}

static void
test_random_operations (void)
{
  g_autofree char *replay = g_strdup_printf ("KAA_STRESS_SEED=%" G_GUINT64_FORMAT, seed);
  KaaStressConfig config = { .features = kaa_stress_features_from_env (),
                             .max_nodes = max_nodes (), .episode_ops = 400, .replay = replay };
  g_autoptr(GTimer) timer = g_timer_new ();
  KaaStressBytes bytes;
  const KaaStressStats *stats;
  KaaStress *stress;

  g_test_summary ("DESIGN §2-§6 under random load: every InProgress settles exactly "
                  "once as the model allows, every cleanup and callback runs once, "
                  "pauses balance, and nothing is left alive");
  g_test_bug ("7");
  g_test_message ("seed %" G_GUINT64_FORMAT " (replay with %s)", seed, replay);

  kaa_stress_bytes_init_seed (&bytes, seed);
  stress = kaa_stress_new (&config);
  stats = kaa_stress_get_stats (stress);
  while ((max_ops == 0 || stats->ops < max_ops) &&
         (max_seconds <= 0 || g_timer_elapsed (timer, NULL) < max_seconds))
    {
      guint64 chunk = max_ops == 0 ? CHUNK_OPS : MIN (CHUNK_OPS, max_ops - stats->ops);

      kaa_stress_run (stress, &bytes, chunk);
      /* The long mode says how far it got, in case it is stopped. */
      if (stats->ops % PROGRESS_OPS == 0)
        g_test_message ("progress: %" G_GUINT64_FORMAT " operations, %.0f s",
                        stats->ops, g_timer_elapsed (timer, NULL));
    }
  g_test_message ("%" G_GUINT64_FORMAT " operations, seed %" G_GUINT64_FORMAT ", %.1f s: "
                  "%" G_GUINT64_FORMAT " episodes, %" G_GUINT64_FORMAT " InProgresses, %"
                  G_GUINT64_FORMAT " coroutine bodies, %" G_GUINT64_FORMAT " thread jobs, %"
                  G_GUINT64_FORMAT " cancels, %" G_GUINT64_FORMAT " pauses, %"
                  G_GUINT64_FORMAT " remote events; %" G_GUINT64_FORMAT " ancestor cancels, %"
                  G_GUINT64_FORMAT " repeated inputs, %" G_GUINT64_FORMAT " context deaths, %"
                  G_GUINT64_FORMAT " spawns from jobs, %" G_GUINT64_FORMAT " scopes, %"
                  G_GUINT64_FORMAT " channel episodes (features 0x%x)",
                  stats->ops, seed, g_timer_elapsed (timer, NULL), stats->episodes,
                  stats->nodes, stats->coroutine_bodies, stats->thread_jobs, stats->cancels,
                  stats->pauses, stats->remote_events, stats->ancestor_cancels,
                  stats->repeated_inputs, stats->deaths, stats->foreign_spawns, stats->scopes,
                  stats->channel_episodes, config.features);
  g_test_message ("%" G_GUINT64_FORMAT " semaphore acquires (issue #18)", stats->acquires);
  g_assert_cmpuint (stats->ops, >, 0);
  kaa_stress_free (stress);
}

/* --seed N is taken out before g_test_init() sees the arguments. */
static void
parse_args (int   *argc,
            char **argv)
{
  const char *env;
  int out = 1;

  seed = ((guint64) g_random_int () << 32) | g_random_int ();
  if ((env = g_getenv ("KAA_STRESS_SEED")) != NULL)
    seed = g_ascii_strtoull (env, NULL, 10);
  if ((env = g_getenv ("KAA_STRESS_OPS")) != NULL)
    {
      max_ops = g_ascii_strtoull (env, NULL, 10);
      max_seconds = 0;
    }
  if ((env = g_getenv ("KAA_STRESS_SECONDS")) != NULL)
    max_seconds = g_ascii_strtod (env, NULL);
  for (int i = 1; i < *argc; i++)
    {
      if (g_str_equal (argv[i], "--seed") && i + 1 < *argc)
        seed = g_ascii_strtoull (argv[++i], NULL, 10);
      else
        argv[out++] = argv[i];
    }
  argv[out] = NULL;
  *argc = out;
}

int
main (int   argc,
      char *argv[])
{
  parse_args (&argc, argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/kaa/stress/random-operations", test_random_operations);
  return g_test_run ();
}
