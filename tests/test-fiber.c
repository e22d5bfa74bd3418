/* test-fiber.c: fibers, the context switch and the stack pool (layer 1)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <fenv.h>
#include <string.h>
#include <glib.h>
#if defined (__x86_64__)
# include <xmmintrin.h>
#endif

#include "kaa-error.h"
#include "kaa-fiber-private.h"

#if HAVE_VALGRIND
# include <valgrind/valgrind.h>
#else
# define RUNNING_ON_VALGRIND 0
#endif

#define DESIGN_REF "DESIGN.md section 4, stacks and context switch; issue #3"

/* --------------------------------------------------------------- helpers */

static KaaFiber *
fiber_new_checked (KaaFiberFunc func,
                   gpointer     data,
                   const char  *name)
{
  GError *error = NULL;
  KaaFiber *fiber = kaa_fiber_new (func, data, 0, name, &error);

  g_assert_no_error (error);
  g_assert_nonnull (fiber);
  return fiber;
}

/* ------------------------------------------------------------ ping-pong */

typedef struct
{
  KaaFiber *self;
  int       value;    /* fiber → resumer */
  int       reply;    /* resumer → fiber */
  int       rounds;
} PingPong;

static void
ping_pong_body (gpointer data)
{
  PingPong *pp = data;

  for (int i = 0; i < pp->rounds; i++)
    {
      g_assert_true (kaa_fiber_get_current () == pp->self);
      pp->value = i * 2;
      kaa_fiber_suspend ();
      g_assert_cmpint (pp->reply, ==, i * 2 + 1);
    }
}

static void
test_fiber_ping_pong (void)
{
  PingPong pp = { .rounds = 1000 };

  g_test_summary ("resume enters the fiber, suspend returns to the resumer, "
                  "and values cross through shared memory (" DESIGN_REF ")");

  pp.self = fiber_new_checked (ping_pong_body, &pp, "ping-pong");
  g_assert_cmpstr (kaa_fiber_get_name (pp.self), ==, "ping-pong");
  g_assert_null (kaa_fiber_get_current ());
  for (int i = 0; i < pp.rounds; i++)
    {
      kaa_fiber_resume (pp.self);
      g_assert_null (kaa_fiber_get_current ());
      g_assert_false (kaa_fiber_is_finished (pp.self));
      g_assert_cmpint (pp.value, ==, i * 2);
      pp.reply = i * 2 + 1;
    }
  kaa_fiber_resume (pp.self);
  g_assert_true (kaa_fiber_is_finished (pp.self));
  kaa_fiber_free (pp.self);
}

/* --------------------------------------------------------------- finish */

static void
set_flag_body (gpointer data)
{
  *(gboolean *) data = TRUE;
}

static void
test_fiber_finish (void)
{
  gboolean ran = FALSE;
  KaaFiber *fiber;

  g_test_summary ("a fiber whose function returns is finished, and a "
                  "never-started fiber can be freed (" DESIGN_REF ")");

  fiber = fiber_new_checked (set_flag_body, &ran, NULL);
  g_assert_null (kaa_fiber_get_name (fiber));
  g_assert_false (kaa_fiber_is_finished (fiber));
  kaa_fiber_resume (fiber);
  g_assert_true (ran);
  g_assert_true (kaa_fiber_is_finished (fiber));
  kaa_fiber_free (fiber);

  ran = FALSE;
  fiber = fiber_new_checked (set_flag_body, &ran, "never-started");
  kaa_fiber_free (fiber);
  g_assert_false (ran);
}

/* --------------------------------------------------------------- nested */

typedef struct
{
  KaaFiber *outer;
  KaaFiber *inner;
  GString  *log;
} Nested;

static void
nested_inner (gpointer data)
{
  Nested *n = data;

  g_assert_true (kaa_fiber_get_current () == n->inner);
  g_string_append (n->log, "i1 ");
  kaa_fiber_suspend ();
  g_assert_true (kaa_fiber_get_current () == n->inner);
  g_string_append (n->log, "i2 ");
}

