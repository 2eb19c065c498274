//go:build !purego

// Int8 kernels; see int8.go for the layout and int8_amd64.go for the Go
// side. The reference each routine is tested against is in int8.go.

#include "textflag.h"

// qgemm8x32VNNI(kp int, a *uint8, lda int, b *int8, corr *int32,
//               wscale, ascale, bias, c *float32, ldc int)
//
// 8 rows × 32 columns: accumulators Z0..Z15 (row r in Z(2r), Z(2r+1)),
// started at corr. Per group of 4 k: two panel loads (Z16, Z17), one
// broadcast of 4 activation bytes per row, two VPDPBUSD per row.
#define QROW(off, acc0, acc1) \
	VPBROADCASTD off, Z18 \
	VPDPBUSD     Z16, Z18, acc0 \
	VPDPBUSD     Z17, Z18, acc1

#define QOUT(acc0, acc1, rsoff) \
	VBROADCASTSS rsoff(DX), Z22 \
	VCVTDQ2PS    acc0, acc0 \
	VCVTDQ2PS    acc1, acc1 \
	VMULPS       Z16, acc0, acc0 \
	VMULPS       Z17, acc1, acc1 \
	VMULPS       Z22, acc0, acc0 \
	VMULPS       Z22, acc1, acc1 \
	VADDPS       Z18, acc0, acc0 \
	VADDPS       Z19, acc1, acc1 \
	VMOVUPS      acc0, (DI) \
	VMOVUPS      acc1, 64(DI) \
	ADDQ         R8, DI

TEXT ·qgemm8x32VNNI(SB), NOSPLIT, $0-80
	MOVQ kp+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R9
	MOVQ b+24(FP), DI
	MOVQ corr+32(FP), AX

	VMOVDQU32 (AX), Z16
	VMOVDQU32 64(AX), Z17
	VMOVDQA32 Z16, Z0
	VMOVDQA32 Z17, Z1
	VMOVDQA32 Z16, Z2
	VMOVDQA32 Z17, Z3
	VMOVDQA32 Z16, Z4
	VMOVDQA32 Z17, Z5
	VMOVDQA32 Z16, Z6
	VMOVDQA32 Z17, Z7
	VMOVDQA32 Z16, Z8
	VMOVDQA32 Z17, Z9
	VMOVDQA32 Z16, Z10
	VMOVDQA32 Z17, Z11
	VMOVDQA32 Z16, Z12
	VMOVDQA32 Z17, Z13
	VMOVDQA32 Z16, Z14
	VMOVDQA32 Z17, Z15

	LEAQ (R9)(R9*2), R10 // 3·lda
	LEAQ (SI)(R9*4), R11 // row 4
	SHRQ $2, CX
	JZ   qdone

qloop:
	VMOVDQU32 (DI), Z16
	VMOVDQU32 64(DI), Z17
	QROW((SI), Z0, Z1)
	QROW((SI)(R9*1), Z2, Z3)
	QROW((SI)(R9*2), Z4, Z5)
	QROW((SI)(R10*1), Z6, Z7)
	QROW((R11), Z8, Z9)
	QROW((R11)(R9*1), Z10, Z11)
	QROW((R11)(R9*2), Z12, Z13)
	QROW((R11)(R10*1), Z14, Z15)
	ADDQ $128, DI
	ADDQ $4, SI
	ADDQ $4, R11
	DECQ CX
	JNZ  qloop

qdone:
	MOVQ wscale+40(FP), AX
	MOVQ ascale+48(FP), DX
	MOVQ bias+56(FP), BX
	MOVQ c+64(FP), DI
	MOVQ ldc+72(FP), R8
	SHLQ $2, R8
	VMOVUPS (AX), Z16
	VMOVUPS 64(AX), Z17
	VMOVUPS (BX), Z18
	VMOVUPS 64(BX), Z19
	QOUT(Z0, Z1, 0)
	QOUT(Z2, Z3, 4)
	QOUT(Z4, Z5, 8)
	QOUT(Z6, Z7, 12)
	QOUT(Z8, Z9, 16)
	QOUT(Z10, Z11, 20)
	QOUT(Z12, Z13, 24)
	QOUT(Z14, Z15, 28)
	VZEROUPPER
	RET

