/* test-fetcher-server.c: the HTTP server the fetcher's tests start
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>

#include "test-fetcher-server.h"

#define SLOW_STEP   (16 * 1024)
#define SLOW_MSEC   20

struct _TestServer
{
  GThread      *thread;
  GMainContext *context;
  GMainLoop    *loop;
  guint16       port;
  GMutex        lock;
  GCond         ready;
  gboolean      started;
  GHashTable   *hits;      /* path → requests so far, on the server thread only */
};

/* A body written a step at a time from a timer of the server's context.
 * The message owns it (object data), and it does not own the message:
 * the timer stops when the message ends or its client goes away. */
typedef struct
{
  SoupServerMessage *msg;
  GSource           *timer;
  gsize              offset;
  gsize              stop_at;  /* a stall stops at half */
  gsize              size;
  guint              seed;
} Streamer;

guint8
test_server_byte (guint seed,
                  gsize offset)
{
  guint32 x = (guint32) offset * 2654435761u + seed * 40503u;

  return (guint8) (x >> 13);
}

static GBytes *
make_bytes (guint seed,
            gsize offset,
            gsize length)
{
  guint8 *data = g_malloc (MAX (length, 1));

  for (gsize i = 0; i < length; i++)
    data[i] = test_server_byte (seed, offset + i);
  return g_bytes_new_take (data, length);
}

char *
test_server_sha256 (gsize size,
                    guint seed)
{
  g_autoptr(GBytes) bytes = make_bytes (seed, 0, size);

  return g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);
}

static void
streamer_stop (Streamer *streamer)
{
  if (streamer->timer != NULL)
    {
      g_source_destroy (streamer->timer);
      g_clear_pointer (&streamer->timer, g_source_unref);
    }
}

static void
streamer_free (gpointer data)
{
  streamer_stop (data);
  g_free (data);
}

static gboolean
streamer_step (gpointer data)
{
  Streamer *streamer = data;
  SoupMessageBody *body = soup_server_message_get_response_body (streamer->msg);
  gsize length = MIN (SLOW_STEP, streamer->stop_at - streamer->offset);
  g_autoptr(GBytes) bytes = make_bytes (streamer->seed, streamer->offset, length);

  soup_message_body_append_bytes (body, bytes);
  streamer->offset += length;
  if (streamer->offset == streamer->size)
    soup_message_body_complete (body);
  soup_server_message_unpause (streamer->msg);
  if (streamer->offset < streamer->stop_at)
    return G_SOURCE_CONTINUE;
  g_clear_pointer (&streamer->timer, g_source_unref);
  return G_SOURCE_REMOVE;
}

/* A finished message, or one whose client went away, stops its timer. */
static void
streamer_ended (SoupServerMessage *msg,
                gpointer           data)
{
  streamer_stop (data);
}

static void
serve_slowly (TestServer        *server,
              SoupServerMessage *msg,
              gsize              size,
              guint              seed,
              gboolean           stall)
{
  Streamer *streamer = g_new0 (Streamer, 1);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);

  streamer->msg = msg;
  g_object_set_data_full (G_OBJECT (msg), "test-streamer", streamer, streamer_free);
  streamer->size = size;
  streamer->seed = seed;
  streamer->stop_at = stall ? size / 2 : size;
  soup_message_headers_set_content_length (headers, size);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  g_signal_connect (msg, "finished", G_CALLBACK (streamer_ended), streamer);
  g_signal_connect (msg, "disconnected", G_CALLBACK (streamer_ended), streamer);
  streamer->timer = g_timeout_source_new (SLOW_MSEC);
  g_source_set_callback (streamer->timer, streamer_step, streamer, NULL);
  g_source_attach (streamer->timer, server->context);
  soup_server_message_pause (msg);
}

static void
serve_file (SoupServerMessage *msg,
            gsize              size,
            guint              seed)
{
  g_autoptr(GBytes) bytes = make_bytes (seed, 0, size);

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_body_append_bytes (soup_server_message_get_response_body (msg), bytes);
}

/* Half the body, then the connection closes under the client: the
 * connection is taken from libsoup and written by hand. */
static void
serve_truncated (SoupServerMessage *msg,
                 gsize              size,
                 guint              seed)
{
  g_autoptr(GIOStream) io = soup_server_message_steal_connection (msg);
  g_autoptr(GBytes) half = make_bytes (seed, 0, size / 2);
  g_autofree char *head = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
                                           "Content-Type: application/octet-stream\r\n\r\n",
                                           size);
  GOutputStream *out = g_io_stream_get_output_stream (io);

  g_output_stream_write_all (out, head, strlen (head), NULL, NULL, NULL);
  g_output_stream_write_all (out, g_bytes_get_data (half, NULL), size / 2, NULL, NULL, NULL);
  g_io_stream_close (io, NULL, NULL);
}

