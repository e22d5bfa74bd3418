/* kaa-channel.h: a queue of items between coroutines, the loop and threads
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined (KAA_INSIDE) && !defined (KAA_COMPILATION)
# error "Include <kaa/kaa.h>, not individual libkaa headers."
#endif

#include "kaa-in-progress.h"

G_BEGIN_DECLS

/**
 * KAA_CHANNEL_UNBOUNDED:
 *
 * The capacity of a [struct@Kaa.Channel] that never makes a sender wait.
 *
 * Since: 0.2
 */
#define KAA_CHANNEL_UNBOUNDED G_MAXUINT

/**
 * KaaOverflow:
 * @KAA_OVERFLOW_DROP_OLDEST: the oldest item in the channel is dropped to
 *   make room for the new one: a consumer that falls behind sees the
 *   latest events
 * @KAA_OVERFLOW_DROP_NEWEST: the new item is dropped: a consumer that
 *   falls behind sees the first events
 * @KAA_OVERFLOW_FAIL: the channel is closed with `KAA_ERROR_OVERFLOW`:
 *   the items in it are still received, then the error; the new item is
 *   dropped
 *
 * What [method@Kaa.Channel.push] does with an item when the channel is
 * full: the overflow policy of a stream, whose source never waits. A
 * dropped item goes to the channel's destroy notify.
 *
 * Since: 0.2
 */
typedef enum
{
  KAA_OVERFLOW_DROP_OLDEST,
  KAA_OVERFLOW_DROP_NEWEST,
  KAA_OVERFLOW_FAIL,
} KaaOverflow;

typedef struct _KaaChannel KaaChannel;

#define KAA_TYPE_CHANNEL (kaa_channel_get_type ())

KAA_AVAILABLE_IN_ALL
GType          kaa_channel_get_type          (void) G_GNUC_CONST;

KAA_AVAILABLE_IN_ALL
KaaChannel    *kaa_channel_new               (guint           capacity) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaChannel    *kaa_channel_new_full          (guint           capacity,
                                              GDestroyNotify  item_destroy)
                                              G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaChannel    *kaa_channel_new_for_values    (guint           capacity) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaChannel    *kaa_channel_ref               (KaaChannel     *self);
KAA_AVAILABLE_IN_ALL
void           kaa_channel_unref             (KaaChannel     *self);

KAA_AVAILABLE_IN_ALL
guint          kaa_channel_get_capacity      (KaaChannel     *self);
KAA_AVAILABLE_IN_ALL
guint          kaa_channel_get_length        (KaaChannel     *self);
KAA_AVAILABLE_IN_ALL
gboolean       kaa_channel_is_closed         (KaaChannel     *self);
KAA_AVAILABLE_IN_ALL
void           kaa_channel_close             (KaaChannel     *self);
KAA_AVAILABLE_IN_ALL
void           kaa_channel_close_with_error  (KaaChannel     *self,
                                              const GError   *error);

KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_channel_send              (KaaChannel     *self,
                                              gpointer        item) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_channel_receive           (KaaChannel     *self) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
gboolean       kaa_channel_try_send          (KaaChannel     *self,
                                              gpointer        item);
KAA_AVAILABLE_IN_ALL
gboolean       kaa_channel_push              (KaaChannel     *self,
                                              gpointer        item,
                                              KaaOverflow     overflow);
KAA_AVAILABLE_IN_ALL
gboolean       kaa_channel_try_receive       (KaaChannel     *self,
                                              gpointer       *item);
KAA_AVAILABLE_IN_ALL
gboolean       kaa_channel_send_blocking     (KaaChannel     *self,
                                              gpointer        item,
                                              GCancellable   *cancellable,
                                              GError        **error);
KAA_AVAILABLE_IN_ALL
gboolean       kaa_channel_receive_blocking  (KaaChannel     *self,
                                              gpointer       *item,
                                              GCancellable   *cancellable,
                                              GError        **error);
KAA_AVAILABLE_IN_ALL
gboolean       kaa_channel_await_send        (KaaChannel     *self,
                                              gpointer        item,
                                              GError        **error);
KAA_AVAILABLE_IN_ALL
gboolean       kaa_channel_await_next        (KaaChannel     *self,
                                              gpointer       *item,
                                              GError        **error);

KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_channel_send_value        (KaaChannel     *self,
                                              const GValue   *value) G_GNUC_WARN_UNUSED_RESULT;
KAA_AVAILABLE_IN_ALL
KaaInProgress *kaa_channel_receive_value     (KaaChannel     *self) G_GNUC_WARN_UNUSED_RESULT;

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KaaChannel, kaa_channel_unref)

G_END_DECLS
