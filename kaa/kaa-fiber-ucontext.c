/* kaa-fiber-ucontext.c: the portable fiber context switch
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * getcontext/makecontext/swapcontext, for architectures without an
 * assembly switch or when -Dfiber_backend=ucontext asks for it. It is
 * correct everywhere glibc runs but slow: swapcontext saves the whole
 * register file and makes a sigprocmask system call on every switch.
 */
#include "config.h"

#include <stdlib.h>

#include "kaa-fiber-private.h"

void
kaa_fiber_context_init (KaaFiberContext *ctx,
                        guint8          *stack_base,
                        gsize            stack_size,
                        KaaFiberEntry    entry)
{
  /* getcontext fails only where ucontext is not implemented at all. */
  if (getcontext (&ctx->uc) != 0)
    abort ();
  ctx->uc.uc_stack.ss_sp = stack_base;
  ctx->uc.uc_stack.ss_size = stack_size;
  /* The entry never returns (it switches away when the fiber is done). */
  ctx->uc.uc_link = NULL;
  makecontext (&ctx->uc, entry, 0);
}

void
kaa_fiber_switch (KaaFiberContext *from,
                  KaaFiberContext *to)
{
  swapcontext (&from->uc, &to->uc);
}