static void
nested_outer (gpointer data)
{
  Nested *n = data;

  g_string_append (n->log, "o1 ");
  n->inner = fiber_new_checked (nested_inner, n, "inner");
  kaa_fiber_resume (n->inner);
  g_assert_true (kaa_fiber_get_current () == n->outer);
  g_string_append (n->log, "o2 ");
  kaa_fiber_suspend ();
  g_string_append (n->log, "o3 ");
  kaa_fiber_resume (n->inner);
  g_assert_true (kaa_fiber_is_finished (n->inner));
  g_assert_true (kaa_fiber_get_current () == n->outer);
  kaa_fiber_free (n->inner);
  g_string_append (n->log, "o4");
}

/* main:   resume(outer) ............ resume(outer) ........... done
 * outer:    o1 resume(inner) o2 suspend  o3 resume(inner) o4
 * inner:             i1 suspend                    i2
 */
static void
test_fiber_nested (void)
{
  Nested n = { .log = g_string_new (NULL) };

  g_test_summary ("a fiber may resume another; each suspend returns to its "
                  "own resumer (" DESIGN_REF ")");

  n.outer = fiber_new_checked (nested_outer, &n, "outer");
  kaa_fiber_resume (n.outer);
  g_assert_null (kaa_fiber_get_current ());
  g_assert_cmpstr (n.log->str, ==, "o1 i1 o2 ");
  kaa_fiber_resume (n.outer);
  g_assert_cmpstr (n.log->str, ==, "o1 i1 o2 o3 i2 o4");
  g_assert_true (kaa_fiber_is_finished (n.outer));
  kaa_fiber_free (n.outer);
  g_string_free (n.log, TRUE);
}

/* ----------------------------------------------------- floating point */

/* fegetround() reads one control register (the x87 control word on
 * x86-64); the SSE arithmetic follows MXCSR, which is checked as well.
 * Values are FE_* constants. */
static int
current_rounding (void)
{
  int mode = fegetround ();

#if defined (__x86_64__)
  static const int sse_modes[] = { FE_TONEAREST, FE_DOWNWARD, FE_UPWARD, FE_TOWARDZERO };

  g_assert_cmpint (sse_modes[(_mm_getcsr () >> 13) & 3], ==, mode);
#endif
  return mode;
}

static void
fp_body (gpointer data)
{
  g_assert_cmpint (current_rounding (), ==, FE_TONEAREST);
  g_assert_cmpint (fesetround (FE_UPWARD), ==, 0);
  kaa_fiber_suspend ();
  g_assert_cmpint (current_rounding (), ==, FE_UPWARD);
  *(gboolean *) data = TRUE;
}

/* main:   resume .................. set DOWNWARD, resume .......... DOWNWARD?
 * fiber:    NEAREST? set UPWARD, suspend               UPWARD? end
 */
static void
test_fiber_fp_control (void)
{
  gboolean checked = FALSE;
  KaaFiber *fiber;

  g_test_summary ("the rounding mode (MXCSR, x87 control word, FPCR) is "
                  "callee-saved, so each context keeps its own (" DESIGN_REF ")");

  fiber = fiber_new_checked (fp_body, &checked, "fp");
  kaa_fiber_resume (fiber);
  g_assert_cmpint (current_rounding (), ==, FE_TONEAREST);
  g_assert_cmpint (fesetround (FE_DOWNWARD), ==, 0);
  kaa_fiber_resume (fiber);
  g_assert_cmpint (current_rounding (), ==, FE_DOWNWARD);
  fesetround (FE_TONEAREST);
  g_assert_true (checked);
  g_assert_true (kaa_fiber_is_finished (fiber));
  kaa_fiber_free (fiber);
}

static void
fp_start_body (gpointer data)
{
  *(int *) data = current_rounding ();
  g_assert_cmpint (fesetround (FE_TOWARDZERO), ==, 0);
}

static void
test_fiber_fp_start (void)
{
  int seen = -1;
  KaaFiber *fiber;

  g_test_summary ("a fiber starts with the rounding mode of the thread that starts "
                  "it, as a new thread does its creator's, and what it sets stays its "
                  "own (" DESIGN_REF ")");

  g_assert_cmpint (fesetround (FE_UPWARD), ==, 0);
  fiber = fiber_new_checked (fp_start_body, &seen, "fp-start");
  kaa_fiber_resume (fiber);
  g_assert_cmpint (seen, ==, FE_UPWARD);
  g_assert_cmpint (current_rounding (), ==, FE_UPWARD);
  fesetround (FE_TONEAREST);
  g_assert_true (kaa_fiber_is_finished (fiber));
  kaa_fiber_free (fiber);
}

