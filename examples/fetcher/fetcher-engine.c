/* fetcher-engine.c: the engine object: its downloads, limits and history
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Everything the engine starts for the user — the downloads and the
 * searches — lives in one scope, so that Cancel all and the window's
 * end are one call each: kaa_scope_cancel(). Cancel all then starts a
 * new scope for what the user adds next. Pause all pauses the scope,
 * which reaches every member and starts new ones paused.
 */
#include <glib/gstdio.h>

#include "fetcher-private.h"

enum
{
  SIGNAL_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE_WITH_CODE (FetcherEngine, fetcher_engine, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (FETCHER_TYPE_BACKEND,
                                                      fetcher_engine_backend_init))

void
fetcher_engine_emit_changed (FetcherEngine   *engine,
                             FetcherDownload *download)
{
  g_signal_emit (engine, signals[SIGNAL_CHANGED], 0, download);
  fetcher_engine_backend_changed (engine, download);
}

/* Everything started ends here, on the owner thread, with its cleanups
 * run; the history drops what it did not write yet (see
 * fetcher_engine_close() to keep it). */
static void
fetcher_engine_dispose (GObject *object)
{
  FetcherEngine *self = FETCHER_ENGINE (object);

  if (self->scope != NULL)
    kaa_scope_cancel (self->scope);
  g_clear_pointer (&self->scope, kaa_scope_unref);
  g_clear_weak_pointer (&self->owner);
  g_clear_pointer (&self->history, fetcher_history_free);
  g_clear_object (&self->session);
  G_OBJECT_CLASS (fetcher_engine_parent_class)->dispose (object);
}

static void
fetcher_engine_finalize (GObject *object)
{
  FetcherEngine *self = FETCHER_ENGINE (object);

  g_ptr_array_unref (self->downloads);
  g_clear_pointer (&self->limit, kaa_semaphore_unref);
  g_free (self->directory);
  G_OBJECT_CLASS (fetcher_engine_parent_class)->finalize (object);
}

static void
fetcher_engine_class_init (FetcherEngineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = fetcher_engine_dispose;
  object_class->finalize = fetcher_engine_finalize;
  /* A download's state or pause changed; its progress is followed on its
   * InProgress (kaa_in_progress_connect_progress()). */
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass),
                                          G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                          G_TYPE_NONE, 1, G_TYPE_POINTER);
}

static void
fetcher_engine_init (FetcherEngine *self)
{
  self->downloads = g_ptr_array_new_with_free_func ((GDestroyNotify) fetcher_download_free);
  self->next_id = 1;
}

static KaaScope *
new_scope (FetcherEngine *self)
{
  /* One failed download must not cancel the others. */
  KaaScope *scope = kaa_scope_new (KAA_SCOPE_COLLECT_ALL);

  if (self->owner != NULL)
    kaa_scope_bind (scope, self->owner);
  return scope;
}

FetcherEngine *
fetcher_engine_new (const char           *directory,
                    const char           *database,
                    const FetcherConfig  *config,
                    GError              **error)
{
  g_autoptr(FetcherEngine) self = g_object_new (FETCHER_TYPE_ENGINE, NULL);

  g_return_val_if_fail (config->max_parallel > 0, NULL);
  if (g_mkdir_with_parents (directory, 0755) != 0)
    {
      int saved = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   "Could not make %s: %s", directory, g_strerror (saved));
      return NULL;
    }
  self->history = fetcher_history_open (database, config->search_throttle_usec, error);
  if (self->history == NULL)
    return NULL;
  self->config = *config;
  self->directory = g_strdup (directory);
  /* No timeout of libsoup's own: the stall timer and the scope's
   * deadline decide, and both stop counting while paused. */
  self->session = soup_session_new_with_options ("timeout", 0, "idle-timeout", 0,
                                                 "max-conns", 2 * config->max_parallel,
                                                 "max-conns-per-host", 2 * config->max_parallel,
                                                 NULL);
  self->limit = kaa_semaphore_new (config->max_parallel);
  kaa_semaphore_set_name (self->limit, "fetcher downloads");
  self->scope = new_scope (self);
  return g_steal_pointer (&self);
}

/* Adds a download of @url and starts it; NULL once the engine is closed
 * (fetcher_engine_close(), or the owner it was bound to is gone).
 * The download belongs to the engine, which keeps it listed after it
 * ended. */
