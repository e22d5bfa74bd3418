/* test-fetcher-server.h: the HTTP server the fetcher's tests start
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A SoupServer on 127.0.0.1, on a thread and main context of its own so
 * that its pace does not depend on the engine's loop. Its paths:
 *
 *   /file/SIZE/SEED          SIZE bytes at once
 *   /slow/SIZE/SEED          SIZE bytes, 16 KiB every 20 ms
 *   /stall/SIZE/SEED         the first half, then nothing, ever
 *   /fail/N/SIZE/SEED        503 for the first N requests, then the file
 *   /truncated/SIZE/SEED     the first request gets half the body and the
 *                            connection closes; later ones get it all
 *   anything else            404
 *
 * The bytes of a file depend only on its size, seed and offset
 * (test_server_byte()), so a test knows every file's SHA-256.
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _TestServer TestServer;

TestServer *test_server_start      (void);
void        test_server_stop       (TestServer  *server);
char       *test_server_url        (TestServer  *server,
                                    const char  *format,
                                    ...) G_GNUC_PRINTF (2, 3);
char       *test_server_sha256     (gsize        size,
                                    guint        seed);
guint8      test_server_byte       (guint        seed,
                                    gsize        offset);
gboolean    test_server_remove_scratch (const char *dir);

G_END_DECLS