// absMaxAVX512(x *float32, n int) float32: max |x[i]| over n (a multiple
// of 16, > 0) values.
TEXT ·absMaxAVX512(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	MOVL $0x7fffffff, AX
	VPBROADCASTD AX, Z2
	VPXORD Z0, Z0, Z0
	SHRQ $4, CX

amloop:
	VPANDD (SI), Z2, Z1
	VMAXPS Z1, Z0, Z0
	ADDQ   $64, SI
	DECQ   CX
	JNZ    amloop
	VEXTRACTF32X8 $1, Z0, Y1
	VMAXPS        Y1, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VMAXPS        X1, X0, X0
	VPSHUFD       $0x4e, X0, X1
	VMAXPS        X1, X0, X0
	VPSHUFD       $0xb1, X0, X1
	VMAXPS        X1, X0, X0
	VMOVSS        X0, ret+16(FP)
	VZEROUPPER
	RET

// quantAVX512(x *float32, n int, inv float32, dst *uint8): dst[i] =
// clamp(round(x[i]·inv), ±127) + 128 for n (a multiple of 16) values.
TEXT ·quantAVX512(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS inv+16(FP), Z0
	MOVQ dst+24(FP), DI
	MOVL $-127, AX
	VPBROADCASTD AX, Z1
	MOVL $0x80808080, AX
	VPBROADCASTD AX, X2
	SHRQ $4, CX
	JZ   qzdone

qzloop:
	VMULPS    (SI), Z0, Z3
	VCVTPS2DQ Z3, Z3
	VPMAXSD   Z1, Z3, Z3
	VPMOVSDB  Z3, X3
	VPXOR     X2, X3, X3
	VMOVDQU   X3, (DI)
	ADDQ      $64, SI
	ADDQ      $16, DI
	DECQ      CX
	JNZ       qzloop

qzdone:
	VZEROUPPER
	RET

DATA qones<>+0(SB)/8, $0x0001000100010001
DATA qones<>+8(SB)/8, $0x0001000100010001
DATA qones<>+16(SB)/8, $0x0001000100010001
DATA qones<>+24(SB)/8, $0x0001000100010001
GLOBL qones<>(SB), RODATA|NOPTR, $32

DATA q80<>+0(SB)/8, $0x8080808080808080
DATA q80<>+8(SB)/8, $0x8080808080808080
DATA q80<>+16(SB)/8, $0x8080808080808080
DATA q80<>+24(SB)/8, $0x8080808080808080
GLOBL q80<>(SB), RODATA|NOPTR, $32

// qgemm2x32AVX2(kp int, a *uint8, lda int, b *int8, wscale, ascale, bias,
//               c *float32, ldc int)
//
// Two rows × 32 columns without VNNI, exact: a row's 4 bytes are turned
// back into signed codes q (xor 0x80), and |q| (unsigned) times w·sign(q)
// (signed) goes through VPMADDUBSW, whose pair sums (≤ 2·127·127) cannot
// saturate; VPMADDWD by ones adds the pairs into one int32 per column.
// Accumulators Y0..Y3 (row 0) and Y4..Y7 (row 1) start at 0: the sum is
// Σ q·w directly, so the +128 correction is not needed.
#define Q2ROW(off, acc0, acc1, acc2, acc3) \
	VPBROADCASTD off, Y12 \
	VPXOR        q80<>(SB), Y12, Y12 \
	VPABSB       Y12, Y13 \
	VPSIGNB      Y12, Y8, Y14 \
	VPMADDUBSW   Y14, Y13, Y14 \
	VPMADDWD     qones<>(SB), Y14, Y14 \
	VPADDD       Y14, acc0, acc0 \
	VPSIGNB      Y12, Y9, Y14 \
	VPMADDUBSW   Y14, Y13, Y14 \
	VPMADDWD     qones<>(SB), Y14, Y14 \
	VPADDD       Y14, acc1, acc1 \
	VPSIGNB      Y12, Y10, Y14 \
	VPMADDUBSW   Y14, Y13, Y14 \
	VPMADDWD     qones<>(SB), Y14, Y14 \
	VPADDD       Y14, acc2, acc2 \
	VPSIGNB      Y12, Y11, Y14 \
	VPMADDUBSW   Y14, Y13, Y14 \
	VPMADDWD     qones<>(SB), Y14, Y14 \
	VPADDD       Y14, acc3, acc3

#define Q2OUT(acc, off, rs) \
	VCVTDQ2PS acc, acc \
	VMULPS    off(AX), acc, acc \
	VMULPS    rs, acc, acc \
	VADDPS    off(BX), acc, acc \
	VMOVUPS   acc, off(DI)

TEXT ·qgemm2x32AVX2(SB), NOSPLIT, $0-72
	MOVQ kp+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R9
	MOVQ b+24(FP), DX
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	SHRQ $2, CX
	JZ   q2done

q2loop:
	VMOVDQU (DX), Y8
	VMOVDQU 32(DX), Y9
	VMOVDQU 64(DX), Y10
	VMOVDQU 96(DX), Y11
	Q2ROW((SI), Y0, Y1, Y2, Y3)
	Q2ROW((SI)(R9*1), Y4, Y5, Y6, Y7)
	ADDQ $128, DX
	ADDQ $4, SI
	DECQ CX
	JNZ  q2loop

q2done:
	MOVQ wscale+32(FP), AX
	MOVQ ascale+40(FP), R10
	MOVQ bias+48(FP), BX
	MOVQ c+56(FP), DI
	MOVQ ldc+64(FP), R8
	SHLQ $2, R8
	VBROADCASTSS (R10), Y15
	Q2OUT(Y0, 0, Y15)
	Q2OUT(Y1, 32, Y15)
	Q2OUT(Y2, 64, Y15)
	Q2OUT(Y3, 96, Y15)
	ADDQ R8, DI
	VBROADCASTSS 4(R10), Y15
	Q2OUT(Y4, 0, Y15)
	Q2OUT(Y5, 32, Y15)
	Q2OUT(Y6, 64, Y15)
	Q2OUT(Y7, 96, Y15)
	VZEROUPPER
	RET