FetcherDownload *
fetcher_engine_add (FetcherEngine *self,
                    const char    *url)
{
  FetcherDownload *d;
  g_autofree char *name = NULL;

  g_return_val_if_fail (FETCHER_IS_ENGINE (self), NULL);
  if (self->scope == NULL || (self->bound && self->owner == NULL))
    return NULL;
  d = g_new0 (FetcherDownload, 1);
  d->engine = self;
  d->id = self->next_id++;
  d->url = g_strdup (url);
  d->total = -1;
  /* Named by the id, not the URL: the same URL may be added twice. */
  name = g_strdup_printf ("download-%u", d->id);
  d->path = g_build_filename (self->directory, name, NULL);
  g_ptr_array_add (self->downloads, d);
  kaa_scope_add (self->scope, fetcher_download_start (d));
  fetcher_engine_emit_changed (self, d);
  return d;
}

GPtrArray *
fetcher_engine_get_downloads (FetcherEngine *self)
{
  return self->downloads;
}

FetcherDownload *
fetcher_engine_find (FetcherEngine *self,
                     guint          id)
{
  for (guint i = 0; i < self->downloads->len; i++)
    {
      FetcherDownload *d = g_ptr_array_index (self->downloads, i);

      if (d->id == id)
        return d;
    }
  return NULL;
}

static void
emit_all_changed (FetcherEngine *self)
{
  for (guint i = 0; i < self->downloads->len; i++)
    fetcher_engine_emit_changed (self, g_ptr_array_index (self->downloads, i));
}

void
fetcher_engine_pause_all (FetcherEngine *self)
{
  if (self->paused_all || self->scope == NULL)
    return;
  self->paused_all = TRUE;
  kaa_scope_pause (self->scope);
  emit_all_changed (self);
}

void
fetcher_engine_resume_all (FetcherEngine *self)
{
  if (!self->paused_all)
    return;
  self->paused_all = FALSE;
  kaa_scope_resume (self->scope);
  emit_all_changed (self);
}

gboolean
fetcher_engine_is_paused (FetcherEngine *self)
{
  return self->paused_all;
}

/* Ends every download and search now, their cleanups run when this
 * returns; what is added next goes to a fresh scope. A closing scope lets
 * go of the pauses it put on its members, so Pause all needs no resume. */
void
fetcher_engine_cancel_all (FetcherEngine *self)
{
  g_autoptr(KaaScope) old = g_steal_pointer (&self->scope);

  if (old == NULL)
    return;
  self->scope = new_scope (self);
  self->paused_all = FALSE;
  kaa_scope_cancel (old);
}

/* Starts a search of the history for URLs holding @text, cancelling the
 * one before it; the InProgress finishes with a GPtrArray of
 * FetcherRecord. */
KaaInProgress *
fetcher_engine_search (FetcherEngine *self,
                       const char    *text)
{
  KaaInProgress *search;

  g_return_val_if_fail (self->scope != NULL, NULL);
  search = fetcher_history_search (self->history, text);
  kaa_scope_add (self->scope, kaa_in_progress_ref (search));
  return search;
}

/* Adds @n_rows made-up rows to the history, for a search worth
 * interrupting. */
KaaInProgress *
fetcher_engine_seed_history (FetcherEngine *self,
                             guint          n_rows)
{
  return fetcher_history_seed (self->history, n_rows);
}

/* Cancels the downloads and searches and takes no more; the InProgress
 * finishes once the history has written every record, the cancelled
 * downloads' included. */
KaaInProgress *
fetcher_engine_close (FetcherEngine *self)
{
  g_autoptr(KaaScope) old = g_steal_pointer (&self->scope);

  if (old != NULL)
    kaa_scope_cancel (old);
  return fetcher_history_close (self->history);
}

/* Makes the downloads and searches end when @owner (a window) is
 * disposed: the scope of today, and those Cancel all makes next. */
void
fetcher_engine_bind (FetcherEngine *self,
                     gpointer       owner)
{
  g_return_if_fail (self->scope != NULL && self->owner == NULL);
  g_set_weak_pointer (&self->owner, owner);
  self->bound = TRUE;
  kaa_scope_bind (self->scope, owner);
}

/* The scope of the downloads and searches now. */
KaaScope *
fetcher_engine_get_scope (FetcherEngine *self)
{
  return self->scope;
}

void
fetcher_engine_get_stats (FetcherEngine *self,
                          FetcherStats  *stats)
{
  fetcher_history_get_stats (self->history, stats);
}

GArray *
fetcher_engine_dup_job_log (FetcherEngine *self)
{
  return fetcher_history_dup_log (self->history);
}
