/* kaa-fiber-stack-overflow.c: naming the coroutine whose stack overflowed
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A coroutine that runs past the end of its stack faults in the guard
 * below it (kaa-fiber-stack.c). The SIGSEGV handler installed with the
 * first chunk finds the stack whose guard was hit and writes one line
 * naming the coroutine running on the thread (the guard's, or, when a
 * frame bigger than the guard jumped it into the guard of a stack further
 * down, the one above) and its stack size before aborting; any other
 * fault goes to the handler there was before. It runs on each thread's
 * alternate signal stack (kaa_stack_thread_init()), since the faulting
 * stack has no room for a signal frame, and reads the chunk list and
 * the slot records without any lock: chunks are published fully built
 * and never freed, and a slot's live flag is atomic.
 */
/* dladdr() and Dl_info. */
#define _GNU_SOURCE
#include "config.h"

#include <dlfcn.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kaa-fiber-private.h"
#include "kaa-fiber-stack-impl-private.h"

/* The report shows at most this much of a coroutine's name. */
#define NAME_BYTES      64
/* The handler runs on this stack; abort() and write() need little, but a
 * chained handler (ASan's, a crash reporter) may need much more. */
#define ALT_STACK_BYTES ((gsize) 64 * 1024)

/* Atomic head, written under the pool's lock; the handler walks it. */
static StackChunk *chunks;
static struct sigaction previous_segv;

/* Called from the SIGSEGV handler: no locks, no allocation. */
static KaaStack *
stack_find_guard (const guint8 *addr)
{
  StackChunk *chunk;

  for (chunk = g_atomic_pointer_get (&chunks); chunk != NULL; chunk = chunk->next)
    {
      gsize offset;
      KaaStack *stack;

      if (addr < chunk->base || addr >= chunk->base + chunk->n_slots * chunk->slot_size)
        continue;
      offset = (gsize) (addr - chunk->base);
      stack = &chunk->slots[offset / chunk->slot_size];
      if (offset % chunk->slot_size < chunk->guard_size && g_atomic_int_get (&stack->live))
        return stack;
      return NULL;
    }
  return NULL;
}

/* Async-signal-safe: appends @s at @p, never past @end. */
static char *
stack_append (char       *p,
              const char *end,
              const char *s)
{
  while (*s != '\0' && p < end)
    *p++ = *s++;
  return p;
}

static char *
stack_append_size (char       *p,
                   const char *end,
                   gsize       n)
{
  char digits[24];
  guint i = 0;

  do
    digits[i++] = (char) ('0' + n % 10);
  while ((n /= 10) != 0);
  while (i > 0 && p < end)
    *p++ = digits[--i];
  return p;
}

static char *
stack_append_hex (char       *p,
                  const char *end,
                  guintptr    n)
{
  char digits[2 * sizeof n];
  guint i = 0;

  do
    digits[i++] = "0123456789abcdef"[n % 16];
  while ((n /= 16) != 0);
  p = stack_append (p, end, "0x");
  while (i > 0 && p < end)
    *p++ = digits[--i];
  return p;
}

/* Names @func by its symbol, or else by its file and offset, as
 * backtrace_symbols() would (static functions are not in the dynamic
 * symbol table; addr2line turns the offset into a line). dladdr() is not
 * async-signal-safe: it takes the loader's lock, which is recursive, so
 * it could wait only for another thread inside dlopen(), and the process
 * is aborting anyway. */
static char *
stack_append_func (char       *p,
                   const char *end,
                   KaaFiberCode func)
{
  Dl_info info;
  const char *file;

  if (dladdr ((gpointer) func, &info) == 0 || info.dli_fname == NULL)
    return stack_append_hex (p, end, (guintptr) func);
  if (info.dli_sname != NULL && info.dli_saddr == (gpointer) func)
    return stack_append (p, end, info.dli_sname);
  file = strrchr (info.dli_fname, '/');
  p = stack_append (p, end, file != NULL ? file + 1 : info.dli_fname);
  p = stack_append (p, end, "+");
  return stack_append_hex (p, end, (guintptr) func - (guintptr) info.dli_fbase);
}

