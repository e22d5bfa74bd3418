/* kaa-in-progress-registry.c: the InProgresses the live dump starts from
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The dump (kaa-in-progress-dump.c) walks a tree of who awaits what from
 * the InProgresses recorded here, asking each producer what it waits on.
 * Coroutines and thread jobs always come in (kaa_in_progress_track()):
 * they are the roots a developer looks for, and they already cost a
 * stack or a queue slot, next to which one locked insertion is noise.
 * Every other InProgress comes in only with KAA_DEBUG=dump, leaks or
 * unhandled, or after kaa_dump_track_all(), so that the hot paths
 * (a kaa_sleep, a finish and its callback) pay one load of the debug
 * flags and nothing else; untracked ones still show up in the tree when
 * something tracked awaits them.
 *
 * An entry holds no reference: finalize takes it out (FLAG_TRACKED), and
 * a snapshot takes a reference only to an InProgress whose count has not
 * reached zero, under the lock that finalize's removal takes too.
 */
#include "config.h"

#include <execinfo.h>
#include <stdio.h>

#include "kaa-i18n-private.h"
#include "kaa-live-private.h"

#include "kaa-in-progress-impl-private.h"

/* Deep enough to reach the application's frame past the library's own. */
#define MAX_FRAMES 24

static GMutex      registry_lock;
static GHashTable *registry;   /* KaaInProgress * → KaaTracked *, under registry_lock */

void
kaa_tracked_free (KaaTracked *tracked)
{
  if (tracked == NULL)
    return;
  g_free (tracked->frames);
  g_free (tracked);
}

void
kaa_in_progress_track (KaaInProgress *self)
{
  KaaTracked *tracked;

  /* The flag claims the entry: one insertion, even from two threads. */
  if (g_atomic_int_or (&self->flags, FLAG_TRACKED) & FLAG_TRACKED)
    return;
  tracked = g_new0 (KaaTracked, 1);
  tracked->self = self;
  tracked->born = g_get_monotonic_time ();
  if (kaa_debug_get () & KAA_DEBUG_UNHANDLED)
    {
      gpointer frames[MAX_FRAMES];

      tracked->n_frames = backtrace (frames, MAX_FRAMES);
      tracked->frames = g_memdup2 (frames, sizeof (gpointer) * (gsize) tracked->n_frames);
    }
  g_mutex_lock (&registry_lock);
  if (registry == NULL)
    registry = g_hash_table_new (NULL, NULL);
  g_hash_table_insert (registry, self, tracked);
  g_mutex_unlock (&registry_lock);
}

void
kaa_in_progress_set_origin (KaaInProgress *self,
                            gpointer       func,
                            const char    *file,
                            gint           line)
{
  KaaTracked *tracked;

  if (!(g_atomic_int_get (&self->flags) & FLAG_TRACKED))
    return;
  g_mutex_lock (&registry_lock);
  tracked = g_hash_table_lookup (registry, self);
  if (tracked != NULL)
    {
      tracked->func = func;
      tracked->file = file;
      tracked->line = line;
    }
  g_mutex_unlock (&registry_lock);
}

KaaTracked *
kaa_in_progress_untrack (KaaInProgress *self)
{
  KaaTracked *tracked = NULL;

  g_mutex_lock (&registry_lock);
  if (registry != NULL && g_hash_table_steal_extended (registry, self, NULL, (gpointer *) &tracked))
    tracked->self = NULL;
  g_mutex_unlock (&registry_lock);
  return tracked;
}

static gint
tracked_compare (gconstpointer a,
                 gconstpointer b)
{
  const KaaTracked *ta = a, *tb = b;

  if (ta->born != tb->born)
    return ta->born < tb->born ? -1 : 1;
  /* Same microsecond: any order, as long as it is the same each time. */
  return (guintptr) ta->self < (guintptr) tb->self ? -1 : (ta->self != tb->self);
}

GArray *
kaa_in_progress_registry_snapshot (void)
{
  GArray *snapshot = g_array_new (FALSE, FALSE, sizeof (KaaTracked));
  GHashTableIter iter;
  gpointer value;

  g_mutex_lock (&registry_lock);
  if (registry != NULL)
    {
      g_hash_table_iter_init (&iter, registry);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        {
          KaaTracked copy = *(KaaTracked *) value;

          /* Zero already: finalize waits for the lock to take it out. */
          if (kaa_in_progress_try_ref (copy.self) == NULL)
            continue;
          copy.frames = g_memdup2 (copy.frames, sizeof (gpointer) * (gsize) copy.n_frames);
          g_array_append_val (snapshot, copy);
        }
    }
  g_mutex_unlock (&registry_lock);
  g_array_sort (snapshot, tracked_compare);
  return snapshot;
}

/* Not under the registry lock: the unref may finalize and untrack. */
void
kaa_tracked_clear (KaaTracked *tracked)
{
  g_clear_pointer (&tracked->self, kaa_in_progress_unref);
  g_clear_pointer (&tracked->frames, g_free);
}

void
kaa_in_progress_warn_unhandled (KaaInProgress *self)
{
  g_warning (_("InProgress %s (%p) failed and nobody handled its error: %s"),
             in_progress_name (self), self,
             kaa_outcome_get_error (&self->outcome)->message);
}

/* From finalize, out of line so that it stays as short as it was while
 * nothing is tracked: takes @self out and gives the unhandled-failure
 * warning, after where it was made (KAA_DEBUG=unhandled). */
void
kaa_in_progress_finalize_tracked (KaaInProgress *self)
{
  KaaTracked *tracked = NULL;

  if (g_atomic_int_get (&self->flags) & FLAG_TRACKED)
    tracked = kaa_in_progress_untrack (self);
  if (g_atomic_int_get (&self->state) == KAA_STATE_FAILED &&
      !(g_atomic_int_get (&self->flags) & FLAG_ERROR_SEEN))
    {
      /* Before the warning, which G_DEBUG=fatal-warnings may turn into
       * an abort. */
      kaa_tracked_print_backtrace (tracked);
      kaa_in_progress_warn_unhandled (self);
    }
  kaa_tracked_free (tracked);
}

void
kaa_tracked_print_backtrace (KaaTracked *tracked)
{
  char **symbols;

  if (tracked == NULL || tracked->frames == NULL)
    return;
  symbols = backtrace_symbols (tracked->frames, tracked->n_frames);
  fprintf (stderr, "libkaa: the InProgress was made at:\n");
  /* Frame 0 is kaa_in_progress_track() itself. */
  for (gint i = 1; i < tracked->n_frames; i++)
    fprintf (stderr, "  #%d %s\n", i - 1, symbols != NULL ? symbols[i] : "?");
  free (symbols);
}
