/* test-limits.c: resource limits that fail as a GError, not an abort
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "kaa-fiber-private.h"
#include "kaa-test-util.h"

#define ISSUE_REF "issue #17, section 6"

/* ------------------------------------------- mprotect guards, map count */

#if defined (__x86_64__)
# define SECCOMP_ARCH AUDIT_ARCH_X86_64
#elif defined (__aarch64__)
# define SECCOMP_ARCH AUDIT_ARCH_AARCH64
#endif
#define ADVICE_GUARD_INSTALL 102

/* Makes madvise (…, MADV_GUARD_INSTALL) fail with EINVAL, as a kernel
 * before 6.13 does, so that the pool falls back to mprotect guards. The
 * filter stays for the rest of the process: only in a subprocess. */
static gboolean
forbid_guard_install (void)
{
#ifdef SECCOMP_ARCH
  struct sock_filter code[] = {
    BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, arch)),
    BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_ARCH, 0, 5),
    BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, nr)),
    BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, __NR_madvise, 0, 3),
    /* The low half of the advice argument (little-endian). */
    BPF_STMT (BPF_LD | BPF_W | BPF_ABS, offsetof (struct seccomp_data, args[2])),
    BPF_JUMP (BPF_JMP | BPF_JEQ | BPF_K, ADVICE_GUARD_INSTALL, 0, 1),
    BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EINVAL & SECCOMP_RET_DATA)),
    BPF_STMT (BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = { .len = G_N_ELEMENTS (code), .filter = code };

  return prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
         && prctl (PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == 0;
#else
  return FALSE;
#endif
}

/* Whether a child can install the filter (seccomp may be unavailable, as
 * under some sandboxes and emulators). */
static gboolean
seccomp_works (void)
{
  int status;
  pid_t pid = fork ();

  if (pid == 0)
    _exit (forbid_guard_install () ? 0 : 1);
  if (pid < 0 || waitpid (pid, &status, 0) != pid)
    return FALSE;
  return WIFEXITED (status) && WEXITSTATUS (status) == 0;
}

static guint
count_maps (void)
{
  g_autofree char *maps = NULL;
  guint lines = 0;

  g_assert_true (g_file_get_contents ("/proc/self/maps", &maps, NULL, NULL));
  for (const char *p = maps; *p != '\0'; p++)
    lines += *p == '\n';
  return lines;
}

static void
await_gate_body (KaaCoroutine *co,
                 gpointer      gate)
{
  (void) kaa_await (kaa_in_progress_ref (gate), NULL);
}

/* Suspends until cancelled: nothing else settles what it awaits. */
static void
await_forever_body (KaaCoroutine *co,
                    gpointer      data)
{
  (void) kaa_await (kaa_in_progress_new (), NULL);
}

/* Spawns coroutines that stay suspended until one fails; returns them. */
static GPtrArray *
spawn_until_failure (guint    max,
                     GError **error)
{
  GPtrArray *spawned = g_ptr_array_new_with_free_func ((GDestroyNotify) kaa_in_progress_unref);

  for (guint i = 0; i < max; i++)
    {
      KaaInProgress *ip = kaa_coroutine_spawn (await_forever_body, NULL, NULL);

      if (kaa_in_progress_get_state (ip) == KAA_STATE_FAILED)
        {
          g_assert_false (kaa_in_progress_wait (ip, error));
          kaa_in_progress_unref (ip);
          break;
        }
      g_ptr_array_add (spawned, ip);
    }
  return spawned;
}

static void
cancel_all (GPtrArray *spawned)
{
  for (guint i = 0; i < spawned->len; i++)
    kaa_in_progress_cancel (spawned->pdata[i]);
  for (guint i = 0; i < spawned->len; i++)
    while (!kaa_in_progress_is_done (spawned->pdata[i]))
      g_main_context_iteration (NULL, TRUE);
}

/* With the limit lowered to the maps in use now plus 2 000, and a reserve
 * of 256, the guards run out after at most 1 000 stacks. */
#define HEADROOM     2000u
#define TEST_RESERVE 256u
/* TSan maps state of its own for every fiber, which the budget counts
 * only when it reads /proc/self/maps again (every half reserve): fewer
 * stacks fit, and the reserve is what absorbs TSan's maps in between. */
#if defined (__SANITIZE_THREAD__)
# define MIN_STACKS   (HEADROOM / 16)
# define MAPS_SLACK   TEST_RESERVE
#else
# define MIN_STACKS   (HEADROOM / 4)
# define MAPS_SLACK   16u
#endif

static void
map_count_subprocess (void)
{
  g_autoptr (GError) error = NULL;
  KaaInProgress *gate = kaa_in_progress_new ();
  KaaStackPoolStats stats;
  GPtrArray *spawned;
  KaaInProgress *again;
  guint limit;

  g_assert_true (forbid_guard_install ());
  limit = count_maps () + TEST_RESERVE + HEADROOM;
  kaa_stack_pool_set_map_limit_for_testing (limit, TEST_RESERVE);
  spawned = spawn_until_failure (10 * HEADROOM, &error);
  kaa_stack_pool_get_stats_for_testing (&stats);
  g_assert_false (stats.guard_madvise);
  g_test_message ("%u coroutines, then: %s", spawned->len,
                  error != NULL ? error->message : "no failure");
  g_assert_error (error, KAA_ERROR, KAA_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "vm.max_map_count"));
  g_assert_cmpuint (spawned->len, >, MIN_STACKS);
  g_assert_cmpuint (spawned->len, <=, HEADROOM / 2);
  /* The guards stopped short of the reserve (the few maps of slack are
   * the estimate's: it counts the guards' VMAs, not the merges). */
  g_assert_cmpuint (count_maps (), <=, limit - TEST_RESERVE + MAPS_SLACK);

  /* Recovery: cancelling (which allocates) works, and the stacks it
   * frees, guards and all, serve the next coroutines. */
  cancel_all (spawned);
  again = kaa_coroutine_spawn (await_gate_body, gate, NULL);
  g_assert_cmpint (kaa_in_progress_get_state (again), ==, KAA_STATE_PENDING);
  kaa_in_progress_finish_boolean (gate, TRUE);
  g_assert_true (kaa_in_progress_wait (again, NULL));
  kaa_in_progress_unref (again);
  g_ptr_array_unref (spawned);
  kaa_in_progress_unref (gate);
}

