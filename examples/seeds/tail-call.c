/* tail-call.c: txcoroutine's tail calls, in C
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * fact() calls itself as a tail call with kaa_coroutine_become(): ten
 * thousand levels run in one stack frame. process() swaps itself out for
 * process_state1() and that one for process_state2(); each big object is
 * released at its tail call, while the caller keeps awaiting the same
 * InProgress until state2 returns 123:
 *
 *   fact(10000) mod 1000000007 = 531950728
 *   process: big_obj allocated
 *   process: big_obj released
 *   process_state1: another_big_obj allocated
 *   process_state1: another_big_obj released
 *   process_state2: doing something
 *   some_other_coroutine: process() returned 123
 */
#include "seed.h"

#define MODULUS G_GUINT64_CONSTANT (1000000007)

typedef struct
{
  guint64 n;
  guint64 result;
} Fact;

static void
fact (KaaCoroutine *co,
      gpointer      data)
{
  Fact *f = data;

  if (f->n <= 1)
    {
      kaa_coroutine_return_int64 (co, (gint64) f->result);
      return;
    }
  f->result = f->result * f->n % MODULUS;
  f->n--;
  kaa_coroutine_become (co, fact, f, NULL);
}

typedef struct
{
  const char *owner;
  const char *name;
  gpointer    bytes;
} BigObject;

static BigObject *
big_object_new (const char *owner,
                const char *name)
{
  BigObject *big = g_new (BigObject, 1);

  big->owner = owner;
  big->name = name;
  /* Small on purpose: 16 MiB made the timing test flaky under load. The
   * first such block is mmap()ed; freeing it raises glibc's mmap
   * threshold, so the second came from the heap, and calloc() then wrote
   * all of it (and MALLOC_PERTURB_, which meson sets, wrote it again on
   * free): 0.25 s of page faults on a loaded machine. */
  big->bytes = g_malloc0 (64 * 1024);
  seed_say ("%s: %s allocated", owner, name);
  return big;
}

static void
big_object_free (BigObject *big)
{
  seed_say ("%s: %s released", big->owner, big->name);
  g_free (big->bytes);
  g_free (big);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BigObject, big_object_free)

static void
process_state2 (KaaCoroutine *co,
                gpointer      data)
{
  seed_say ("process_state2: doing something");
  if (kaa_await (kaa_sleep (seed_msec (0.5)), NULL))
    kaa_coroutine_return_int64 (co, 123);
}

static void
process_state1 (KaaCoroutine *co,
                gpointer      data)
{
  g_autoptr(BigObject) another_big_obj = big_object_new ("process_state1", "another_big_obj");

  kaa_coroutine_become (co, process_state2, NULL, NULL);
}

static void
process (KaaCoroutine *co,
         gpointer      data)
{
  g_autoptr(BigObject) big_obj = big_object_new ("process", "big_obj");

  kaa_coroutine_become (co, process_state1, NULL, NULL);
}

static void
some_other_coroutine (KaaCoroutine *co,
                      gpointer      data)
{
  gint64 result = kaa_await_int64 (kaa_coroutine_spawn (process, NULL, NULL), NULL);

  seed_say ("some_other_coroutine: process() returned %" G_GINT64_FORMAT, result);
}

static void
quit (KaaInProgress *ip,
      gpointer       data)
{
  kaa_main_quit ();
}

int
main (void)
{
  Fact f = { 10000, 1 };
  g_autoptr(KaaInProgress) factorial = NULL;
  g_autoptr(KaaInProgress) other = NULL;

  seed_init ();
  factorial = kaa_coroutine_spawn (fact, &f, NULL);
  seed_say ("fact(10000) mod 1000000007 = %" G_GINT64_FORMAT,
            kaa_in_progress_get_int64 (factorial));
  other = kaa_coroutine_spawn (some_other_coroutine, NULL, NULL);
  kaa_in_progress_connect (other, quit, NULL, NULL);
  kaa_main_run ();
  return 0;
}
