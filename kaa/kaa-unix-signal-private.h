/* kaa-unix-signal-private.h: which Unix signals GLib can watch (layer 0)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <signal.h>

#include <glib.h>

G_BEGIN_DECLS

/* For messages: the list below, as a developer would write it. */
#define KAA_UNIX_SIGNALS "SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGUSR2 or SIGWINCH"

/* The signals g_unix_signal_source_new() and g_unix_signal_add() accept.
 * Given another, they log a critical of GLib's own and return no source,
 * which every libkaa door that watches a signal checks for first. */
static inline gboolean
kaa_unix_signal_is_supported (int signum)
{
  return signum == SIGHUP || signum == SIGINT || signum == SIGTERM ||
         signum == SIGUSR1 || signum == SIGUSR2 || signum == SIGWINCH;
}

G_END_DECLS
