/* fetcher-dbus.h: a backend on D-Bus, as org.libkaa.Fetcher
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "fetcher-backend.h"

G_BEGIN_DECLS

guint fetcher_dbus_export (FetcherBackend   *backend,
                           GDBusConnection  *connection,
                           const char       *object_path,
                           GError          **error);

G_END_DECLS