/* ---------------------------------------------------- callee-saved regs */

#define REG_ROUNDS 200

/* Many values live across each switch, more than the caller-saved
 * registers can hold, so the compiler keeps them in callee-saved ones. */
static guint64
reg_churn (gboolean in_fiber)
{
  guint64 a = 1, b = 2, c = 3, d = 5, e = 7, f = 11, g = 13, h = 17;
  double x = 1.5, y = 2.25, z = 3.125, w = 4.0625;

  for (int i = 0; i < REG_ROUNDS; i++)
    {
      a = a * 31 + b; b ^= c << 3; c += d * 7; d = d * 13 + e;
      e ^= f >> 1; f += g * 3; g = g * 17 + h; h ^= a;
      x = x * 1.0001 + y; y = y * 0.9999 + z; z += w * 0.5; w = w * 1.001 + 1;
      if (in_fiber)
        kaa_fiber_suspend ();
    }
  return a ^ b ^ c ^ d ^ e ^ f ^ g ^ h ^ (guint64) (x + y + z + w);
}

static void
reg_body (gpointer data)
{
  *(guint64 *) data = reg_churn (TRUE);
}

static void
test_fiber_callee_saved (void)
{
  guint64 expected = reg_churn (FALSE), got = 0;
  guint64 m1 = 3, m2 = 9, m3 = 27, m4 = 81, m5 = 243, m6 = 729;
  KaaFiber *fiber;

  g_test_summary ("callee-saved registers survive switches on both sides "
                  "(" DESIGN_REF ")");

  fiber = fiber_new_checked (reg_body, &got, "registers");
  while (!kaa_fiber_is_finished (fiber))
    {
      m1 = m1 * 7 + m6; m2 ^= m1; m3 += m2 * 5; m4 = m4 * 3 + m3;
      m5 ^= m4 >> 2; m6 += m5;
      kaa_fiber_resume (fiber);
    }
  g_assert_cmpuint (got, ==, expected);
  /* The same arithmetic without switches must agree. */
  {
    guint64 n1 = 3, n2 = 9, n3 = 27, n4 = 81, n5 = 243, n6 = 729;

    for (int i = 0; i < REG_ROUNDS + 1; i++)
      {
        n1 = n1 * 7 + n6; n2 ^= n1; n3 += n2 * 5; n4 = n4 * 3 + n3;
        n5 ^= n4 >> 2; n6 += n5;
      }
    g_assert_cmpuint (m1 ^ m2 ^ m3 ^ m4 ^ m5 ^ m6, ==, n1 ^ n2 ^ n3 ^ n4 ^ n5 ^ n6);
  }
  kaa_fiber_free (fiber);
}

/* ------------------------------------------------------------ the pool */

static void
noop_body (gpointer data)
{
}

static void
test_fiber_pool_reuse (void)
{
  KaaStackPoolStats before, after;
  KaaFiber *fiber;
  GError *error = NULL;

  g_test_summary ("a freed fiber's stack goes back to the pool and the next "
                  "fiber of that size takes it; sizes round up to pages (" DESIGN_REF ")");

  fiber = fiber_new_checked (noop_body, NULL, "first");
  kaa_fiber_resume (fiber);
  kaa_fiber_free (fiber);

  kaa_stack_pool_get_stats_for_testing (&before);
  g_assert_cmpuint (before.n_pooled, >=, 1);
  fiber = fiber_new_checked (noop_body, NULL, "second");
  kaa_stack_pool_get_stats_for_testing (&after);
  g_assert_cmpuint (after.n_pooled, ==, before.n_pooled - 1);
  g_assert_cmpuint (after.n_live, ==, before.n_live + 1);
  g_assert_cmpuint (after.n_chunks, ==, before.n_chunks);
  g_assert_cmpuint (kaa_fiber_get_stack_size_for_testing (fiber), ==, KAA_FIBER_DEFAULT_STACK_SIZE);
  kaa_fiber_free (fiber);

  fiber = kaa_fiber_new (noop_body, NULL, 10000, "odd-size", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (kaa_fiber_get_stack_size_for_testing (fiber) % 4096, ==, 0);
  g_assert_cmpuint (kaa_fiber_get_stack_size_for_testing (fiber), >=, 10000);
  kaa_fiber_resume (fiber);
  kaa_fiber_free (fiber);
}

static void
test_fiber_stack_error (void)
{
  GError *error = NULL;
  KaaFiber *fiber;

  g_test_summary ("a stack that cannot be mapped is a GError naming the "
                  "stack and the system error, never an abort "
                  "(STYLE.md section 5, " DESIGN_REF ")");

  /* 1 PiB: more than a 47-bit address space holds. */
  fiber = kaa_fiber_new (noop_body, NULL, (gsize) 1 << 50, "huge", &error);
  g_assert_null (fiber);
  g_assert_error (error, KAA_ERROR, KAA_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "coroutine stack"));
  /* ENOMEM from the kernel, EINVAL from Valgrind: only the text is ours. */
  g_test_message ("%s", error->message);
  g_clear_error (&error);

  fiber = kaa_fiber_new (noop_body, NULL, G_MAXSIZE, "overflowing", &error);
  g_assert_null (fiber);
  g_assert_error (error, KAA_ERROR, KAA_ERROR_FAILED);
  g_clear_error (&error);
}

