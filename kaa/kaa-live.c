/* kaa-live.c: counts of live objects, for leak accounting
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each thread adds to a slot of its own (an object freed on another
 * thread than the one that made it leaves one slot above and one below
 * zero; only the sum means anything). A thread that exits folds its slot
 * into `retired`, so that its objects stay accounted for.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "kaa-debug-private.h"
#include "kaa-live-private.h"
#include "kaa-valgrind-private.h"

KAA_THREAD_LOCAL KaaLiveSlot *kaa_live_slot;

static GMutex       live_lock;
static GSList      *live_slots;   /* under live_lock */
static KaaLiveSlot  retired;      /* under live_lock */

static void
live_thread_exit (gpointer data)
{
  KaaLiveSlot *slot = data;

  g_mutex_lock (&live_lock);
  for (guint i = 0; i < KAA_LIVE_N_KINDS; i++)
    retired.count[i] += __atomic_load_n (&slot->count[i], __ATOMIC_RELAXED);
  live_slots = g_slist_remove (live_slots, slot);
  g_mutex_unlock (&live_lock);
  g_free (slot);
}

static GPrivate live_key = G_PRIVATE_INIT (live_thread_exit);

KaaLiveSlot *
kaa_live_slot_new (void)
{
  KaaLiveSlot *slot = g_new0 (KaaLiveSlot, 1);

  g_mutex_lock (&live_lock);
  live_slots = g_slist_prepend (live_slots, slot);
  g_mutex_unlock (&live_lock);
  g_private_set (&live_key, slot);
  kaa_live_slot = slot;
  return slot;
}

gint64
kaa_live_get (KaaLiveKind kind)
{
  gint64 sum;

  g_return_val_if_fail (kind < KAA_LIVE_N_KINDS, 0);

  g_mutex_lock (&live_lock);
  sum = retired.count[kind];
  for (GSList *l = live_slots; l != NULL; l = l->next)
    sum += __atomic_load_n (&((KaaLiveSlot *) l->data)->count[kind], __ATOMIC_ACQUIRE);
  g_mutex_unlock (&live_lock);
  return sum;
}

static void
live_report (void)
{
  fprintf (stderr, "libkaa: live at exit: %" G_GINT64_FORMAT " InProgress, %" G_GINT64_FORMAT
           " coroutines, %" G_GINT64_FORMAT " stacks, %" G_GINT64_FORMAT " thread jobs, %"
           G_GINT64_FORMAT " armed timers\n",
           kaa_live_get (KAA_LIVE_IN_PROGRESS), kaa_live_get (KAA_LIVE_COROUTINE),
           kaa_live_get (KAA_LIVE_STACK), kaa_live_get (KAA_LIVE_THREAD_JOB),
           kaa_live_get (KAA_LIVE_TIMER));
}

guint kaa_debug_flags;

/* slow-slice=MS has a value, which g_parse_debug_string() does not
 * take: it is cut out of the list here and parsed on its own. */
static char *
live_take_slow_slice (const char *list)
{
  g_auto (GStrv) items = g_strsplit_set (list, ",:; ", -1);
  GString *rest = g_string_new (NULL);

  for (guint i = 0; items[i] != NULL; i++)
    {
      if (g_str_has_prefix (items[i], "slow-slice="))
        {
          guint64 ms = g_ascii_strtoull (items[i] + strlen ("slow-slice="), NULL, 10);

          kaa_debug_slow_slice_us = (gint64) MAX (ms, 1) * 1000;
          kaa_debug_timed = TRUE;
          kaa_debug_flags |= KAA_DEBUG_SLOW;
        }
      else if (items[i][0] != '\0')
        g_string_append_printf (rest, "%s%s", rest->len > 0 ? "," : "", items[i]);
    }
  return g_string_free (rest, FALSE);
}

static void
live_exit (void)
{
  if (kaa_debug_flags & KAA_DEBUG_LEAKS)
    live_report ();
  if (kaa_debug_exit_report != NULL)
    kaa_debug_exit_report ();
}

gboolean kaa_valgrind_running;

/* The flags are read here, before any object exists, so that they never
 * change while one is alive: a quarantine switched on halfway would miss
 * the objects freed before, a registry the objects made before. */
__attribute__((constructor)) static void
live_init (void)
{
  static const GDebugKey keys[] = {
    { "leaks",     KAA_DEBUG_LEAKS },
    { "refs",      KAA_DEBUG_REFS },
    { "dump",      KAA_DEBUG_DUMP },
    { "unhandled", KAA_DEBUG_UNHANDLED },
  };
  const char *env = g_getenv ("KAA_DEBUG");
  g_autofree char *rest = NULL;

#if HAVE_VALGRIND
  kaa_valgrind_running = RUNNING_ON_VALGRIND != 0;
#endif
  if (env == NULL)
    return;
  rest = live_take_slow_slice (env);
  kaa_debug_flags |= g_parse_debug_string (rest, keys, G_N_ELEMENTS (keys));
  /* What they report needs every InProgress in the registry. */
  if (kaa_debug_flags & (KAA_DEBUG_LEAKS | KAA_DEBUG_DUMP | KAA_DEBUG_UNHANDLED))
    kaa_debug_flags |= KAA_DEBUG_TRACK_ALL;
  if (kaa_debug_flags & (KAA_DEBUG_LEAKS | KAA_DEBUG_DUMP))
    atexit (live_exit);
}
