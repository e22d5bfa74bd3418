/* kaa-fiber-aarch64.S: the fiber context switch for AArch64 (AAPCS64)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * void kaa_fiber_switch (KaaFiberContext *from, KaaFiberContext *to);
 *
 * A switch is a function call as far as the compiler knows, so only the
 * state AAPCS64 makes callee-saved is kept: x19-x28, the frame pointer x29,
 * the link register x30, sp, the low halves d8-d15 of v8-v15, and FPCR.
 * The frame is built on the old stack, sp is stored in from->sp (offset
 * 0) and loaded from to->sp, and the same frame is read back:
 *
 *   sp+0   x19 x20     sp+96  d8  d9
 *   sp+16  x21 x22     sp+112 d10 d11
 *   sp+32  x23 x24     sp+128 d12 d13
 *   sp+48  x25 x26     sp+144 d14 d15
 *   sp+64  x27 x28     sp+160 FPCR, padding to keep sp 16-aligned
 *   sp+80  x29 x30
 *
 * kaa_fiber_context_init() (kaa-fiber.c) writes that frame by hand for a
 * fiber that has not run yet; its x30 is the entry, reached by ret.
 *
 * BTI: the entry is a "bti c" landing pad when the compiler targets BTI
 * (-mbranch-protection), and only then is BTI claimed in the property
 * note. ret is not a BTI-checked branch, so entering a new fiber through
 * it needs no pad. PAC is not claimed: x30 is saved unsigned.
 *
 * The x86-64 switch leaves by an indirect jump, because the return-stack
 * predictor mispredicts a ret after a change of stack. Here a br to a
 * return address would need a "bti j" pad there, which no call site has,
 * so the switch keeps ret; it is unmeasured (no aarch64 machine).
 */

#if defined(__ARM_FEATURE_BTI_DEFAULT) && __ARM_FEATURE_BTI_DEFAULT
# define KAA_BTI_C bti c
# define KAA_CLAIM_BTI 1
#else
# define KAA_BTI_C
# define KAA_CLAIM_BTI 0
#endif

	.text
	.globl	kaa_fiber_switch
	.hidden	kaa_fiber_switch
	.type	kaa_fiber_switch, %function
	.p2align 4
kaa_fiber_switch:
	.cfi_startproc
	KAA_BTI_C
	sub	sp, sp, #176
	.cfi_adjust_cfa_offset 176
	stp	x19, x20, [sp, #0]
	.cfi_rel_offset x19, 0
	.cfi_rel_offset x20, 8
	stp	x21, x22, [sp, #16]
	.cfi_rel_offset x21, 16
	.cfi_rel_offset x22, 24
	stp	x23, x24, [sp, #32]
	.cfi_rel_offset x23, 32
	.cfi_rel_offset x24, 40
	stp	x25, x26, [sp, #48]
	.cfi_rel_offset x25, 48
	.cfi_rel_offset x26, 56
	stp	x27, x28, [sp, #64]
	.cfi_rel_offset x27, 64
	.cfi_rel_offset x28, 72
	stp	x29, x30, [sp, #80]
	.cfi_rel_offset x29, 80
	.cfi_rel_offset x30, 88
	stp	d8, d9, [sp, #96]
	.cfi_rel_offset d8, 96
	.cfi_rel_offset d9, 104
	stp	d10, d11, [sp, #112]
	.cfi_rel_offset d10, 112
	.cfi_rel_offset d11, 120
	stp	d12, d13, [sp, #128]
	.cfi_rel_offset d12, 128
	.cfi_rel_offset d13, 136
	stp	d14, d15, [sp, #144]
	.cfi_rel_offset d14, 144
	.cfi_rel_offset d15, 152
	mrs	x9, fpcr
	str	x9, [sp, #160]

	/* The frame on the new stack has the same layout, so the CFI above
	 * stays true across the exchange of sp. */
	mov	x9, sp
	str	x9, [x0]
	ldr	x9, [x1]
	mov	sp, x9

	ldp	x19, x20, [sp, #0]
	ldp	x21, x22, [sp, #16]
	ldp	x23, x24, [sp, #32]
	ldp	x25, x26, [sp, #48]
	ldp	x27, x28, [sp, #64]
	ldp	x29, x30, [sp, #80]
	ldp	d8, d9, [sp, #96]
	ldp	d10, d11, [sp, #112]
	ldp	d12, d13, [sp, #128]
	ldp	d14, d15, [sp, #144]
	/* Writing FPCR can serialise the pipeline on some cores; fibers
	 * rarely change it, so skip the write when it already matches. */
	ldr	x9, [sp, #160]
	mrs	x10, fpcr
	cmp	x9, x10
	b.eq	1f
	msr	fpcr, x9
1:
	add	sp, sp, #176
	.cfi_adjust_cfa_offset -176
	.cfi_restore x19
	.cfi_restore x20
	.cfi_restore x21
	.cfi_restore x22
	.cfi_restore x23
	.cfi_restore x24
	.cfi_restore x25
	.cfi_restore x26
	.cfi_restore x27
	.cfi_restore x28
	.cfi_restore x29
	.cfi_restore x30
	.cfi_restore d8
	.cfi_restore d9
	.cfi_restore d10
	.cfi_restore d11
	.cfi_restore d12
	.cfi_restore d13
	.cfi_restore d14
	.cfi_restore d15
	ret
	.cfi_endproc
	.size	kaa_fiber_switch, .-kaa_fiber_switch

	/* kaa_fiber_transfer()'s switch: this one leaves by ret already. */
	.globl	kaa_fiber_switch_peer
	.hidden	kaa_fiber_switch_peer
	.type	kaa_fiber_switch_peer, %function
	.set	kaa_fiber_switch_peer, kaa_fiber_switch

	.section .note.GNU-stack,"",%progbits

#if KAA_CLAIM_BTI
	/* NT_GNU_PROPERTY_TYPE_0 with GNU_PROPERTY_AARCH64_FEATURE_1_AND = BTI. */
	.section .note.gnu.property,"a"
	.p2align 3
	.word	4
	.word	16
	.word	5
	.asciz	"GNU"
	.word	0xc0000000
	.word	4
	.word	1
	.p2align 3
#endif
