/* kaa-fiber-stack-maps.c: the mapping budget of mprotect stack guards
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Without MADV_GUARD_INSTALL (Linux before 6.13) the guard of every stack
 * is an mprotect(PROT_NONE) region that splits its chunk's mapping: two
 * more VMAs per stack handed out, whatever the guard's size. With the
 * default vm.max_map_count of 65 530 the stacks alone then reach the limit
 * at about 32 700 coroutines, and the next mmap anyone makes fails: GLib's
 * allocator aborts the process on it, typically while the application is
 * cancelling work to recover from the failed spawn. So the stacks leave a
 * reserve of mappings to the rest of the process, and a guard that would
 * eat into it fails as a GError naming vm.max_map_count instead.
 *
 * What the process maps is known only from /proc/self/maps, too slow to
 * read per guard: the count read there plus the VMAs the guards added
 * since is the estimate, recounted after every half reserve of guards and
 * when the estimate says the budget is spent (mappings others dropped
 * come back then). The reserve absorbs what others map in between.
 *
 * Everything here runs under the stack pool's lock (kaa-fiber-stack.c).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "kaa-error.h"
#include "kaa-fiber-private.h"
#include "kaa-i18n-private.h"

/* The kernel's default, for when /proc/sys cannot be read. */
#define DEFAULT_MAX_MAP_COUNT 65530
/* A sixteenth of the limit, 4 095 mappings by default: some thousand
 * threads or large allocations, at the price of 2 000 of 32 700 stacks. */
#define RESERVE_DIVISOR       16
/* How long a spent budget trusts its count before reading it again. */
#define RECOUNT_USEC          G_USEC_PER_SEC

static guint  map_limit;      /* 0 until first needed */
static guint  map_reserve;
static guint  maps_counted;   /* /proc/self/maps at the last count */
static guint  maps_added;     /* by guards since that count */
static gint64 counted_at;

/* -1 if /proc/self/maps cannot be read. */
static gint64
maps_count_lines (const char *path)
{
  char buf[16384];
  gint64 lines = 0;
  ssize_t n;
  int fd = open (path, O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    return -1;
  while ((n = read (fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    for (ssize_t i = 0; i < n; i++)
      lines += buf[i] == '\n';
  close (fd);
  return n < 0 ? -1 : lines;
}

static guint
maps_read_limit (void)
{
  g_autofree char *text = NULL;
  guint64 value;

  if (!g_file_get_contents ("/proc/sys/vm/max_map_count", &text, NULL, NULL)
      || !g_ascii_string_to_unsigned (g_strstrip (text), 10, 1, G_MAXUINT, &value, NULL))
    return DEFAULT_MAX_MAP_COUNT;
  return (guint) value;
}

static void
maps_recount_unlocked (void)
{
  gint64 lines = maps_count_lines ("/proc/self/maps");

  /* Unreadable (no /proc): keep estimating from the last count. */
  if (lines >= 0)
    {
      maps_counted = (guint) MIN (lines, (gint64) G_MAXUINT);
      maps_added = 0;
    }
  counted_at = g_get_monotonic_time ();
}

static gboolean
maps_fit_unlocked (guint n)
{
  guint64 used = (guint64) maps_counted + maps_added + n;

  return used + map_reserve <= map_limit;
}

/**
 * kaa_stack_maps_take_unlocked:
 * @n: VMAs a guard is about to add
 * @error: return location for a #GError
 *
 * Books @n mappings for an mprotect guard, if the process stays a reserve
 * away from vm.max_map_count with them.
 *
 * Returns: %FALSE with @error set if it would not
 */
gboolean
kaa_stack_maps_take_unlocked (guint    n,
                              GError **error)
{
  if (map_limit == 0)
    {
      map_limit = maps_read_limit ();
      map_reserve = map_limit / RESERVE_DIVISOR;
      maps_recount_unlocked ();
    }
  else if (maps_added >= map_reserve / 2
           || (!maps_fit_unlocked (n)
               && (maps_added > 0 || g_get_monotonic_time () - counted_at >= RECOUNT_USEC)))
    maps_recount_unlocked ();

  if (!maps_fit_unlocked (n))
    {
      g_set_error (error, KAA_ERROR, KAA_ERROR_FAILED,
                   _("Could not install the guard region of a coroutine stack: the process "
                     "has %u memory mappings and vm.max_map_count allows %u, of which %u "
                     "stay reserved for other uses"),
                   maps_counted + maps_added, map_limit, map_reserve);
      return FALSE;
    }
  maps_added += n;
  return TRUE;
}

/* Undoes kaa_stack_maps_take_unlocked() for a guard that failed. */
void
kaa_stack_maps_give_back_unlocked (guint n)
{
  maps_added -= MIN (n, maps_added);
}

/* Replaces vm.max_map_count and the reserve (0 restores both), so that a
 * test reaches the limit with a few thousand stacks, not 32 700. */
void
kaa_stack_maps_set_limit_unlocked (guint limit,
                                   guint reserve)
{
  map_limit = limit;
  map_reserve = limit != 0 ? reserve : 0;
  maps_recount_unlocked ();
}
