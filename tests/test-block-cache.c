/* test-block-cache.c: freed blocks kept for reuse, and given back
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The cache is private (kaa/kaa-thread-pool-block-cache-private.h); the
 * thread pool keeps one for its jobs. Its decay is driven by the times passed in, so these tests never
 * sleep. Under ASan and Valgrind the cache is bypassed by design, and the
 * tests that need it to keep blocks skip themselves there.
 */
#include "config.h"

#include <string.h>

#include "kaa-test-util.h"
#include "kaa-thread-pool-block-cache-private.h"
#include "kaa-thread-pool-private.h"

#define BLOCK_SIZE 200

typedef KaaTestFixture Fixture;

static void
cache_clear (KaaBlockCache *cache)
{
  kaa_block_cache_decay (cache, 0, TRUE);
  g_mutex_clear (&cache->lock);
}

/* Frees @n fresh blocks into @cache; FALSE when it keeps none (bypassed). */
static gboolean
cache_fill (KaaBlockCache *cache,
            guint          n)
{
  g_autofree gpointer *blocks = g_new (gpointer, n);

  for (guint i = 0; i < n; i++)
    blocks[i] = kaa_block_cache_alloc0 (cache, BLOCK_SIZE);
  for (guint i = 0; i < n; i++)
    kaa_block_cache_free (cache, blocks[i]);
  return cache->n_cached == n;
}

static void
test_reuse_zeroed (void)
{
  KaaBlockCache cache = KAA_BLOCK_CACHE_INIT;
  guint8 *block = kaa_block_cache_alloc0 (&cache, BLOCK_SIZE);
  guint8 *again;

  g_test_summary ("A freed block is handed out again, zeroed like a new one");
  for (guint i = 0; i < BLOCK_SIZE; i++)
    g_assert_cmpuint (block[i], ==, 0);
  memset (block, 0xa5, BLOCK_SIZE);
  kaa_block_cache_free (&cache, block);
  if (cache.n_cached == 0)
    {
      cache_clear (&cache);
      g_test_skip ("the cache is bypassed under ASan and Valgrind");
      return;
    }
  again = kaa_block_cache_alloc0 (&cache, BLOCK_SIZE);
  g_assert_true (again == block);
  for (guint i = 0; i < BLOCK_SIZE; i++)
    g_assert_cmpuint (again[i], ==, 0);
  g_assert_cmpuint (cache.n_cached, ==, 0);
  kaa_block_cache_free (&cache, again);
  cache_clear (&cache);
}

static void
test_decay (void)
{
  KaaBlockCache cache = KAA_BLOCK_CACHE_INIT;
  const gint64 t0 = 1000 * G_USEC_PER_SEC;
  gpointer used[3];

  g_test_summary ("Blocks that stayed cached through a whole decay period go back to "
                  "malloc; those used in it stay");
  if (!cache_fill (&cache, 10))
    {
      cache_clear (&cache);
      g_test_skip ("the cache is bypassed under ASan and Valgrind");
      return;
    }
  /* The first call only starts the period. */
  g_assert_cmpuint (kaa_block_cache_decay (&cache, t0, FALSE), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (used); i++)
    used[i] = kaa_block_cache_alloc0 (&cache, BLOCK_SIZE);
  for (guint i = 0; i < G_N_ELEMENTS (used); i++)
    kaa_block_cache_free (&cache, used[i]);

  /* Too early: nothing goes, and the period goes on. */
  g_assert_cmpuint (kaa_block_cache_decay (&cache, t0 + KAA_BLOCK_CACHE_DECAY_USEC - 1, FALSE), ==, 0);
  g_assert_cmpuint (cache.n_cached, ==, 10);
  /* Seven were never taken in the period; three were. */
  g_assert_cmpuint (kaa_block_cache_decay (&cache, t0 + KAA_BLOCK_CACHE_DECAY_USEC, FALSE), ==, 7);
  g_assert_cmpuint (cache.n_cached, ==, 3);
  /* A period with no use at all gives back the rest. */
  g_assert_cmpuint (kaa_block_cache_decay (&cache, t0 + 2 * KAA_BLOCK_CACHE_DECAY_USEC, FALSE), ==, 3);
  g_assert_cmpuint (cache.n_cached, ==, 0);

  g_assert_true (cache_fill (&cache, 4));
  g_assert_cmpuint (kaa_block_cache_decay (&cache, t0 + 2 * KAA_BLOCK_CACHE_DECAY_USEC + 1, TRUE), ==, 4);
  g_assert_cmpuint (cache.n_cached, ==, 0);
  cache_clear (&cache);
}

static void
test_bounded (void)
{
  KaaBlockCache cache = KAA_BLOCK_CACHE_INIT;
  const gsize big = 1024 * 1024;
  guint limit = KAA_BLOCK_CACHE_MAX_BYTES / big;
  g_autofree gpointer *blocks = g_new (gpointer, limit + 2);

  g_test_summary ("A cache keeps at most KAA_BLOCK_CACHE_MAX_BYTES; the rest is freed");
  for (guint i = 0; i < limit + 2; i++)
    blocks[i] = kaa_block_cache_alloc0 (&cache, big);
  for (guint i = 0; i < limit + 2; i++)
    kaa_block_cache_free (&cache, blocks[i]);
  g_assert_cmpuint (cache.n_cached, <=, limit);
  cache_clear (&cache);
}

static void
run_burst (Fixture       *f,
           KaaThreadPool *pool,
           guint          n)
{
  g_autofree KaaInProgress **jobs = g_new (KaaInProgress *, n);

  for (guint i = 0; i < n; i++)
    jobs[i] = kaa_thread_pool_run (pool, 0, kaa_test_job_nothing, NULL, NULL);
  for (guint i = 0; i < n; i++)
    {
      kaa_test_pump_until_done (f->context, jobs[i]);
      kaa_in_progress_unref (jobs[i]);
    }
  kaa_test_drain (f->context);
}

static void
test_pool_gives_back (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(KaaThreadPool) pool = kaa_test_pool_new (2);
  gint64 deadline = g_get_monotonic_time () + KAA_TEST_WATCHDOG_SEC * G_USEC_PER_SEC;

  g_test_summary ("Thread jobs' memory is kept across bursts and given back when a "
                  "worker of the pool retires after its idle timeout");
  /* The default idle timeout (10 s) keeps the workers for now. */
  run_burst (f, pool, 50);
  if (kaa_thread_job_cache_get_n_cached_for_testing () < 50)
    {
      kaa_thread_pool_shutdown (pool);
      g_test_skip ("the cache is bypassed under ASan and Valgrind");
      return;
    }
  run_burst (f, pool, 50);
  g_assert_cmpuint (kaa_thread_job_cache_get_n_cached_for_testing (), ==, 50);

  /* Applies from a worker's next idle spell: the one after this job. */
  kaa_thread_pool_set_idle_timeout (pool, 200);
  run_burst (f, pool, 1);
  while (kaa_thread_job_cache_get_n_cached_for_testing () > 0)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (1000);
    }
  kaa_thread_pool_shutdown (pool);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kaa/block-cache/reuse-zeroed", test_reuse_zeroed);
  g_test_add_func ("/kaa/block-cache/decay", test_decay);
  g_test_add_func ("/kaa/block-cache/bounded", test_bounded);
  g_test_add ("/kaa/block-cache/pool-gives-back", Fixture, NULL,
              kaa_test_fixture_setup, test_pool_gives_back, kaa_test_fixture_teardown);

  return g_test_run ();
}
