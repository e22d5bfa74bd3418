/* test-stack-clash.c: frames larger than the guard below a coroutine stack
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Built with -fno-stack-clash-protection (tests/meson.build), as Debian's
 * gcc builds by default: a big frame moves the stack pointer in one step
 * and its first store lands at the far end, below the guard if the guard
 * is smaller than the frame. Coroutine stacks are carved from one mapping
 * back to back, so that store would go into the live frames of the
 * coroutine in the slot below, with no fault. Linked with -rdynamic, so
 * that dladdr() sees the exported body below by name.
 */
#include "config.h"

#include "kaa-test-util.h"

#define ISSUE_REF "issue #17, section 5"

/* Like code written for an 8 MiB main-thread stack: a buffer of 200 KiB,
 * more than three times the default coroutine stack. */
#define CLASH_FRAME_BYTES (200 * 1024)
/* Each neighbour fills most of its 64 KiB stack with a pattern, so that a
 * store anywhere in its live frames changes some of it. */
#define CANARY_BYTES      (40 * 1024)
#define N_NEIGHBOURS      3

static guint8
canary_byte (gsize i)
{
  return (guint8) (i * 131u + 7u);
}

static void
neighbour_body (KaaCoroutine *co,
                gpointer      data)
{
  volatile guint8 canary[CANARY_BYTES];
  guint *done = data;

  for (gsize i = 0; i < CANARY_BYTES; i++)
    canary[i] = canary_byte (i);
  if (!kaa_yield ())
    return;
  for (gsize i = 0; i < CANARY_BYTES; i++)
    if (canary[i] != canary_byte (i))
      {
        g_printerr ("canary of a neighbour smashed at byte %zu\n", i);
        break;
      }
  (*done)++;
}

static G_GNUC_NO_INLINE void
clash_touch (volatile char *p)
{
  p[1] = 1;
}

/* Without stack-clash probes the compiler lowers the stack pointer by the
 * whole frame at once; the first stores are big[0] and the return address
 * of the call, at the frame's far end. */
static G_GNUC_NO_INLINE void
clash_frame (void)
{
  volatile char big[CLASH_FRAME_BYTES];

  big[0] = 1;
  clash_touch (big);
  big[CLASH_FRAME_BYTES - 1] = big[1];
}

static void
clash_body (KaaCoroutine *co,
            gpointer      data)
{
  clash_frame ();
}

static const KaaCoroutineDef neighbour_def = {
  .name = "neighbour",
  .func = neighbour_body,
};

static const KaaCoroutineDef clash_def = {
  .name = "clash",
  .func = clash_body,
};