/* Counts the requests for @path: the failing paths answer by it. */
static guint
hit (TestServer *server,
     const char *path)
{
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (server->hits, path)) + 1;

  g_hash_table_insert (server->hits, g_strdup (path), GUINT_TO_POINTER (n));
  return n;
}

static void
handle (SoupServer        *soup_server,
        SoupServerMessage *msg,
        const char        *path,
        GHashTable        *query,
        gpointer           data)
{
  TestServer *server = data;
  gsize size = 0;
  guint seed = 0, fails = 0;

  if (sscanf (path, "/file/%zu/%u", &size, &seed) == 2)
    serve_file (msg, size, seed);
  else if (sscanf (path, "/slow/%zu/%u", &size, &seed) == 2)
    serve_slowly (server, msg, size, seed, FALSE);
  else if (sscanf (path, "/stall/%zu/%u", &size, &seed) == 2)
    serve_slowly (server, msg, size, seed, TRUE);
  else if (sscanf (path, "/fail/%u/%zu/%u", &fails, &size, &seed) == 3)
    {
      if (hit (server, path) <= fails)
        soup_server_message_set_status (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, NULL);
      else
        serve_file (msg, size, seed);
    }
  else if (sscanf (path, "/truncated/%zu/%u", &size, &seed) == 2)
    {
      if (hit (server, path) == 1)
        serve_truncated (msg, size, seed);
      else
        serve_file (msg, size, seed);
    }
  else
    soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
}

static void
listen_local (TestServer *server,
              SoupServer *soup_server)
{
  g_autoptr(GError) error = NULL;
  GSList *uris;

  soup_server_add_handler (soup_server, NULL, handle, server, NULL);
  if (!soup_server_listen_local (soup_server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error))
    g_error ("test server: %s", error->message);
  uris = soup_server_get_uris (soup_server);
  server->port = g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
}

static gpointer
server_thread (gpointer data)
{
  TestServer *server = data;
  SoupServer *soup_server;

  g_main_context_push_thread_default (server->context);
  soup_server = soup_server_new (NULL, NULL);
  listen_local (server, soup_server);
  g_mutex_lock (&server->lock);
  server->started = TRUE;
  g_cond_signal (&server->ready);
  g_mutex_unlock (&server->lock);
  g_main_loop_run (server->loop);
  soup_server_disconnect (soup_server);
  g_object_unref (soup_server);
  /* What the disconnect finished (a stalled body's timer) goes now. */
  while (g_main_context_iteration (server->context, FALSE))
    ;
  g_main_context_pop_thread_default (server->context);
  return NULL;
}

TestServer *
test_server_start (void)
{
  TestServer *server = g_new0 (TestServer, 1);

  server->context = g_main_context_new ();
  server->loop = g_main_loop_new (server->context, FALSE);
  server->hits = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_mutex_init (&server->lock);
  g_cond_init (&server->ready);
  server->thread = g_thread_new ("test-http", server_thread, server);
  g_mutex_lock (&server->lock);
  while (!server->started)
    g_cond_wait (&server->ready, &server->lock);
  g_mutex_unlock (&server->lock);
  return server;
}

static gboolean
quit_loop (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

void
test_server_stop (TestServer *server)
{
  g_main_context_invoke (server->context, quit_loop, server->loop);
  g_thread_join (server->thread);
  g_main_loop_unref (server->loop);
  g_main_context_unref (server->context);
  g_hash_table_unref (server->hits);
  g_mutex_clear (&server->lock);
  g_cond_clear (&server->ready);
  g_free (server);
}

char *
test_server_url (TestServer *server,
                 const char *format,
                 ...)
{
  g_autofree char *path = NULL;
  va_list args;

  va_start (args, format);
  path = g_strdup_vprintf (format, args);
  va_end (args);
  return g_strdup_printf ("http://127.0.0.1:%u%s", server->port, path);
}

/* Removes a scratch directory the downloads went into (files only, no
 * subdirectories); FALSE if anything stayed. */
gboolean
test_server_remove_scratch (const char *dir)
{
  g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
  gboolean removed = listing != NULL;
  const char *name;

  while (listing != NULL && (name = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *child = g_build_filename (dir, name, NULL);

      removed &= g_unlink (child) == 0;
    }
  return g_rmdir (dir) == 0 && removed;
}
