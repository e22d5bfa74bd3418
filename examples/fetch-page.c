/* fetch-page.c: kaa's fetch_page(host), in C, against a local server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 *   kaa-fetch-page            fetch one page and print it
 *   kaa-fetch-page --many     fetch 200 pages, at most 16 at a time,
 *                             with a progress bar on a terminal
 *
 * The example starts its own small HTTP server on 127.0.0.1 (a
 * GSocketService handing each connection to a coroutine), so it runs
 * offline. fetch_page() is one coroutine doing what kaa's example does
 * with a socket: connect, write a GET, read the response to the end,
 * each step an await, each cancellable.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <kaa/kaa.h>

#define N_PAGES      200
#define MAX_IN_FLIGHT 16

/* ----------------------------------------------------------- the server */

/* Reads a request up to its blank line and answers with a page naming
 * the path asked for. */
static void
serve (KaaCoroutine *co,
       gpointer      data)
{
  g_autoptr(GSocketConnection) connection = data;
  GIOStream *stream = G_IO_STREAM (connection);
  g_autoptr(GString) request = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *body = NULL;
  g_autofree char *response = NULL;
  g_autoptr(GBytes) bytes = NULL;

  while (strstr (request->str, "\r\n\r\n") == NULL)
    {
      KaaInProgress *read = kaa_input_stream_read_bytes (g_io_stream_get_input_stream (stream), 4096);

      if (!kaa_await_borrowed (read, &error) ||
          g_bytes_get_size (kaa_in_progress_get_pointer (read)) == 0)
        {
          kaa_in_progress_unref (read);
          return;
        }
      g_string_append_len (request, g_bytes_get_data (kaa_in_progress_get_pointer (read), NULL),
                           g_bytes_get_size (kaa_in_progress_get_pointer (read)));
      kaa_in_progress_unref (read);
    }
  if (sscanf (request->str, "GET %ms", &path) != 1)
    return;
  body = g_strdup_printf ("<html><body>You asked for %s</body></html>\n", path);
  response = g_strdup_printf ("HTTP/1.0 200 OK\r\nContent-Type: text/html\r\n"
                              "Content-Length: %zu\r\n\r\n%s", strlen (body), body);
  bytes = g_bytes_new (response, strlen (response));
  kaa_await (kaa_output_stream_write_all (g_io_stream_get_output_stream (stream), bytes), NULL);
  kaa_await (kaa_io_stream_close (stream), NULL);
}

static gboolean
incoming (GSocketService    *service,
          GSocketConnection *connection,
          GObject           *source,
          gpointer           data)
{
  kaa_in_progress_unref (kaa_coroutine_spawn (serve, g_object_ref (connection), NULL));
  return TRUE;
}

/* ------------------------------------------------------------ the client */

typedef struct
{
  char *address;   /* host:port */
  char *path;
} Fetch;

static void
fetch_free (gpointer data)
{
  Fetch *fetch = data;

  g_free (fetch->address);
  g_free (fetch->path);
  g_free (fetch);
}

/* Returns the whole response, headers and body, as a string. */
static void
fetch_page (KaaCoroutine *co,
            gpointer      data)
{
  Fetch *fetch = data;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GString) response = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *request = NULL;
  g_autoptr(GBytes) bytes = NULL;
  GIOStream *stream;

  connection = kaa_await_object (kaa_socket_client_connect_to_host (client, fetch->address, 80),
                                 &error);
  if (connection == NULL)
    {
      kaa_coroutine_throw (co, g_steal_pointer (&error));
      return;
    }
  stream = G_IO_STREAM (connection);
  request = g_strdup_printf ("GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", fetch->path, fetch->address);
  bytes = g_bytes_new (request, strlen (request));
  if (!kaa_await (kaa_output_stream_write_all (g_io_stream_get_output_stream (stream), bytes),
                  &error))
    {
      kaa_coroutine_throw (co, g_steal_pointer (&error));
      return;
    }
  for (;;)
    {
      KaaInProgress *read = kaa_input_stream_read_bytes (g_io_stream_get_input_stream (stream), 4096);
      GBytes *chunk;

      if (!kaa_await_borrowed (read, &error))
        {
          kaa_in_progress_unref (read);
          kaa_coroutine_throw (co, g_steal_pointer (&error));
          return;
        }
      chunk = kaa_in_progress_get_pointer (read);
      if (g_bytes_get_size (chunk) == 0)
        {
          kaa_in_progress_unref (read);
          break;
        }
      g_string_append_len (response, g_bytes_get_data (chunk, NULL), g_bytes_get_size (chunk));
      kaa_in_progress_unref (read);
    }
  kaa_coroutine_return_string (co, response->str);
}