static void G_GNUC_NORETURN
stack_report_overflow (KaaStack *stack)
{
  char msg[NAME_BYTES + 128];
  const char *end = msg + sizeof msg;
  char *p = msg;
  ssize_t ignored;

  p = stack_append (p, end, "libkaa: stack overflow in coroutine ");
  if (stack->body != NULL)
    p = stack_append_func (p, msg + NAME_BYTES + 36, stack->body);
  else
    p = stack_append (p, end, stack->name);
  p = stack_append (p, end, " (stack size ");
  p = stack_append_size (p, end, stack->chunk->stack_size);
  p = stack_append (p, end, " bytes)\n");
  ignored = write (STDERR_FILENO, msg, (gsize) (p - msg));
  (void) ignored;
  abort ();
}

/* A fault outside our guards belongs to whoever handled SIGSEGV before us.
 * If that was the default action (or SIG_IGN, which cannot hold for a
 * fault), it is restored and the signal raised again: it stays blocked
 * until the handler returns, then kills the process the ordinary way. */
static void
stack_segv_handler (int        sig,
                    siginfo_t *info,
                    void      *ucontext)
{
  /* si_code <= 0: sent by kill() or raise(), si_addr means nothing. */
  if (info->si_code > 0)
    {
      KaaStack *guarded = stack_find_guard (info->si_addr);
      KaaStack *running = kaa_fiber_running_stack ();

      /* A frame bigger than the guard may jump it into the guard of a
       * stack further down: the running stack overflowed all the same. */
      if (guarded != NULL)
        stack_report_overflow (running != NULL ? running : guarded);
    }

  if (previous_segv.sa_flags & SA_SIGINFO)
    previous_segv.sa_sigaction (sig, info, ucontext);
  else if (previous_segv.sa_handler != SIG_DFL && previous_segv.sa_handler != SIG_IGN)
    previous_segv.sa_handler (sig);
  else
    {
      struct sigaction dfl = { 0 };

      dfl.sa_handler = SIG_DFL;
      sigaction (SIGSEGV, &dfl, NULL);
      raise (sig);
    }
}

static void
stack_install_handler_unlocked (void)
{
  struct sigaction sa = { 0 };

  sa.sa_sigaction = stack_segv_handler;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGSEGV, &sa, &previous_segv);
}

void
kaa_stack_overflow_watch_unlocked (StackChunk *chunk)
{
  if (g_atomic_pointer_get (&chunks) == NULL)
    stack_install_handler_unlocked ();
  /* Release: the handler must see the slots before the chunk. */
  chunk->next = chunks;
  g_atomic_pointer_set (&chunks, chunk);
}

static void
stack_alt_free (gpointer mem)
{
  stack_t ss = { 0 };

  ss.ss_flags = SS_DISABLE;
  sigaltstack (&ss, NULL);
  munmap (mem, ALT_STACK_BYTES);
}

/* Owns the thread's alternate signal stack; freed when the thread exits. */
static GPrivate alt_stack_key = G_PRIVATE_INIT (stack_alt_free);

/**
 * kaa_stack_thread_init:
 *
 * Gives the calling thread an alternate signal stack, so that the SIGSEGV
 * of an overflow can be handled at all: the faulting stack has no room for
 * the signal frame. A thread that already has one keeps it. Best effort:
 * without it an overflow still kills the process, only without the report.
 */
void
kaa_stack_thread_init (void)
{
  stack_t ss = { 0 }, old;
  gpointer mem;

  if (sigaltstack (NULL, &old) == 0 && !(old.ss_flags & SS_DISABLE))
    return;
  mem = mmap (NULL, ALT_STACK_BYTES, PROT_READ | PROT_WRITE,
              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED)
    return;
  ss.ss_sp = mem;
  ss.ss_size = ALT_STACK_BYTES;
  if (sigaltstack (&ss, NULL) != 0)
    {
      munmap (mem, ALT_STACK_BYTES);
      return;
    }
  g_private_set (&alt_stack_key, mem);
}
