/* fuzz-stress.c: libFuzzer drives the stress interpreter (issue #7)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The fuzzer's bytes are the operations of tests/stress/kaa-stress.c:
 * one opcode byte and eight argument bytes each, then the episode settles
 * and the model checks it. A broken invariant, a critical or a warning
 * aborts, which libFuzzer reports with the input that did it. One
 * KaaStress lives for the whole process; every input leaves it empty.
 */
#include "config.h"

#include <signal.h>
#include <stdlib.h>

#include "stress/kaa-stress.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static KaaStress *stress;

/* g_error() and fatal criticals stop with G_BREAKPOINT(), a SIGTRAP,
 * which libFuzzer does not catch: as an abort it saves the crash input. */
static void
trap_to_abort (int signum)
{
  abort ();
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  KaaStressConfig config = { .features = kaa_stress_features_from_env (),
                             .max_nodes = 32, .episode_ops = 200,
                             .replay = "the fuzzer's crash input" };

  signal (SIGTRAP, trap_to_abort);
  g_log_set_always_fatal (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  stress = kaa_stress_new (&config);
  return 0;
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  KaaStressBytes bytes;

  kaa_stress_bytes_init_buffer (&bytes, data, size);
  kaa_stress_run (stress, &bytes, 0);
  return 0;
}