static void
test_frame_past_guard (void)
{
  g_test_summary ("a 200 KiB frame built without stack-clash protection, on "
                  "a coroutine stack above suspended neighbours, faults in "
                  "its guard and is reported; no neighbour frame changes ("
                  ISSUE_REF ")");

  if (g_test_subprocess ())
    {
      KaaInProgress *neighbours[N_NEIGHBOURS];
      KaaInProgress *clash;
      guint done = 0;

      /* A fresh process: consecutive stacks take consecutive slots, so
       * the clash coroutine's stack is right above its neighbours'. */
      for (guint i = 0; i < N_NEIGHBOURS; i++)
        neighbours[i] = kaa_coroutine_spawn_def (&neighbour_def, NULL, &done, NULL);
      clash = kaa_coroutine_spawn_def (&clash_def, NULL, NULL, NULL);

      /* Reached only if the frame jumped the guard: show the damage. */
      g_printerr ("the 200 KiB frame did not fault\n");
      while (done < N_NEIGHBOURS)
        g_main_context_iteration (NULL, TRUE);
      for (guint i = 0; i < N_NEIGHBOURS; i++)
        kaa_in_progress_unref (neighbours[i]);
      kaa_in_progress_unref (clash);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*stack overflow in coroutine clash (stack size 65536 bytes)*");
  g_test_trap_assert_stderr_unmatched ("*did not fault*");
}

/* Past the guard and the whole slot below it, into the guard of the slot
 * under that: slots are 256 KiB of guard, 64 KiB of stack and 4 KiB of
 * colour, so a store from 392 to 644 KiB below the top lands there,
 * whatever the top's colour. */
#define JUMP_FRAME_BYTES (512 * 1024)

static G_GNUC_NO_INLINE void
jump_frame (void)
{
  volatile char big[JUMP_FRAME_BYTES];

  big[0] = 1;
  clash_touch (big);
  big[JUMP_FRAME_BYTES - 1] = big[1];
}

static void
jump_body (KaaCoroutine *co,
           gpointer      data)
{
  jump_frame ();
}

static const KaaCoroutineDef jump_def = {
  .name = "jumper",
  .func = jump_body,
};

static void
test_frame_names_runner (void)
{
  g_test_summary ("a frame so big that its first store lands in the guard of a "
                  "suspended neighbour's stack is reported as the overflow of the "
                  "coroutine that made it, not of the neighbour");

  if (g_test_subprocess ())
    {
      KaaInProgress *neighbours[N_NEIGHBOURS];
      guint done = 0;

      for (guint i = 0; i < N_NEIGHBOURS; i++)
        neighbours[i] = kaa_coroutine_spawn_def (&neighbour_def, NULL, &done, NULL);
      kaa_in_progress_unref (kaa_coroutine_spawn_def (&jump_def, NULL, NULL, NULL));
      g_printerr ("the 512 KiB frame did not fault\n");
      for (guint i = 0; i < N_NEIGHBOURS; i++)
        kaa_in_progress_unref (neighbours[i]);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*stack overflow in coroutine jumper (stack size 65536 bytes)*");
  g_test_trap_assert_stderr_unmatched ("*coroutine neighbour*");
}

/* --------------------------------------------------- unnamed coroutines */

/* Exported (the test links with -rdynamic), so it has a dynamic symbol. */
void stack_clash_unnamed_body (KaaCoroutine *co, gpointer data);

void
stack_clash_unnamed_body (KaaCoroutine *co,
                          gpointer      data)
{
  *(guint *) data = kaa_test_recurse (0);
}

static void
static_unnamed_body (KaaCoroutine *co,
                     gpointer      data)
{
  *(guint *) data = kaa_test_recurse (1);
}

static void
overflow_unnamed (KaaCoroutineFunc func)
{
  guint result = 0;
  KaaInProgress *ip = kaa_coroutine_spawn (func, &result, NULL);

  kaa_in_progress_unref (ip);
  g_assert_not_reached ();
}

static void
test_unnamed_names_body (void)
{
  g_test_summary ("the overflow report of a coroutine without a name names "
                  "its body function, by symbol or by file and offset ("
                  ISSUE_REF ")");

  if (g_test_subprocess ())
    overflow_unnamed (stack_clash_unnamed_body);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*stack overflow in coroutine stack_clash_unnamed_body "
                             "(stack size 65536 bytes)*");
}

static void
test_unnamed_static_body (void)
{
  g_test_summary ("a body without a dynamic symbol is named by its file and "
                  "offset, for addr2line (" ISSUE_REF ")");

  if (g_test_subprocess ())
    overflow_unnamed (static_unnamed_body);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*stack overflow in coroutine test-stack-clash+0x* "
                             "(stack size 65536 bytes)*");
  g_test_trap_assert_stderr_unmatched ("*coroutine coroutine*");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kaa/stack-clash/frame-past-guard", test_frame_past_guard);
  g_test_add_func ("/kaa/stack-clash/frame-names-runner", test_frame_names_runner);
  g_test_add_func ("/kaa/stack-clash/unnamed-names-body", test_unnamed_names_body);
  g_test_add_func ("/kaa/stack-clash/unnamed-static-body", test_unnamed_static_body);

  return g_test_run ();
}
