//go:build !purego

#include "textflag.h"

// func dotU8I8VNNI(a *uint8, b *int8, n int) int32
//
// Two accumulators; per 64 bytes one load of a and one VPDPBUSD (unsigned
// bytes of a times signed bytes of b, four products summed per int32 lane).
TEXT ·dotU8I8VNNI(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
vn128:
	CMPQ CX, $128
	JL   vn64
	VMOVDQU32 (SI), Z2
	VMOVDQU32 64(SI), Z3
	VPDPBUSD  (DI), Z2, Z0
	VPDPBUSD  64(DI), Z3, Z1
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $128, CX
	JMP  vn128
vn64:
	TESTQ CX, CX
	JZ    vnred
	VMOVDQU32 (SI), Z2
	VPDPBUSD  (DI), Z2, Z0
vnred:
	VPADDD Z1, Z0, Z0
	VEXTRACTI64X4 $1, Z0, Y1
	VPADDD Y1, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDD X1, X0, X0
	VPSHUFD $0x4e, X0, X1
	VPADDD X1, X0, X0
	VPSHUFD $0xb1, X0, X1
	VPADDD X1, X0, X0
	VMOVD X0, AX
	MOVL AX, ret+24(FP)
	VZEROUPPER
	RET

// func dotU8I8AVX2(a *uint8, b *int8, n int) int32
//
// Per 32 bytes: a zero-extended and b sign-extended to 16 bits, VPMADDWD
// (pairs summed into int32: |255·127·2| fits), added to two accumulators.
TEXT ·dotU8I8AVX2(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
av32:
	TESTQ CX, CX
	JZ    avred
	VPMOVZXBW (SI), Y2
	VPMOVSXBW (DI), Y3
	VPMOVZXBW 16(SI), Y4
	VPMOVSXBW 16(DI), Y5
	VPMADDWD  Y3, Y2, Y2
	VPMADDWD  Y5, Y4, Y4
	VPADDD    Y2, Y0, Y0
	VPADDD    Y4, Y1, Y1
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $32, CX
	JMP  av32
avred:
	VPADDD Y1, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDD X1, X0, X0
	VPSHUFD $0x4e, X0, X1
	VPADDD X1, X0, X0
	VPSHUFD $0xb1, X0, X1
	VPADDD X1, X0, X0
	VMOVD X0, AX
	MOVL AX, ret+24(FP)
	VZEROUPPER
	RET