/* ------------------------------------------------------ many in sequence */

#define N_SEQUENCE (RUNNING_ON_VALGRIND ? 2000u : 100000u)

static void
count_body (gpointer data)
{
  (*(guint *) data)++;
}

static void
test_fiber_many_in_sequence (void)
{
  guint ran = 0;

  g_test_summary ("100 000 fibers made, run to their end and freed one after the "
                  "other: what one leaves behind for the next (its pooled stack, "
                  "under TSan its reused fiber context) never adds up");

  for (guint i = 0; i < N_SEQUENCE; i++)
    {
      KaaFiber *fiber = fiber_new_checked (count_body, &ran, "sequence");

      kaa_fiber_resume (fiber);
      kaa_fiber_free (fiber);
    }
  g_assert_cmpuint (ran, ==, N_SEQUENCE);
}

/* ------------------------------------------------------ many suspended */

/* Valgrind and TSan run the same scenario smaller: Valgrind tracks every
 * stack page touched and would take many minutes over the full count, and
 * each TSan fiber takes one of its 8128 thread slots. */
#if defined (__SANITIZE_THREAD__)
# define N_MANY 4000u
#else
# define N_MANY (RUNNING_ON_VALGRIND ? 2000u : 100000u)
#endif

static void
suspend_once_body (gpointer data)
{
  volatile char touch[256];

  touch[0] = 1;
  kaa_fiber_suspend ();
  (*(guint *) data) += touch[0];
}

static guint
count_maps (void)
{
  g_autofree char *maps = NULL;
  guint lines = 0;

  if (!g_file_get_contents ("/proc/self/maps", &maps, NULL, NULL))
    return 0;
  for (const char *p = maps; *p != '\0'; p++)
    lines += *p == '\n';
  return lines;
}

static void
test_fiber_many (void)
{
  KaaFiber **fibers = g_new0 (KaaFiber *, N_MANY);
  KaaStackPoolStats stats;
  guint done = 0, maps_before = count_maps (), maps_during;

  g_test_summary ("100 000 fibers suspended at once fit under the default "
                  "vm.max_map_count: stacks come in chunks, guards split no "
                  "VMA (" DESIGN_REF ")");

  fibers[0] = fiber_new_checked (suspend_once_body, &done, "many");
  kaa_stack_pool_get_stats_for_testing (&stats);
  if (!stats.guard_madvise)
    {
      kaa_fiber_free (fibers[0]);
      g_free (fibers);
      g_test_skip ("no MADV_GUARD_INSTALL: mprotect guards take two VMAs per stack");
      return;
    }
  for (guint i = 1; i < N_MANY; i++)
    fibers[i] = fiber_new_checked (suspend_once_body, &done, "many");
  for (guint i = 0; i < N_MANY; i++)
    kaa_fiber_resume (fibers[i]);
  maps_during = count_maps ();
  g_test_message ("/proc/self/maps: %u lines before, %u with %u fibers suspended",
                  maps_before, maps_during, N_MANY);
#if !defined (__SANITIZE_THREAD__)
  /* Under TSan the count is not ours: it maps state for every fiber. */
  g_assert_cmpuint (maps_during, <, maps_before + N_MANY / 32);
#endif

  for (guint i = 0; i < N_MANY; i++)
    {
      kaa_fiber_resume (fibers[i]);
      g_assert_true (kaa_fiber_is_finished (fibers[i]));
      kaa_fiber_free (fibers[i]);
    }
  g_assert_cmpuint (done, ==, N_MANY);
  kaa_stack_pool_trim_for_testing ();
  kaa_stack_pool_get_stats_for_testing (&stats);
  g_assert_cmpuint (stats.n_live, ==, 0);
  g_assert_cmpuint (stats.n_trimmed, >, 0);
  g_free (fibers);
}

