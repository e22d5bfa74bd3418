/* kaa-gio-children.c: a directory's children as a stream (issue #22)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * g_file_enumerate_children_async(), then g_file_enumerator_next_files_async()
 * in batches, each GFileInfo sent into a KaaChannel (DESIGN §9) the way
 * kaa_channel_new_for_lines() sends lines: the next one only once the
 * last is in, so a slow consumer slows the enumeration down rather than
 * filling memory. Closing the channel, or dropping its last reference,
 * cancels the enumeration.
 */
#include "config.h"

#include "kaa-channel-private.h"
#include "kaa-gio-stream.h"

/* How many infos one next_files call asks for at most. */
#define BATCH 32

typedef struct
{
  KaaChannel      *channel;       /* held (kaa_channel_hold()) */
  GFileEnumerator *enumerator;    /* owned; NULL until it is open */
  GCancellable    *cancellable;   /* owned; the close notify has its own */
  GList           *pending;       /* owned GFileInfos fetched, not yet sent */
} ChildStream;

static void child_stream_next (ChildStream *stream);

static void
child_stream_free (ChildStream *stream)
{
  kaa_channel_release (stream->channel);
  g_clear_object (&stream->enumerator);
  g_object_unref (stream->cancellable);
  g_list_free_full (stream->pending, g_object_unref);
  g_free (stream);
}

/* The end: @error, unless it is the cancel a close made. Takes @error. */
static void
child_stream_end (ChildStream *stream,
                  GError      *error)
{
  if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    kaa_channel_close_with_error (stream->channel, error);
  else
    kaa_channel_close (stream->channel);
  g_clear_error (&error);
  child_stream_free (stream);
}

static void
child_stream_fetched (GObject      *source,
                      GAsyncResult *result,
                      gpointer      data)
{
  ChildStream *stream = data;
  GError *error = NULL;
  GList *infos = g_file_enumerator_next_files_finish (G_FILE_ENUMERATOR (source), result, &error);

  if (infos == NULL)   /* the end of the directory, or a failure */
    {
      child_stream_end (stream, error);
      return;
    }
  stream->pending = infos;
  child_stream_next (stream);
}

static void
child_stream_sent (KaaInProgress *send,
                   gpointer       data)
{
  ChildStream *stream = data;

  /* Not sent: the consumer closed the stream, which stops it. */
  if (kaa_in_progress_get_state (send) == KAA_STATE_FINISHED)
    child_stream_next (stream);
  else
    {
      (void) kaa_in_progress_get_error (send);
      child_stream_free (stream);
    }
  kaa_in_progress_unref (send);
}

/* Sends the next fetched info, or fetches the next batch. */
static void
child_stream_next (ChildStream *stream)
{
  GList *first = stream->pending;

  if (first == NULL)
    {
      g_file_enumerator_next_files_async (stream->enumerator, BATCH, G_PRIORITY_DEFAULT,
                                          stream->cancellable, child_stream_fetched, stream);
      return;
    }
  stream->pending = g_list_remove_link (stream->pending, first);
  /* The channel owns the info from here, sent or not. */
  kaa_in_progress_connect (kaa_channel_send (stream->channel, first->data),
                           child_stream_sent, stream, NULL);
  g_list_free_1 (first);
}

static void
child_stream_opened (GObject      *source,
                     GAsyncResult *result,
                     gpointer      data)
{
  ChildStream *stream = data;
  GError *error = NULL;

  stream->enumerator = g_file_enumerate_children_finish (G_FILE (source), result, &error);
  if (stream->enumerator == NULL)
    {
      child_stream_end (stream, error);
      return;
    }
  child_stream_next (stream);
}

static void
child_stream_stop (gpointer data)
{
  g_cancellable_cancel (data);
  g_object_unref (data);
}

/**
 * kaa_channel_new_for_children: (skip)
 * @directory: the directory to list
 * @attributes: the attributes each #GFileInfo gets, as for
 *   g_file_enumerate_children()
 * @flags: as for g_file_enumerate_children()
 * @capacity: how many infos wait for the consumer at most
 *
 * A stream of the children of @directory: each item a #GFileInfo that the
 * channel owns (g_object_unref() it once received), in the order
 * g_file_enumerator_next_files_async() gives them. Listing waits while
 * @capacity infos wait for the consumer. The calls are made on the
 * calling thread's thread-default context.
 *
 * The stream ends after the last child: the loop of
 * [method@Kaa.Channel.await_next] ends without an error; one that cannot
 * be listed (not a directory, no permission) ends it with that error.
 * [method@Kaa.Channel.close], or dropping the last reference, cancels
 * the listing.
 *
 * Returns: (transfer full): the stream
 * Since: 0.2
 */
KaaChannel *
kaa_channel_new_for_children (GFile               *directory,
                              const char          *attributes,
                              GFileQueryInfoFlags  flags,
                              guint                capacity)
{
  KaaChannel *self = kaa_channel_new_full (capacity, g_object_unref);
  ChildStream *stream;

  g_return_val_if_fail (G_IS_FILE (directory), self);
  g_return_val_if_fail (attributes != NULL, self);

  stream = g_new0 (ChildStream, 1);
  stream->channel = kaa_channel_hold (self);
  stream->cancellable = g_cancellable_new ();
  kaa_channel_set_close_notify (self, child_stream_stop, g_object_ref (stream->cancellable));
  g_file_enumerate_children_async (directory, attributes, flags, G_PRIORITY_DEFAULT,
                                   stream->cancellable, child_stream_opened, stream);
  return self;
}
