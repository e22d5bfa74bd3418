/* kaa-valgrind-private.h: Valgrind's client requests, made only under it (layer 0)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A client request runs its magic instruction sequence whether or not
 * Valgrind is there: a dozen instructions each, and a spawn and await made
 * six of them, some 60 of its 1 400 (issue #20). The hot paths make them
 * only when the program runs under Valgrind, which cannot change while
 * it runs: kaa-live.c reads it once, when the library is loaded.
 */
#pragma once

#include <glib.h>

#if HAVE_VALGRIND
# include <valgrind/valgrind.h>
#endif
#if HAVE_VALGRIND_MEMCHECK
# include <valgrind/memcheck.h>
#else
# define VALGRIND_MAKE_MEM_NOACCESS(addr, size) ((void) (addr), (void) (size))
# define VALGRIND_MAKE_MEM_UNDEFINED(addr, size) ((void) (addr), (void) (size))
#endif

G_BEGIN_DECLS

G_GNUC_INTERNAL extern gboolean kaa_valgrind_running;

#define KAA_ON_VALGRIND G_UNLIKELY (kaa_valgrind_running)

/* Memcheck's view of memory the library hands out and takes back. */
#define KAA_VALGRIND_MAKE_MEM_NOACCESS(addr, size) \
  G_STMT_START { if (KAA_ON_VALGRIND) VALGRIND_MAKE_MEM_NOACCESS (addr, size); } G_STMT_END
#define KAA_VALGRIND_MAKE_MEM_UNDEFINED(addr, size) \
  G_STMT_START { if (KAA_ON_VALGRIND) VALGRIND_MAKE_MEM_UNDEFINED (addr, size); } G_STMT_END

G_END_DECLS