/* ------------------------------------------------------------- overflow */

/* Far deeper than any stack; volatile so the compiler cannot prove the
 * recursion endless or bounded. */
static volatile guint recurse_limit = G_MAXUINT;

static guint
recurse (guint depth)
{
  volatile char frame[512];

  if (depth >= recurse_limit)
    return 0;
  frame[0] = (char) depth;
  /* Not a tail call: the result is used after the call returns. */
  return recurse (depth + 1) + frame[0];
}

static void
recurse_body (gpointer data)
{
  *(guint *) data = recurse (0);
}

static void
test_fiber_overflow (void)
{
  g_test_summary ("overflowing a fiber's stack hits its guard and aborts "
                  "with the fiber's name and stack size (" DESIGN_REF ")");

  if (g_test_subprocess ())
    {
      guint result = 0;
      KaaFiber *fiber = fiber_new_checked (recurse_body, &result, "deep-recursion");

      kaa_fiber_resume (fiber);
      g_assert_not_reached ();
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*stack overflow in coroutine deep-recursion "
                             "(stack size 65536 bytes)*");
}

static void
null_deref_body (gpointer data)
{
  int *volatile p = data;

  *p = 1;
}

static void
test_fiber_segv_not_overflow (void)
{
  g_test_summary ("a fault outside any guard is not reported as an "
                  "overflow: it reaches the default action (" DESIGN_REF ")");

  if (g_test_subprocess ())
    {
      KaaFiber *fiber = fiber_new_checked (null_deref_body, NULL, "null-deref");

      kaa_fiber_resume (fiber);
      g_assert_not_reached ();
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr_unmatched ("*stack overflow*");
}

/* ------------------------------------------------------------ bad input */

static void
test_fiber_bad_input (void)
{
  GError *error = NULL;
  gboolean ran = FALSE;
  KaaFiber *fiber;

  g_test_summary ("misuse is a critical and a harmless return, never a "
                  "crash (STYLE.md section 5, " DESIGN_REF ")");

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*func != NULL*");
  g_assert_null (kaa_fiber_new (NULL, NULL, 0, "bad", &error));
  g_test_assert_expected_messages ();
  g_assert_no_error (error);

  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*fiber != NULL*");
  kaa_fiber_suspend ();
  g_test_assert_expected_messages ();

  fiber = fiber_new_checked (set_flag_body, &ran, "done");
  kaa_fiber_resume (fiber);
  g_test_expect_message ("Kaa", G_LOG_LEVEL_CRITICAL, "*finished*");
  kaa_fiber_resume (fiber);
  g_test_assert_expected_messages ();
  kaa_fiber_free (fiber);
}

/* ------------------------------------------- the end, somewhere else */

typedef struct
{
  KaaFiber *inner;
  GString  *log;
} Elsewhere;

static void
elsewhere_inner (gpointer data)
{
  Elsewhere *e = data;

  g_string_append (e->log, "i1 ");
  kaa_fiber_suspend ();
  g_string_append (e->log, "i2 ");
}

/* Resumes the inner fiber, which was started by main, and so becomes
 * the one it returns to when it ends. */
static void
elsewhere_outer (gpointer data)
{
  Elsewhere *e = data;
  KaaFiber *self = kaa_fiber_get_current ();

  g_string_append (e->log, "o1 ");
  kaa_fiber_resume (e->inner);
  g_assert_true (kaa_fiber_is_finished (e->inner));
  g_assert_true (kaa_fiber_get_current () == self);
  g_string_append (e->log, "o2 ");
}

static gpointer
elsewhere_thread (gpointer data)
{
  KaaFiber *fiber = data;

  g_assert_null (kaa_fiber_get_current ());
  kaa_fiber_resume (fiber);
  g_assert_true (kaa_fiber_is_finished (fiber));
  g_assert_null (kaa_fiber_get_current ());
  return GINT_TO_POINTER (1);
}

static void
test_fiber_end_elsewhere (void)
{
  Elsewhere e = { NULL, g_string_new (NULL) };
  KaaFiber *outer;

  g_test_summary ("a fiber that ends goes back to whoever resumed it last, not to "
                  "whoever started it: another fiber, another thread (issue #20, "
                  "kaa_fiber_start)");

  /* Started by main, ended under another fiber. */
  e.inner = fiber_new_checked (elsewhere_inner, &e, "inner");
  kaa_fiber_resume (e.inner);
  outer = fiber_new_checked (elsewhere_outer, &e, "outer");
  kaa_fiber_resume (outer);
  g_assert_true (kaa_fiber_is_finished (outer));
  g_assert_null (kaa_fiber_get_current ());
  g_assert_cmpstr (e.log->str, ==, "i1 o1 i2 o2 ");
  kaa_fiber_free (outer);
  kaa_fiber_free (e.inner);

  /* Started by main, ended on another thread. */
  g_string_truncate (e.log, 0);
  e.inner = fiber_new_checked (elsewhere_inner, &e, "inner-thread");
  kaa_fiber_resume (e.inner);
  g_assert_cmpint (GPOINTER_TO_INT (g_thread_join (g_thread_new ("kaa-test-fiber",
                                                                 elsewhere_thread,
                                                                 e.inner))), ==, 1);
  g_assert_cmpstr (e.log->str, ==, "i1 i2 ");
  g_assert_null (kaa_fiber_get_current ());
  kaa_fiber_free (e.inner);
  g_string_free (e.log, TRUE);
}

/* --------------------------------------------------------------- thread */

static gpointer
thread_main (gpointer data)
{
  PingPong pp = { .rounds = 100 };

  pp.self = fiber_new_checked (ping_pong_body, &pp, "in-thread");
  for (int i = 0; i < pp.rounds; i++)
    {
      kaa_fiber_resume (pp.self);
      pp.reply = i * 2 + 1;
    }
  kaa_fiber_resume (pp.self);
  g_assert_true (kaa_fiber_is_finished (pp.self));
  kaa_fiber_free (pp.self);
  return GINT_TO_POINTER (1);
}

static void
test_fiber_threads (void)
{
  GThread *threads[4];

  g_test_summary ("fibers run on any thread; the current fiber and the "
                  "signal stack are per thread (" DESIGN_REF ")");

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("kaa-test-fiber", thread_main, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_assert_cmpint (GPOINTER_TO_INT (g_thread_join (threads[i])), ==, 1);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kaa/fiber/ping-pong", test_fiber_ping_pong);
  g_test_add_func ("/kaa/fiber/finish", test_fiber_finish);
  g_test_add_func ("/kaa/fiber/nested", test_fiber_nested);
  g_test_add_func ("/kaa/fiber/fp-control", test_fiber_fp_control);
  g_test_add_func ("/kaa/fiber/fp-start", test_fiber_fp_start);
  g_test_add_func ("/kaa/fiber/callee-saved", test_fiber_callee_saved);
  g_test_add_func ("/kaa/fiber/pool-reuse", test_fiber_pool_reuse);
  g_test_add_func ("/kaa/fiber/stack-error", test_fiber_stack_error);
  g_test_add_func ("/kaa/fiber/many-suspended", test_fiber_many);
  g_test_add_func ("/kaa/fiber/many-in-sequence", test_fiber_many_in_sequence);
  g_test_add_func ("/kaa/fiber/overflow", test_fiber_overflow);
  g_test_add_func ("/kaa/fiber/segv-not-overflow", test_fiber_segv_not_overflow);
  g_test_add_func ("/kaa/fiber/bad-input", test_fiber_bad_input);
  g_test_add_func ("/kaa/fiber/threads", test_fiber_threads);
  g_test_add_func ("/kaa/fiber/end-elsewhere", test_fiber_end_elsewhere);

  return g_test_run ();
}
