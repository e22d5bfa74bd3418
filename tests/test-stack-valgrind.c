/* test-stack-valgrind.c: stack guards as Memcheck sees them (layer 1)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Valgrind does not know MADV_GUARD_INSTALL, so a guard installed that way
 * looks readable to it, and Memcheck's leak check at exit read every word
 * of every guard, each read a fault: over twenty minutes for 2 000
 * suspended fibers. The pool tells Memcheck what is in bounds (guards
 * never, pooled stacks not, stacks handed out as fresh memory); these
 * tests check that it does, and run only under Memcheck (the Valgrind
 * stage of tools/check.sh). Natively they skip.
 */
#include "config.h"

#include <glib.h>

#include "kaa-fiber-private.h"

#if HAVE_VALGRIND_MEMCHECK
# include <valgrind/memcheck.h>
#endif

#define DESIGN_REF "DESIGN.md section 4, stacks and context switch"

/* The smallest guard (kaa-fiber-stack.c, stack_guard_size()): a stack of
 * the default size gets this much, one of 1 MiB or more gets 1 MiB. */
#define GUARD_MIN_BYTES ((gsize) 256 * 1024)
#define GUARD_MAX_BYTES ((gsize) 1024 * 1024)
#define PAGE_BYTES      ((gsize) 4096)

/* 1: Memcheck knows the byte at @addr is addressable, and *@vbits says
 * which of its bits are undefined; 3: it is not addressable; 0: no
 * Memcheck. Unlike VALGRIND_CHECK_MEM_IS_ADDRESSABLE, asking reports no
 * error. */
static int
memcheck_vbits (const guint8 *addr,
                guint8       *vbits)
{
#if HAVE_VALGRIND_MEMCHECK
  return VALGRIND_GET_VBITS (addr, vbits, 1);
#else
  (void) addr;
  (void) vbits;
  return 0;
#endif
}

static int
memcheck_vbits_status (const guint8 *addr)
{
  guint8 vbits;

  return memcheck_vbits (addr, &vbits);
}

static gboolean
skip_without_memcheck (void)
{
  guint8 probe = 0;

  if (memcheck_vbits_status (&probe) == 1)
    return FALSE;
  g_test_skip ("needs Valgrind's Memcheck (the Valgrind stage runs it)");
  return TRUE;
}

/* Every page of the @guard_size bytes below @stack's base is out of
 * bounds for Memcheck, its last byte included; the stack's first byte is
 * not. */
static void
assert_guard_inaccessible (KaaStack *stack,
                           gsize     guard_size)
{
  guint8 *base = kaa_stack_get_base (stack);

  for (gsize off = PAGE_BYTES; off <= guard_size; off += PAGE_BYTES)
    g_assert_cmpint (memcheck_vbits_status (base - off), ==, 3);
  g_assert_cmpint (memcheck_vbits_status (base - 1), ==, 3);
  g_assert_cmpint (memcheck_vbits_status (base), ==, 1);
  g_assert_cmpint (memcheck_vbits_status (base + kaa_stack_get_span (stack) - 1), ==, 1);
}

static KaaStack *
stack_new_checked (gsize size)
{
  GError *error = NULL;
  KaaStack *stack = kaa_stack_new (size, "memcheck", &error);

  g_assert_no_error (error);
  g_assert_nonnull (stack);
  return stack;
}

static void
test_guard_inaccessible (void)
{
  KaaStack *stacks[3];

  g_test_summary ("Memcheck sees a stack's guard as out of bounds, so its leak "
                  "check skips it instead of faulting on each word (" DESIGN_REF ")");
  if (skip_without_memcheck ())
    return;

  for (guint i = 0; i < G_N_ELEMENTS (stacks); i++)
    {
      stacks[i] = stack_new_checked (0);
      assert_guard_inaccessible (stacks[i], GUARD_MIN_BYTES);
    }
  for (guint i = 0; i < G_N_ELEMENTS (stacks); i++)
    kaa_stack_free (stacks[i]);
}

static void
test_guard_big_stack (void)
{
  KaaStack *stack;

  g_test_summary ("the 1 MiB guard of a big stack is out of bounds for Memcheck "
                  "all the way down (" DESIGN_REF ")");
  if (skip_without_memcheck ())
    return;

  stack = stack_new_checked (GUARD_MAX_BYTES);
  assert_guard_inaccessible (stack, GUARD_MAX_BYTES);
  kaa_stack_free (stack);
}

static void
test_guard_reused (void)
{
  KaaStack *stack;
  guint8 *base;

  g_test_summary ("a pooled stack handed out again keeps its guard out of "
                  "bounds for Memcheck (" DESIGN_REF ")");
  if (skip_without_memcheck ())
    return;

  stack = stack_new_checked (0);
  base = kaa_stack_get_base (stack);
  kaa_stack_free (stack);
  /* The pool is LIFO: the same slot comes back, its guard long in place. */
  stack = stack_new_checked (0);
  g_assert_true (kaa_stack_get_base (stack) == base);
  assert_guard_inaccessible (stack, GUARD_MIN_BYTES);
  kaa_stack_free (stack);
}

static void
test_pooled_inaccessible (void)
{
  KaaStack *stack;
  guint8 *base, *last;

  g_test_summary ("a stack back in the pool is out of bounds for Memcheck: its "
                  "leak check skips it, and a late use of it is reported (" DESIGN_REF ")");
  if (skip_without_memcheck ())
    return;

  stack = stack_new_checked (0);
  base = kaa_stack_get_base (stack);
  last = base + kaa_stack_get_span (stack) - 1;
  *(volatile guint8 *) last = 1;
  g_assert_cmpint (memcheck_vbits_status (last), ==, 1);
  kaa_stack_free (stack);
  g_assert_cmpint (memcheck_vbits_status (base), ==, 3);
  g_assert_cmpint (memcheck_vbits_status (last), ==, 3);
}

static void
test_handed_out_fresh (void)
{
  KaaStack *stack;
  guint8 *base, vbits = 0;

  g_test_summary ("a stack handed out again is fresh memory for Memcheck: what "
                  "its last fiber left there reads as undefined (" DESIGN_REF ")");
  if (skip_without_memcheck ())
    return;

  stack = stack_new_checked (0);
  base = kaa_stack_get_base (stack);
  *(volatile guint8 *) base = 1;
  g_assert_cmpint (memcheck_vbits (base, &vbits), ==, 1);
  g_assert_cmpuint (vbits, ==, 0);
  kaa_stack_free (stack);

  stack = stack_new_checked (0);
  g_assert_true (kaa_stack_get_base (stack) == base);
  g_assert_cmpint (memcheck_vbits (base, &vbits), ==, 1);
  g_assert_cmpuint (vbits, ==, 0xff);
  kaa_stack_free (stack);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kaa/stack/memcheck/guard-inaccessible", test_guard_inaccessible);
  g_test_add_func ("/kaa/stack/memcheck/guard-big-stack", test_guard_big_stack);
  g_test_add_func ("/kaa/stack/memcheck/guard-reused", test_guard_reused);
  g_test_add_func ("/kaa/stack/memcheck/pooled-inaccessible", test_pooled_inaccessible);
  g_test_add_func ("/kaa/stack/memcheck/handed-out-fresh", test_handed_out_fresh);

  return g_test_run ();
}
