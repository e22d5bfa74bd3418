/* gtk-demo.h: what the GTK demo's three files share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gtk/gtk.h>
#include <kaa/kaa.h>

/* The computation counts the primes below this, by trial division. */
#define DEMO_PRIME_LIMIT 20000000
/* The hash reads and checks for pause and cancel this many bytes at a time. */
#define DEMO_HASH_CHUNK  (256 * 1024)

typedef struct
{
  const char     *name;
  KaaInProgress  *in_progress;  /* the latest run; NULL before the first */
  GtkProgressBar *bar;
  GtkLabel       *status;       /* idle, running, paused, finished, ... */
} DemoJob;

typedef struct
{
  GtkApplication *app;
  GtkWindow      *window;
  char           *path;         /* the file to hash */
  gboolean        own_file;     /* made by the demo, removed at exit */
  int             rate;         /* MiB/s the hash reads at; 0: no limit */
  DemoJob         compute;
  DemoJob         hash;
  KaaScope       *scope;        /* the window's: its dispose cancels it */
  guint           handled;      /* actions carried out, for the self-test */

  gboolean        self_test;
  char           *screenshot;   /* where the self-test saves the window */
  int             status;       /* the exit status */
} Demo;

/* gtk-demo-work.c */
KaaInProgress *demo_count_primes    (void) G_GNUC_WARN_UNUSED_RESULT;
KaaInProgress *demo_hash_file       (const char  *path,
                                     int          rate) G_GNUC_WARN_UNUSED_RESULT;
char          *demo_make_temp_file  (GError     **error) G_GNUC_WARN_UNUSED_RESULT;

/* gtk-demo-self-test.c */
void           demo_self_test_start (Demo        *demo);
