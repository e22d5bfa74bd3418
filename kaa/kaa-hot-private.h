/* kaa-hot-private.h: the code a main-loop iteration runs, in one place (layer 0)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Issue #20: where the kernel isolates its page tables (PTI) without
 * PCID, as on many virtual machines, every system call empties the TLB,
 * and each main-loop iteration makes one, its poll(). Every page the
 * iteration then touches costs a page walk, some 6 ns each on the
 * machine this was measured on (a loop of poll() and reads of N pages).
 * A yield ran code on six pages of the library. The functions of an
 * idle iteration and of a yield are marked hot, which puts them next to
 * each other (GCC's .text.hot, gathered by the linker): two pages now.
 * The context switch's assembly joins them there.
 */
#pragma once

#if defined (__GNUC__)
# define KAA_HOT __attribute__ ((hot))
#else
# define KAA_HOT
#endif