static KaaInProgress *
fetch_start (const char *address,
             const char *path)
{
  Fetch *fetch = g_new0 (Fetch, 1);

  fetch->address = g_strdup (address);
  fetch->path = g_strdup (path);
  return kaa_coroutine_spawn (fetch_page, fetch, fetch_free);
}

/* ------------------------------------------------------- many at a time */

typedef struct
{
  const char *address;
  guint       next;        /* the next page to fetch */
  guint       done;
  guint       in_flight;
  guint       max_in_flight;
  guint       wrong;
  gboolean    bar;
} Crawl;

static void
draw_bar (Crawl *crawl)
{
  int width = 40, filled = (int) (crawl->done * width / N_PAGES);

  if (!crawl->bar)
    return;
  fprintf (stderr, "\r[%.*s%*s] %3u/%u", filled, "########################################",
           width - filled, "", crawl->done, N_PAGES);
  fflush (stderr);
}

/* One of MAX_IN_FLIGHT workers: fetches pages until none is left. */
static void
crawler (KaaCoroutine *co,
         gpointer      data)
{
  Crawl *crawl = data;

  while (crawl->next < N_PAGES)
    {
      g_autofree char *path = g_strdup_printf ("/page/%u", crawl->next++);
      g_autofree char *expect = g_strdup_printf ("You asked for %s<", path);
      g_autofree char *page = NULL;

      crawl->in_flight++;
      crawl->max_in_flight = MAX (crawl->max_in_flight, crawl->in_flight);
      page = kaa_await_string (fetch_start (crawl->address, path), NULL);
      crawl->in_flight--;
      if (page == NULL || strstr (page, expect) == NULL)
        crawl->wrong++;
      crawl->done++;
      draw_bar (crawl);
    }
}

static int
fetch_many (const char *address)
{
  Crawl crawl = { address, 0, 0, 0, 0, 0, isatty (STDERR_FILENO) };
  KaaInProgress *workers[MAX_IN_FLIGHT];
  g_autoptr(KaaInProgress) all = NULL;

  for (guint i = 0; i < MAX_IN_FLIGHT; i++)
    workers[i] = kaa_coroutine_spawn (crawler, &crawl, NULL);
  all = kaa_all (workers, MAX_IN_FLIGHT);   /* takes the workers */
  kaa_in_progress_wait (all, NULL);
  if (crawl.bar)
    fputc ('\n', stderr);
  printf ("fetched %u pages, at most %u at a time, %u wrong\n",
          crawl.done, crawl.max_in_flight, crawl.wrong);
  return crawl.done == N_PAGES && crawl.max_in_flight <= MAX_IN_FLIGHT && crawl.wrong == 0
         ? 0 : 1;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GSocketService) service = g_socket_service_new ();
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *address = NULL;
  g_autoptr(KaaInProgress) page = NULL;
  int status = 0;

  /* Room for every crawler's connect at once: past the backlog the
   * kernel drops a SYN and the client retries a second later. */
  g_socket_listener_set_backlog (G_SOCKET_LISTENER (service), 4 * MAX_IN_FLIGHT);
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (service), any_port, G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error))
    {
      g_printerr ("Could not listen on 127.0.0.1: %s\n", error->message);
      return 1;
    }
  g_signal_connect (service, "incoming", G_CALLBACK (incoming), NULL);
  g_socket_service_start (service);
  address = g_strdup_printf ("127.0.0.1:%u",
                             g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));

  if (argc > 1 && g_str_equal (argv[1], "--many"))
    status = fetch_many (address);
  else
    {
      page = fetch_start (address, "/");
      if (!kaa_in_progress_wait (page, &error))
        {
          g_printerr ("fetch_page failed: %s\n", error->message);
          status = 1;
        }
      else
        fputs (kaa_in_progress_get_string (page), stdout);
    }
  g_socket_service_stop (service);
  g_socket_listener_close (G_SOCKET_LISTENER (service));
  return status;
}
