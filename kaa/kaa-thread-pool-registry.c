/* kaa-thread-pool-registry.c: pools by name, and process exit
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Named pools live in one process-wide table, created on first use by
 * kaa_thread_pool_get() and kept until the process exits, so the pointer
 * it returns (transfer none) stays valid. The table is guarded by
 * registry_lock, which is never held while a pool's own lock is taken.
 *
 * The name rule (issue #22): a name taken by kaa_thread_pool_new() is
 * given back when the pool's last reference but the registry's goes, so
 * that the same code can make the same pool again. The pool itself moves
 * to the retired list and stays, idle, until exit: a pointer that
 * kaa_thread_pool_get() handed out for its name must stay valid, and
 * its workers leave on their own after the idle timeout.
 */
#include "config.h"

#include "kaa-i18n-private.h"

#include <stdlib.h>

#include "kaa-thread-pool-private.h"

/* At process exit, how long running jobs get to see their cancellable and
 * return before the process exits around them. */
#define EXIT_JOIN_TIMEOUT_USEC (2 * G_USEC_PER_SEC)
#define DEFAULT_POOL_NAME "default"

/* Name → pool, each holding one reference. Pools stay registered after
 * shutdown, so a pointer from kaa_thread_pool_get() stays valid. */
static GMutex      registry_lock;
static GHashTable *registry;
/* Pools from kaa_thread_pool_new() still holding their name (a set), and
 * those that gave it back, each holding the registry's reference. */
static GHashTable *owned_names;
static GPtrArray  *retired;

static void pools_at_exit (void);

/* Under registry_lock. Takes @pool's creation reference: no unref may
 * run under the lock, since it may call kaa_thread_pool_release_name(). */
static void
registry_add (KaaThreadPool *pool)
{
  if (registry == NULL)
    {
      registry = g_hash_table_new (g_str_hash, g_str_equal);
      owned_names = g_hash_table_new (NULL, NULL);
      retired = g_ptr_array_new ();
      atexit (pools_at_exit);
    }
  g_hash_table_insert (registry, (gpointer) kaa_thread_pool_get_name (pool), pool);
}

/**
 * kaa_thread_pool_new:
 * @name: the pool's name, for [func@Kaa.ThreadPool.get] and thread names
 * @max_threads: how many jobs may run at once, 0 for the number of CPUs
 *   (at least 2)
 *
 * Creates a pool and registers it under @name. Its threads start when
 * jobs need them and leave after an idle timeout.
 *
 * The name belongs to the pool while it is in use: when the last
 * reference to it is dropped (each job holds one until it is done), the
 * name is free again, and the next `kaa_thread_pool_new()` with it makes
 * a new pool of the size it asks for. A pool made by
 * [func@Kaa.ThreadPool.get] keeps its name for the life of the process.
 * Taking a name still in use is a programming error: it logs a critical
 * and returns the existing pool.
 *
 * Returns: (transfer full): the pool
 * Since: 0.1
 */
KaaThreadPool *
kaa_thread_pool_new (const char *name,
                     guint       max_threads)
{
  KaaThreadPool *pool;

  g_return_val_if_fail (name != NULL, NULL);

  g_mutex_lock (&registry_lock);
  pool = registry != NULL ? g_hash_table_lookup (registry, name) : NULL;
  if (pool != NULL)
    g_critical (_("%s: a thread pool named %s already exists"), G_STRFUNC, name);
  else
    {
      pool = kaa_thread_pool_create (name, max_threads);
      registry_add (pool);
      g_hash_table_add (owned_names, pool);
    }
  kaa_thread_pool_ref (pool);
  g_mutex_unlock (&registry_lock);
  return pool;
}

void
kaa_thread_pool_release_name (KaaThreadPool *pool)
{
  const char *name = kaa_thread_pool_get_name (pool);

  g_mutex_lock (&registry_lock);
  /* Not owned: a pool of kaa_thread_pool_get(), or one that already gave
   * its name back (another reference came and went since). */
  if (owned_names != NULL && g_hash_table_remove (owned_names, pool))
    {
      g_assert (g_hash_table_lookup (registry, name) == pool);
      g_hash_table_remove (registry, name);
      g_ptr_array_add (retired, pool);
    }
  g_mutex_unlock (&registry_lock);
}

/**
 * kaa_thread_pool_get:
 * @name: a pool name, such as `"io"`
 *
 * Finds the pool registered under @name, creating it with the default
 * size on first use. Any thread. A pool it creates keeps its name for the
 * life of the process; one that [ctor@Kaa.ThreadPool.new] made holds it
 * only while in use.
 *
 * Returns: (transfer none): the pool; it lives as long as the process
 * Since: 0.1
 */
KaaThreadPool *
kaa_thread_pool_get (const char *name)
{
  KaaThreadPool *pool;

  g_return_val_if_fail (name != NULL, NULL);

  g_mutex_lock (&registry_lock);
  pool = registry != NULL ? g_hash_table_lookup (registry, name) : NULL;
  if (pool == NULL)
    {
      pool = kaa_thread_pool_create (name, 0);
      registry_add (pool);
    }
  g_mutex_unlock (&registry_lock);
  return pool;
}

/**
 * kaa_thread_pool_get_default:
 *
 * The pool [func@Kaa.thread_run] uses, named `"default"`.
 *
 * Returns: (transfer none): the default pool
 * Since: 0.1
 */
KaaThreadPool *
kaa_thread_pool_get_default (void)
{
  static KaaThreadPool *default_pool;

  if (G_UNLIKELY (g_atomic_pointer_get (&default_pool) == NULL))
    g_atomic_pointer_set (&default_pool, kaa_thread_pool_get (DEFAULT_POOL_NAME));
  return g_atomic_pointer_get (&default_pool);
}

/* Process exit (atexit, installed with the first pool). Safe because it
 * runs no user code but the jobs themselves: it touches no InProgress
 * (so no callback or destroy notify runs after main() returned), leaves
 * queued jobs unrun, fires running jobs' cancellables and fails their
 * checks, and joins the workers; a job stuck in a call that no
 * cancellable reaches gets EXIT_JOIN_TIMEOUT_USEC, after which the
 * process exits around it as it would without libkaa. */
static void
pools_at_exit (void)
{
  gint64 deadline = g_get_monotonic_time () + EXIT_JOIN_TIMEOUT_USEC;
  GList *pools;

  g_mutex_lock (&registry_lock);
  pools = g_hash_table_get_values (registry);
  for (guint i = 0; i < retired->len; i++)
    pools = g_list_prepend (pools, retired->pdata[i]);
  g_mutex_unlock (&registry_lock);
  for (GList *l = pools; l != NULL; l = l->next)
    kaa_thread_pool_stop (l->data, TRUE, deadline);
  g_list_free (pools);
}
