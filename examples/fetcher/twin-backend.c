/* twin-backend.c: the GTask twin behind FetcherBackend
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Thin, as fetcher-engine-backend.c is for the libkaa engine. The twin
 * cannot pause (docs/fetcher.md says what it would take), so pause and
 * resume fail and the window greys their buttons out. When the window
 * it is bound to goes, the twin is closed: Cancel all, no more
 * downloads; it is freed once its last callback came back, which may be
 * after this object is gone (twin_engine_free_when_quiet()).
 */
#include "twin-engine.h"

struct _TwinBackend
{
  GObject     parent_instance;
  TwinEngine *twin;
  GObject    *owner;     /* weakly referenced */
};

static void twin_backend_iface_init (FetcherBackendInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TwinBackend, twin_backend, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (FETCHER_TYPE_BACKEND,
                                                      twin_backend_iface_init))

static void
on_owner_gone (gpointer  data,
               GObject  *where_the_owner_was)
{
  TwinBackend *self = data;

  self->owner = NULL;
  twin_engine_close (self->twin);
}

static void
twin_backend_dispose (GObject *object)
{
  TwinBackend *self = TWIN_BACKEND (object);

  if (self->owner != NULL)
    g_object_weak_unref (self->owner, on_owner_gone, self);
  self->owner = NULL;
  if (self->twin != NULL)
    twin_engine_free_when_quiet (g_steal_pointer (&self->twin));
  G_OBJECT_CLASS (twin_backend_parent_class)->dispose (object);
}

static void
twin_backend_class_init (TwinBackendClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = twin_backend_dispose;
}

static void
twin_backend_init (TwinBackend *self)
{
}

static void
on_twin_changed (TwinEngine *twin,
                 guint       id,
                 gpointer    self)
{
  fetcher_backend_emit_row_changed (self, id);
}

FetcherBackend *
twin_backend_new (const char           *directory,
                  const char           *database,
                  const FetcherConfig  *config,
                  GError              **error)
{
  TwinEngine *twin = twin_engine_new (directory, database, config, error);
  TwinBackend *self;

  if (twin == NULL)
    return NULL;
  self = g_object_new (TWIN_TYPE_BACKEND, NULL);
  self->twin = twin;
  twin_engine_set_notify (twin, on_twin_changed, self);
  return FETCHER_BACKEND (self);
}

#define TWIN(backend) (TWIN_BACKEND (backend)->twin)

static const char *
backend_get_name (FetcherBackend *backend)
{
  return "twin";
}

static gboolean
backend_cannot (FetcherBackend *backend)
{
  return FALSE;
}

static guint
backend_add (FetcherBackend *backend,
             const char     *url)
{
  TwinDownload *d = twin_engine_add (TWIN (backend), url);

  return d != NULL ? twin_download_get_id (d) : 0;
}

static guint
backend_get_n_rows (FetcherBackend *backend)
{
  return twin_engine_get_n_downloads (TWIN (backend));
}

static gboolean
backend_get_row (FetcherBackend *backend,
                 guint           id,
                 FetcherRowInfo *info)
{
  return twin_engine_get_row (TWIN (backend), id, info);
}

static gboolean
backend_cannot_control (FetcherBackend *backend,
                        guint           id)
{
  return FALSE;
}

static gboolean
backend_cancel (FetcherBackend *backend,
                guint           id)
{
  return twin_engine_cancel (TWIN (backend), id);
}

static void
backend_nothing (FetcherBackend *backend)
{
}

static void
backend_cancel_all (FetcherBackend *backend)
{
  twin_engine_cancel_all (TWIN (backend));
}

static void
backend_search_async (FetcherBackend      *backend,
                      const char          *text,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  twin_engine_search (TWIN (backend), text, callback, user_data);
}

static GPtrArray *
backend_search_finish (FetcherBackend  *backend,
                       GAsyncResult    *result,
                       GError         **error)
{
  return twin_engine_search_finish (TWIN (backend), result, error);
}

static void
backend_bind (FetcherBackend *backend,
              gpointer        owner)
{
  TwinBackend *self = TWIN_BACKEND (backend);

  g_return_if_fail (self->owner == NULL);
  self->owner = owner;
  g_object_weak_ref (owner, on_owner_gone, self);
}

static void
backend_get_stats (FetcherBackend      *backend,
                   FetcherBackendStats *stats)
{
  twin_engine_get_stats (TWIN (backend), stats);
}

static void
twin_backend_iface_init (FetcherBackendInterface *iface)
{
  iface->get_name = backend_get_name;
  iface->can_pause = backend_cannot;
  iface->add = backend_add;
  iface->get_n_rows = backend_get_n_rows;
  iface->get_row = backend_get_row;
  iface->pause = backend_cannot_control;
  iface->resume = backend_cannot_control;
  iface->cancel = backend_cancel;
  iface->pause_all = backend_nothing;
  iface->resume_all = backend_nothing;
  iface->cancel_all = backend_cancel_all;
  iface->search_async = backend_search_async;
  iface->search_finish = backend_search_finish;
  iface->bind = backend_bind;
  iface->get_stats = backend_get_stats;
}
