/* kaa-fiber-x86_64.S: the fiber context switch for x86-64 System V
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * void kaa_fiber_switch (KaaFiberContext *from, KaaFiberContext *to);
 *
 * A switch is a function call as far as the compiler knows, so only the
 * state the System V ABI makes callee-saved is kept: rbx, rbp, r12-r15,
 * rsp, the control bits of MXCSR and the x87 control word. Everything is
 * pushed on the old stack, rsp is stored in from->sp (offset 0) and loaded
 * from to->sp, and the same frame is popped from the new stack:
 *
 *   sp+56 return address    sp+24 r13
 *   sp+48 rbp               sp+16 r14
 *   sp+40 rbx               sp+8  r15
 *   sp+32 r12               sp+0  MXCSR (4 bytes), x87 control word (2)
 *
 * kaa_fiber_resume() and kaa_fiber_suspend() enter it by a jump, with the
 * address to come back to pushed where a call would have put it
 * (fiber_switch_inline() in kaa-fiber.c), so that the return-stack
 * predictor gets no entry the switch never returns to. A fiber that has
 * not run yet is entered by kaa_fiber_start() (below) instead. The
 * sanitizer and Valgrind annotations live in kaa-fiber.c, around the
 * switch.
 *
 * CET: the entry carries endbr64 when the compiler targets IBT (-fcf-
 * protection), and only then is IBT claimed in the property note. Shadow
 * stacks are never claimed: a switch returns to an address the shadow stack
 * did not push, so linking this object correctly clears SHSTK.
 */

#if defined(__CET__) && (__CET__ & 1)
# define KAA_ENDBR endbr64
# define KAA_NOTRACK notrack
# define KAA_CLAIM_IBT 1
#else
# define KAA_ENDBR
# define KAA_NOTRACK
# define KAA_CLAIM_IBT 0
#endif

/* Beside the C code of a main-loop iteration (kaa-hot-private.h). */
	.section .text.hot.kaa_fiber_switch,"ax",@progbits

/* Pushes the callee-saved state (and the control words) onto the stack. */
.macro KAA_SAVE_STATE
	pushq	%rbp
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rbp, 0
	pushq	%rbx
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rbx, 0
	pushq	%r12
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r12, 0
	pushq	%r13
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r13, 0
	pushq	%r14
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r14, 0
	pushq	%r15
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r15, 0
	subq	$8, %rsp
	.cfi_adjust_cfa_offset 8
	stmxcsr	(%rsp)
	fnstcw	4(%rsp)
.endm

/* Pops what KAA_SAVE_STATE pushed, up to the return address. */
.macro KAA_RESTORE_STATE
	ldmxcsr	(%rsp)
	fldcw	4(%rsp)
	addq	$8, %rsp
	.cfi_adjust_cfa_offset -8
	popq	%r15
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r15
	popq	%r14
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r14
	popq	%r13
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r13
	popq	%r12
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r12
	popq	%rbx
	.cfi_adjust_cfa_offset -8
	.cfi_restore %rbx
	popq	%rbp
	.cfi_adjust_cfa_offset -8
	.cfi_restore %rbp
.endm

/* Saves the callee-saved state on the old stack, exchanges the stacks
 * and pops the same state from the new one, up to the return address. */
.macro KAA_SWITCH_STACKS
	KAA_SAVE_STATE
	/* The frame on the new stack has the same layout, so the CFI above
	 * stays true across the exchange of rsp. */
	movq	%rsp, (%rdi)
	movq	(%rsi), %rsp
	KAA_RESTORE_STATE
.endm

	.globl	kaa_fiber_switch
	.hidden	kaa_fiber_switch
	.type	kaa_fiber_switch, @function
	.p2align 4
kaa_fiber_switch:
	.cfi_startproc
	KAA_ENDBR
	KAA_SWITCH_STACKS
	/* Not ret: the return-stack predictor holds the old stack's caller,
	 * so a ret here is mispredicted on every switch. An indirect jump is
	 * predicted from its own history (25 -> 11 ns per round trip, see
	 * docs/benchmarks.md). notrack: the target is a return address, which
	 * carries no endbr64. */
	popq	%rcx
	.cfi_adjust_cfa_offset -8
	.cfi_register %rip, %rcx
	KAA_NOTRACK jmp	*%rcx
	.cfi_endproc
	.size	kaa_fiber_switch, .-kaa_fiber_switch


/* void kaa_fiber_switch_peer (KaaFiberContext *from, KaaFiberContext *to);
 *
 * The same for kaa_fiber_transfer(): from one fiber to another that was
 * suspended by the same code (a yield to a yield), where ret is what the
 * return-stack predictor expects, and the rets after it too (45 instead
 * of 61 ns per yield with 100 coroutines runnable, see
 * docs/benchmarks.md). */
	.globl	kaa_fiber_switch_peer
	.hidden	kaa_fiber_switch_peer
	.type	kaa_fiber_switch_peer, @function
	.p2align 4
kaa_fiber_switch_peer:
	.cfi_startproc
	KAA_ENDBR
	KAA_SWITCH_STACKS
	ret
	.cfi_endproc
	.size	kaa_fiber_switch_peer, .-kaa_fiber_switch_peer


/* void kaa_fiber_start (KaaFiberContext *from, guint8 *top);
 *
 * Starts a fiber that has not run: saves the resumer's state on its own
 * stack as kaa_fiber_switch() does (so that the fiber's first suspend
 * switches back to it like any other) and calls kaa_fiber_run() on the
 * fiber's stack, which ends at @top (16-aligned), with the control words
 * as they are. Returning from it, the
 * fiber is finished: this goes back to whoever resumed it last (rbx, which
 * kaa_fiber_run() preserves, still holds @from, the fiber's caller
 * context, which each resume and transfer update) and returns there.
 * The call of kaa_fiber_run() and its return, and this function's return
 * into the resumer that called it, pair up for the return-stack
 * predictor: no ret here lands where the predictor does not expect it.
 * On the fiber's stack the return address is undefined for unwinders:
 * a backtrace ends there. */
	.globl	kaa_fiber_start
	.hidden	kaa_fiber_start
	.type	kaa_fiber_start, @function
	.p2align 4
kaa_fiber_start:
	.cfi_startproc
	KAA_ENDBR
	KAA_SAVE_STATE
	movq	%rsp, (%rdi)
	movq	%rdi, %rbx
	.cfi_remember_state
	movq	%rsi, %rsp
	.cfi_def_cfa %rsp, 0
	.cfi_undefined %rip
	xorl	%ebp, %ebp
	call	kaa_fiber_run
	/* Finished: back on the stack of whoever resumed it last. */
	movq	(%rbx), %rsp
	.cfi_restore_state
	KAA_RESTORE_STATE
	ret
	.cfi_endproc
	.size	kaa_fiber_start, .-kaa_fiber_start

	.section .note.GNU-stack,"",@progbits

#if KAA_CLAIM_IBT
	/* NT_GNU_PROPERTY_TYPE_0 with GNU_PROPERTY_X86_FEATURE_1_AND = IBT. */
	.section .note.gnu.property,"a"
	.p2align 3
	.long	4
	.long	16
	.long	5
	.asciz	"GNU"
	.long	0xc0000002
	.long	4
	.long	1
	.p2align 3
#endif
