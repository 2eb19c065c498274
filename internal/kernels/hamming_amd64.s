//go:build !purego

#include "textflag.h"

// func hammingPOPCNT(dst *uint32, codes, q *uint64, words, n int)
//
// For each of n codes of words uint64: XOR with q, POPCNT, sum; two words
// per step into two accumulators. POPCNT writes the register it reads, which
// avoids its false dependency on the destination on some Intel cores.
TEXT ·hammingPOPCNT(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ codes+8(FP), SI
	MOVQ q+16(FP), DX
	MOVQ words+24(FP), R8
	MOVQ n+32(FP), CX
	CMPQ R8, $6
	JEQ  h6
	MOVQ R8, R11
	SHLQ $3, R11 // bytes per code
hrow:
	XORQ AX, AX
	XORQ BX, BX
	XORQ R9, R9
hpair:
	LEAQ 2(R9), R10
	CMPQ R10, R8
	JG   hone
	MOVQ (SI)(R9*8), R12
	XORQ (DX)(R9*8), R12
	POPCNTQ R12, R12
	MOVQ 8(SI)(R9*8), R13
	XORQ 8(DX)(R9*8), R13
	POPCNTQ R13, R13
	ADDQ R12, AX
	ADDQ R13, BX
	MOVQ R10, R9
	JMP  hpair
hone:
	CMPQ R9, R8
	JGE  hstore
	MOVQ (SI)(R9*8), R12
	XORQ (DX)(R9*8), R12
	POPCNTQ R12, R12
	ADDQ R12, AX
hstore:
	ADDQ BX, AX
	MOVL AX, (DI)
	ADDQ $4, DI
	ADDQ R11, SI
	DECQ CX
	JNZ  hrow
	RET

// 6 words (384 bits, MiniLM and e5-small): the query stays in R8–R13.
h6:
	MOVQ (DX), R8
	MOVQ 8(DX), R9
	MOVQ 16(DX), R10
	MOVQ 24(DX), R11
	MOVQ 32(DX), R12
	MOVQ 40(DX), R13
h6row:
	MOVQ (SI), AX
	XORQ R8, AX
	POPCNTQ AX, AX
	MOVQ 8(SI), BX
	XORQ R9, BX
	POPCNTQ BX, BX
	ADDQ BX, AX
	MOVQ 16(SI), BX
	XORQ R10, BX
	POPCNTQ BX, BX
	ADDQ BX, AX
	MOVQ 24(SI), DX
	XORQ R11, DX
	POPCNTQ DX, DX
	MOVQ 32(SI), BX
	XORQ R12, BX
	POPCNTQ BX, BX
	ADDQ BX, DX
	MOVQ 40(SI), BX
	XORQ R13, BX
	POPCNTQ BX, BX
	ADDQ BX, DX
	ADDQ DX, AX
	MOVL AX, (DI)
	ADDQ $4, DI
	ADDQ $48, SI
	DECQ CX
	JNZ  h6row
	RET