static void
test_map_count (void)
{
  g_test_summary ("with mprotect guards (MADV_GUARD_INSTALL refused by a "
                  "seccomp filter), running out of vm.max_map_count fails a "
                  "spawn with a GError naming it, leaves mappings for the "
                  "rest of the process and recovers (" ISSUE_REF ")");

  if (g_test_subprocess ())
    {
      map_count_subprocess ();
      return;
    }
  if (!seccomp_works ())
    {
      g_test_skip ("no seccomp filters here");
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* Leaves a mark on its stack, so that a reuse shows whether the page
 * went back to the kernel (it then reads zero). */
static void
mark_stack_body (gpointer data)
{
  volatile guint64 mark[64];

  for (guint i = 0; i < G_N_ELEMENTS (mark); i++)
    mark[i] = 0xfeedfacecafef00dull;
  *(guintptr *) data = (guintptr) &mark[0];
  kaa_fiber_suspend ();
}

#define N_TRIM 1024

static void
trim_body (gpointer data)
{
  *(guint *) data = kaa_test_recurse (0);
}

/* In a subprocess, which the overflow aborts. */
static void
trim_subprocess (void)
{
  GError *error = NULL;
  KaaFiber **fibers = g_new (KaaFiber *, N_TRIM);
  guintptr *marks = g_new0 (guintptr, N_TRIM);
  KaaStackPoolStats before, after;
  guint result = 0, zeroed = 0;
  KaaFiber *deep;

  kaa_stack_pool_trim_for_testing ();
  kaa_stack_pool_get_stats_for_testing (&before);
  for (guint i = 0; i < N_TRIM; i++)
    {
      fibers[i] = kaa_fiber_new (mark_stack_body, &marks[i], 0, "marker", &error);
      g_assert_no_error (error);
      kaa_fiber_resume (fibers[i]);
    }
  /* Innermost first, as a cascade frees them. */
  for (guint i = N_TRIM; i-- > 0;)
    {
      kaa_fiber_resume (fibers[i]);
      kaa_fiber_free (fibers[i]);
    }
  kaa_stack_pool_trim_for_testing ();
  kaa_stack_pool_get_stats_for_testing (&after);
  g_assert_cmpuint (after.n_trimmed, >=, before.n_trimmed + N_TRIM - 256);
  for (guint i = 0; i < N_TRIM; i++)
    if (*(volatile guint64 *) marks[i] == 0)
      zeroed++;
  g_assert_cmpuint (zeroed, >=, N_TRIM - 256);

  /* The stacks come back from the pool; the last one, deepest in it,
   * was trimmed with its neighbours, and it overflows. */
  for (guint i = 0; i + 1 < N_TRIM; i++)
    {
      fibers[i] = kaa_fiber_new (mark_stack_body, &marks[i], 0, "marker", &error);
      g_assert_no_error (error);
    }
  deep = kaa_fiber_new (trim_body, &result, 0, "deep-after-trim", &error);
  g_assert_no_error (error);
  kaa_stack_pool_get_stats_for_testing (&after);
  g_assert_cmpuint (after.n_pooled, ==, before.n_pooled);
  kaa_fiber_resume (deep);
  g_assert_not_reached ();
}

/* Issue #15's million-deep unwinds freed a million stacks side by side:
 * they are trimmed a run at a time, their guards included. */
static void
test_trim_keeps_guards (gconstpointer data)
{
  gboolean mprotect_guards = GPOINTER_TO_INT (data);

  g_test_summary ("stacks freed side by side are trimmed together, with madvise and with "
                  "mprotect guards: their pages go back to the kernel, and the guards "
                  "between them still stop an overflow (" ISSUE_REF ")");
  if (g_test_subprocess ())
    {
      if (mprotect_guards)
        g_assert_true (forbid_guard_install ());
      trim_subprocess ();
    }
  if (mprotect_guards && !seccomp_works ())
    {
      g_test_skip ("no seccomp filters here");
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*stack overflow in coroutine deep-after-trim*");
}

/* ------------------------------------------------------- nested waits */

/* One level of nesting; levels[i] submits levels[i - 1]. */
typedef struct
{
  KaaThreadPool *pool;
  guint          depth;
} Nested;

/* Submits the level below to its own pool and blocks its thread waiting
 * for it; level 0 returns at once. */
static gpointer
nested_job (KaaThreadJob  *job,
            gpointer       data,
            GError       **error)
{
  Nested *level = data;
  KaaInProgress *inner;
  gboolean ok;

  if (level->depth == 0)
    return GUINT_TO_POINTER (1);
  inner = kaa_thread_pool_run (level->pool, 0, nested_job, level - 1, NULL);
  ok = kaa_in_progress_wait (inner, error);
  kaa_in_progress_unref (inner);
  return ok ? GUINT_TO_POINTER (1) : NULL;
}

#define MAX_DEPTH 4

/* Runs nested_job() @depth levels deep in a pool of @threads threads. */
static gboolean
run_nested (guint    threads,
            guint    depth,
            GError **error)
{
  KaaThreadPool *pool = kaa_test_pool_new (threads);
  Nested levels[MAX_DEPTH];
  KaaInProgress *outer;
  gboolean ok;

  g_assert_cmpuint (depth, <, MAX_DEPTH);
  for (guint i = 0; i <= depth; i++)
    levels[i] = (Nested) { pool, i };
  outer = kaa_thread_pool_run (pool, 0, nested_job, &levels[depth], NULL);
  ok = kaa_in_progress_wait (outer, error);
  kaa_in_progress_unref (outer);
  kaa_thread_pool_shutdown (pool);
  kaa_thread_pool_unref (pool);
  return ok;
}

static void
test_nested_wait_deadlock (void)
{
  g_autoptr (GError) error = NULL;
  GSource *watchdog = kaa_test_watchdog_new (NULL, "nested waits");

  g_test_summary ("a job that waits for a job of its own pool while every "
                  "other thread of the pool does the same fails its wait "
                  "with a GError naming the pool instead of deadlocking; "
                  "waits with a thread to spare still work (" ISSUE_REF ")");

  /* With a thread to spare for each level, nesting works. */
  g_assert_true (run_nested (3, 2, &error));
  g_assert_no_error (error);

  /* One thread: its job waits for a job only it could run. */
  g_assert_false (run_nested (1, 1, &error));
  g_assert_error (error, KAA_ERROR, KAA_ERROR_WAIT_NESTING);
  g_assert_nonnull (strstr (error->message, "thread pool test-"));
  g_clear_error (&error);

  /* Two threads, three levels: the second level's wait fails, the
   * first level's wait gets that failure. */
  g_assert_false (run_nested (2, 2, &error));
  g_assert_error (error, KAA_ERROR, KAA_ERROR_WAIT_NESTING);
  g_assert_nonnull (strstr (error->message, "thread pool test-"));
  kaa_test_watchdog_free (watchdog);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/kaa/limits/map-count", test_map_count);
  g_test_add_data_func ("/kaa/limits/trim-keeps-guards", GINT_TO_POINTER (FALSE),
                        test_trim_keeps_guards);
  g_test_add_data_func ("/kaa/limits/trim-keeps-mprotect-guards", GINT_TO_POINTER (TRUE),
                        test_trim_keeps_guards);
  g_test_add_func ("/kaa/limits/nested-wait-deadlock", test_nested_wait_deadlock);

  return g_test_run ();
}
