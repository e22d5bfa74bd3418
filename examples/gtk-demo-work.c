/* gtk-demo-work.c: the GTK demo's two jobs, which know nothing of GTK
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A computation that shares the main loop by yielding between slices,
 * and a blocking hash that runs on a worker thread. Both report progress
 * through their InProgress and stop when it is cancelled; the demo's
 * window only follows them.
 */
#include <stdio.h>

#include <glib/gstdio.h>

#include "gtk-demo.h"

#define PRIME_SLICE    2000               /* numbers per slice: a millisecond or two */
#define TEMP_FILE_MIB  32

/* ------------------------------------------------------ the computation */

static gboolean
is_prime (guint32 n)
{
  if (n < 2)
    return FALSE;
  if (n % 2 == 0)
    return n == 2;
  for (guint32 d = 3; d <= n / d; d += 2)
    if (n % d == 0)
      return FALSE;
  return TRUE;
}

/* Runs on the main loop, one slice per iteration: kaa_yield() lets GTK
 * handle input and draw before the next slice. */
static void
count_primes (KaaCoroutine *co,
              gpointer      user_data)
{
  KaaInProgress *self = kaa_coroutine_get_in_progress (co);
  gint64 count = 0;

  for (guint32 n = 0; n < DEMO_PRIME_LIMIT; n++)
    {
      count += is_prime (n);
      if ((n + 1) % PRIME_SLICE == 0)
        {
          kaa_in_progress_set_progress (self, n + 1, DEMO_PRIME_LIMIT);
          if (!kaa_yield ())
            return;                     /* cancelled */
        }
    }
  kaa_coroutine_return_int64 (co, count);
}

/* ------------------------------------------------------------- the hash */

typedef struct
{
  char *path;
  int   rate;
} HashRequest;

static void
hash_request_free (gpointer data)
{
  HashRequest *request = data;

  g_free (request->path);
  g_free (request);
}

/* Holds the reads to @rate MiB/s, as from a slow disk, so that the bar
 * can be followed. Each chunk gets its slot after the previous one's,
 * or after now when the job was paused, so a pause leaves no backlog to
 * burst through. */
static void
throttle (int     rate,
          gsize   bytes,
          gint64 *next_slot)
{
  gint64 now = g_get_monotonic_time ();

  if (rate <= 0)
    return;
  *next_slot = MAX (*next_slot, now) + (gint64) bytes * G_USEC_PER_SEC / ((gint64) rate << 20);
  g_usleep (*next_slot - now);
}

/* Runs on a worker thread, where blocking reads are fine; it stops at
 * kaa_thread_job_check() while paused, and returns when cancelled. */
static gpointer
hash_file (KaaThreadJob *job,
           gpointer      user_data,
           GError      **error)
{
  HashRequest *request = user_data;
  GCancellable *cancellable = kaa_thread_job_get_cancellable (job);
  g_autoptr(GFile) file = g_file_new_for_path (request->path);
  g_autoptr(GFileInputStream) stream = NULL;
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guchar *buffer = g_malloc (DEMO_HASH_CHUNK);
  gint64 size, done = 0, next_slot = 0;
  gssize n;

  stream = g_file_read (file, cancellable, error);
  if (stream == NULL)
    return NULL;
  info = g_file_input_stream_query_info (stream, G_FILE_ATTRIBUTE_STANDARD_SIZE,
                                         cancellable, error);
  if (info == NULL)
    return NULL;
  size = g_file_info_get_size (info);

  while (kaa_thread_job_check (job))
    {
      n = g_input_stream_read (G_INPUT_STREAM (stream), buffer, DEMO_HASH_CHUNK,
                               cancellable, error);
      if (n < 0)
        return NULL;
      if (n == 0)
        {
          kaa_thread_job_return_string (job, g_checksum_get_string (checksum));
          return NULL;
        }
      g_checksum_update (checksum, buffer, n);
      done += n;
      kaa_thread_job_set_progress (job, done, size);
      throttle (request->rate, n, &next_slot);
    }
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Hash stopped");
  return NULL;
}

/* Fills a temporary file with TEMP_FILE_MIB MiB of random bytes. */
char *
demo_make_temp_file (GError **error)
{
  g_autoptr(GRand) rand = g_rand_new ();
  g_autofree guint32 *block = g_new (guint32, (1 << 20) / sizeof (guint32));
  g_autofree char *path = NULL;
  FILE *file;
  int fd;

  fd = g_file_open_tmp ("kaa-gtk-demo-XXXXXX.bin", &path, error);
  if (fd < 0)
    return NULL;
  file = fdopen (fd, "wb");
  for (int mib = 0; mib < TEMP_FILE_MIB && file != NULL; mib++)
    {
      for (gsize i = 0; i < (1 << 20) / sizeof (guint32); i++)
        block[i] = g_rand_int (rand);
      if (fwrite (block, 1, 1 << 20, file) != 1 << 20)
        break;
    }
  if (file == NULL || ferror (file) || fclose (file) != 0)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "Could not write %s", path);
      g_unlink (path);
      return NULL;
    }
  return g_steal_pointer (&path);
}

/* The InProgress of a new count; it finishes with the count, an int64. */
KaaInProgress *
demo_count_primes (void)
{
  KaaInProgress *count = kaa_coroutine_spawn (count_primes, NULL, NULL);

  kaa_in_progress_set_name (count, "count-primes");
  return count;
}

/* The InProgress of a new hash of @path, read at @rate MiB/s at most; it
 * finishes with the SHA-256 as a hexadecimal string. */
KaaInProgress *
demo_hash_file (const char *path,
                int         rate)
{
  HashRequest *request = g_new0 (HashRequest, 1);
  KaaInProgress *hash;

  request->path = g_strdup (path);
  request->rate = rate;
  hash = kaa_thread_run (hash_file, request, hash_request_free);
  kaa_in_progress_set_name (hash, "hash-file");
  return hash;
}
