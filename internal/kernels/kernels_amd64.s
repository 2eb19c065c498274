//go:build !purego

// Hand-written AVX2/FMA kernels; see kernels_amd64.go for the Go side and
// generic.go for the reference each routine is tested against.

#include "textflag.h"

DATA expHi<>+0(SB)/4, $0x42b00000
DATA expHi<>+4(SB)/4, $0x42b00000
DATA expHi<>+8(SB)/4, $0x42b00000
DATA expHi<>+12(SB)/4, $0x42b00000
DATA expHi<>+16(SB)/4, $0x42b00000
DATA expHi<>+20(SB)/4, $0x42b00000
DATA expHi<>+24(SB)/4, $0x42b00000
DATA expHi<>+28(SB)/4, $0x42b00000
GLOBL expHi<>(SB), RODATA|NOPTR, $32

DATA expLo<>+0(SB)/4, $0xc2b0c0a5
DATA expLo<>+4(SB)/4, $0xc2b0c0a5
DATA expLo<>+8(SB)/4, $0xc2b0c0a5
DATA expLo<>+12(SB)/4, $0xc2b0c0a5
DATA expLo<>+16(SB)/4, $0xc2b0c0a5
DATA expLo<>+20(SB)/4, $0xc2b0c0a5
DATA expLo<>+24(SB)/4, $0xc2b0c0a5
DATA expLo<>+28(SB)/4, $0xc2b0c0a5
GLOBL expLo<>(SB), RODATA|NOPTR, $32

DATA log2e<>+0(SB)/4, $0x3fb8aa3b
DATA log2e<>+4(SB)/4, $0x3fb8aa3b
DATA log2e<>+8(SB)/4, $0x3fb8aa3b
DATA log2e<>+12(SB)/4, $0x3fb8aa3b
DATA log2e<>+16(SB)/4, $0x3fb8aa3b
DATA log2e<>+20(SB)/4, $0x3fb8aa3b
DATA log2e<>+24(SB)/4, $0x3fb8aa3b
DATA log2e<>+28(SB)/4, $0x3fb8aa3b
GLOBL log2e<>(SB), RODATA|NOPTR, $32

DATA half<>+0(SB)/4, $0x3f000000
DATA half<>+4(SB)/4, $0x3f000000
DATA half<>+8(SB)/4, $0x3f000000
DATA half<>+12(SB)/4, $0x3f000000
DATA half<>+16(SB)/4, $0x3f000000
DATA half<>+20(SB)/4, $0x3f000000
DATA half<>+24(SB)/4, $0x3f000000
DATA half<>+28(SB)/4, $0x3f000000
GLOBL half<>(SB), RODATA|NOPTR, $32

DATA one<>+0(SB)/4, $0x3f800000
DATA one<>+4(SB)/4, $0x3f800000
DATA one<>+8(SB)/4, $0x3f800000
DATA one<>+12(SB)/4, $0x3f800000
DATA one<>+16(SB)/4, $0x3f800000
DATA one<>+20(SB)/4, $0x3f800000
DATA one<>+24(SB)/4, $0x3f800000
DATA one<>+28(SB)/4, $0x3f800000
GLOBL one<>(SB), RODATA|NOPTR, $32

DATA expC1<>+0(SB)/4, $0x3f318000
DATA expC1<>+4(SB)/4, $0x3f318000
DATA expC1<>+8(SB)/4, $0x3f318000
DATA expC1<>+12(SB)/4, $0x3f318000
DATA expC1<>+16(SB)/4, $0x3f318000
DATA expC1<>+20(SB)/4, $0x3f318000
DATA expC1<>+24(SB)/4, $0x3f318000
DATA expC1<>+28(SB)/4, $0x3f318000
GLOBL expC1<>(SB), RODATA|NOPTR, $32

DATA expC2<>+0(SB)/4, $0xb95e8083
DATA expC2<>+4(SB)/4, $0xb95e8083
DATA expC2<>+8(SB)/4, $0xb95e8083
DATA expC2<>+12(SB)/4, $0xb95e8083
DATA expC2<>+16(SB)/4, $0xb95e8083
DATA expC2<>+20(SB)/4, $0xb95e8083
DATA expC2<>+24(SB)/4, $0xb95e8083
DATA expC2<>+28(SB)/4, $0xb95e8083
GLOBL expC2<>(SB), RODATA|NOPTR, $32

DATA expP0<>+0(SB)/4, $0x39506967
DATA expP0<>+4(SB)/4, $0x39506967
DATA expP0<>+8(SB)/4, $0x39506967
DATA expP0<>+12(SB)/4, $0x39506967
DATA expP0<>+16(SB)/4, $0x39506967
DATA expP0<>+20(SB)/4, $0x39506967
DATA expP0<>+24(SB)/4, $0x39506967
DATA expP0<>+28(SB)/4, $0x39506967
GLOBL expP0<>(SB), RODATA|NOPTR, $32

DATA expP1<>+0(SB)/4, $0x3ab743ce
DATA expP1<>+4(SB)/4, $0x3ab743ce
DATA expP1<>+8(SB)/4, $0x3ab743ce
DATA expP1<>+12(SB)/4, $0x3ab743ce
DATA expP1<>+16(SB)/4, $0x3ab743ce
DATA expP1<>+20(SB)/4, $0x3ab743ce
DATA expP1<>+24(SB)/4, $0x3ab743ce
DATA expP1<>+28(SB)/4, $0x3ab743ce
GLOBL expP1<>(SB), RODATA|NOPTR, $32

DATA expP2<>+0(SB)/4, $0x3c088908
DATA expP2<>+4(SB)/4, $0x3c088908
DATA expP2<>+8(SB)/4, $0x3c088908
DATA expP2<>+12(SB)/4, $0x3c088908
DATA expP2<>+16(SB)/4, $0x3c088908
DATA expP2<>+20(SB)/4, $0x3c088908
DATA expP2<>+24(SB)/4, $0x3c088908
DATA expP2<>+28(SB)/4, $0x3c088908
GLOBL expP2<>(SB), RODATA|NOPTR, $32

DATA expP3<>+0(SB)/4, $0x3d2aa9c1
DATA expP3<>+4(SB)/4, $0x3d2aa9c1
DATA expP3<>+8(SB)/4, $0x3d2aa9c1
DATA expP3<>+12(SB)/4, $0x3d2aa9c1
DATA expP3<>+16(SB)/4, $0x3d2aa9c1
DATA expP3<>+20(SB)/4, $0x3d2aa9c1
DATA expP3<>+24(SB)/4, $0x3d2aa9c1
DATA expP3<>+28(SB)/4, $0x3d2aa9c1
GLOBL expP3<>(SB), RODATA|NOPTR, $32

DATA expP4<>+0(SB)/4, $0x3e2aaaaa
DATA expP4<>+4(SB)/4, $0x3e2aaaaa
DATA expP4<>+8(SB)/4, $0x3e2aaaaa
DATA expP4<>+12(SB)/4, $0x3e2aaaaa
DATA expP4<>+16(SB)/4, $0x3e2aaaaa
DATA expP4<>+20(SB)/4, $0x3e2aaaaa
DATA expP4<>+24(SB)/4, $0x3e2aaaaa
DATA expP4<>+28(SB)/4, $0x3e2aaaaa
GLOBL expP4<>(SB), RODATA|NOPTR, $32

DATA expP5<>+0(SB)/4, $0x3f000000
DATA expP5<>+4(SB)/4, $0x3f000000
DATA expP5<>+8(SB)/4, $0x3f000000
DATA expP5<>+12(SB)/4, $0x3f000000
DATA expP5<>+16(SB)/4, $0x3f000000
DATA expP5<>+20(SB)/4, $0x3f000000
DATA expP5<>+24(SB)/4, $0x3f000000
DATA expP5<>+28(SB)/4, $0x3f000000
GLOBL expP5<>(SB), RODATA|NOPTR, $32

DATA invSqrt2<>+0(SB)/4, $0x3f3504f3
DATA invSqrt2<>+4(SB)/4, $0x3f3504f3
DATA invSqrt2<>+8(SB)/4, $0x3f3504f3
DATA invSqrt2<>+12(SB)/4, $0x3f3504f3
DATA invSqrt2<>+16(SB)/4, $0x3f3504f3
DATA invSqrt2<>+20(SB)/4, $0x3f3504f3
DATA invSqrt2<>+24(SB)/4, $0x3f3504f3
DATA invSqrt2<>+28(SB)/4, $0x3f3504f3
GLOBL invSqrt2<>(SB), RODATA|NOPTR, $32

DATA four<>+0(SB)/4, $0x40800000
DATA four<>+4(SB)/4, $0x40800000
DATA four<>+8(SB)/4, $0x40800000
DATA four<>+12(SB)/4, $0x40800000
DATA four<>+16(SB)/4, $0x40800000
DATA four<>+20(SB)/4, $0x40800000
DATA four<>+24(SB)/4, $0x40800000
DATA four<>+28(SB)/4, $0x40800000
GLOBL four<>(SB), RODATA|NOPTR, $32

DATA mfour<>+0(SB)/4, $0xc0800000
DATA mfour<>+4(SB)/4, $0xc0800000
DATA mfour<>+8(SB)/4, $0xc0800000
DATA mfour<>+12(SB)/4, $0xc0800000
DATA mfour<>+16(SB)/4, $0xc0800000
DATA mfour<>+20(SB)/4, $0xc0800000
DATA mfour<>+24(SB)/4, $0xc0800000
DATA mfour<>+28(SB)/4, $0xc0800000
GLOBL mfour<>(SB), RODATA|NOPTR, $32

DATA erfA1<>+0(SB)/4, $0xbc83dbd4
DATA erfA1<>+4(SB)/4, $0xbc83dbd4
DATA erfA1<>+8(SB)/4, $0xbc83dbd4
DATA erfA1<>+12(SB)/4, $0xbc83dbd4
DATA erfA1<>+16(SB)/4, $0xbc83dbd4
DATA erfA1<>+20(SB)/4, $0xbc83dbd4
DATA erfA1<>+24(SB)/4, $0xbc83dbd4
DATA erfA1<>+28(SB)/4, $0xbc83dbd4
GLOBL erfA1<>(SB), RODATA|NOPTR, $32

DATA erfA3<>+0(SB)/4, $0xbb41a1f6
DATA erfA3<>+4(SB)/4, $0xbb41a1f6
DATA erfA3<>+8(SB)/4, $0xbb41a1f6
DATA erfA3<>+12(SB)/4, $0xbb41a1f6
DATA erfA3<>+16(SB)/4, $0xbb41a1f6
DATA erfA3<>+20(SB)/4, $0xbb41a1f6
DATA erfA3<>+24(SB)/4, $0xbb41a1f6
DATA erfA3<>+28(SB)/4, $0xbb41a1f6
GLOBL erfA3<>(SB), RODATA|NOPTR, $32

DATA erfA5<>+0(SB)/4, $0xba40ac63
DATA erfA5<>+4(SB)/4, $0xba40ac63
DATA erfA5<>+8(SB)/4, $0xba40ac63
DATA erfA5<>+12(SB)/4, $0xba40ac63
DATA erfA5<>+16(SB)/4, $0xba40ac63
DATA erfA5<>+20(SB)/4, $0xba40ac63
DATA erfA5<>+24(SB)/4, $0xba40ac63
DATA erfA5<>+28(SB)/4, $0xba40ac63
GLOBL erfA5<>(SB), RODATA|NOPTR, $32

DATA erfA7<>+0(SB)/4, $0xb86ec2d2
DATA erfA7<>+4(SB)/4, $0xb86ec2d2
DATA erfA7<>+8(SB)/4, $0xb86ec2d2
DATA erfA7<>+12(SB)/4, $0xb86ec2d2
DATA erfA7<>+16(SB)/4, $0xb86ec2d2
DATA erfA7<>+20(SB)/4, $0xb86ec2d2
DATA erfA7<>+24(SB)/4, $0xb86ec2d2
DATA erfA7<>+28(SB)/4, $0xb86ec2d2
GLOBL erfA7<>(SB), RODATA|NOPTR, $32

DATA erfA9<>+0(SB)/4, $0xb60cff51
DATA erfA9<>+4(SB)/4, $0xb60cff51
DATA erfA9<>+8(SB)/4, $0xb60cff51
DATA erfA9<>+12(SB)/4, $0xb60cff51
DATA erfA9<>+16(SB)/4, $0xb60cff51
DATA erfA9<>+20(SB)/4, $0xb60cff51
DATA erfA9<>+24(SB)/4, $0xb60cff51
DATA erfA9<>+28(SB)/4, $0xb60cff51
GLOBL erfA9<>(SB), RODATA|NOPTR, $32

DATA erfA11<>+0(SB)/4, $0x32edffee
DATA erfA11<>+4(SB)/4, $0x32edffee
DATA erfA11<>+8(SB)/4, $0x32edffee
DATA erfA11<>+12(SB)/4, $0x32edffee
DATA erfA11<>+16(SB)/4, $0x32edffee
DATA erfA11<>+20(SB)/4, $0x32edffee
DATA erfA11<>+24(SB)/4, $0x32edffee
DATA erfA11<>+28(SB)/4, $0x32edffee
GLOBL erfA11<>(SB), RODATA|NOPTR, $32

DATA erfA13<>+0(SB)/4, $0xaf95df0b
DATA erfA13<>+4(SB)/4, $0xaf95df0b
DATA erfA13<>+8(SB)/4, $0xaf95df0b
DATA erfA13<>+12(SB)/4, $0xaf95df0b
DATA erfA13<>+16(SB)/4, $0xaf95df0b
DATA erfA13<>+20(SB)/4, $0xaf95df0b
DATA erfA13<>+24(SB)/4, $0xaf95df0b
DATA erfA13<>+28(SB)/4, $0xaf95df0b
GLOBL erfA13<>(SB), RODATA|NOPTR, $32

DATA erfB0<>+0(SB)/4, $0xbc69b6a7
DATA erfB0<>+4(SB)/4, $0xbc69b6a7
DATA erfB0<>+8(SB)/4, $0xbc69b6a7
DATA erfB0<>+12(SB)/4, $0xbc69b6a7
DATA erfB0<>+16(SB)/4, $0xbc69b6a7
DATA erfB0<>+20(SB)/4, $0xbc69b6a7
DATA erfB0<>+24(SB)/4, $0xbc69b6a7
DATA erfB0<>+28(SB)/4, $0xbc69b6a7
GLOBL erfB0<>(SB), RODATA|NOPTR, $32

DATA erfB2<>+0(SB)/4, $0xbbf19bf8
DATA erfB2<>+4(SB)/4, $0xbbf19bf8
DATA erfB2<>+8(SB)/4, $0xbbf19bf8
DATA erfB2<>+12(SB)/4, $0xbbf19bf8
DATA erfB2<>+16(SB)/4, $0xbbf19bf8
DATA erfB2<>+20(SB)/4, $0xbbf19bf8
DATA erfB2<>+24(SB)/4, $0xbbf19bf8
DATA erfB2<>+28(SB)/4, $0xbbf19bf8
GLOBL erfB2<>(SB), RODATA|NOPTR, $32

DATA erfB4<>+0(SB)/4, $0xbadc924e
DATA erfB4<>+4(SB)/4, $0xbadc924e
DATA erfB4<>+8(SB)/4, $0xbadc924e
DATA erfB4<>+12(SB)/4, $0xbadc924e
DATA erfB4<>+16(SB)/4, $0xbadc924e
DATA erfB4<>+20(SB)/4, $0xbadc924e
DATA erfB4<>+24(SB)/4, $0xbadc924e
DATA erfB4<>+28(SB)/4, $0xbadc924e
GLOBL erfB4<>(SB), RODATA|NOPTR, $32

DATA erfB6<>+0(SB)/4, $0xb95fbd29
DATA erfB6<>+4(SB)/4, $0xb95fbd29
DATA erfB6<>+8(SB)/4, $0xb95fbd29
DATA erfB6<>+12(SB)/4, $0xb95fbd29
DATA erfB6<>+16(SB)/4, $0xb95fbd29
DATA erfB6<>+20(SB)/4, $0xb95fbd29
DATA erfB6<>+24(SB)/4, $0xb95fbd29
DATA erfB6<>+28(SB)/4, $0xb95fbd29
GLOBL erfB6<>(SB), RODATA|NOPTR, $32

DATA erfB8<>+0(SB)/4, $0xb77460cd
DATA erfB8<>+4(SB)/4, $0xb77460cd
DATA erfB8<>+8(SB)/4, $0xb77460cd
DATA erfB8<>+12(SB)/4, $0xb77460cd
DATA erfB8<>+16(SB)/4, $0xb77460cd
DATA erfB8<>+20(SB)/4, $0xb77460cd
DATA erfB8<>+24(SB)/4, $0xb77460cd
DATA erfB8<>+28(SB)/4, $0xb77460cd
GLOBL erfB8<>(SB), RODATA|NOPTR, $32

DATA bias127<>+0(SB)/4, $0x0000007f
DATA bias127<>+4(SB)/4, $0x0000007f
DATA bias127<>+8(SB)/4, $0x0000007f
DATA bias127<>+12(SB)/4, $0x0000007f
DATA bias127<>+16(SB)/4, $0x0000007f
DATA bias127<>+20(SB)/4, $0x0000007f
DATA bias127<>+24(SB)/4, $0x0000007f
DATA bias127<>+28(SB)/4, $0x0000007f
GLOBL bias127<>(SB), RODATA|NOPTR, $32

// func dotAVX2(a, b *float32, n int) float32
TEXT ·dotAVX2(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
dot32:
	CMPQ CX, $32
	JL   dot8
	VMOVUPS (SI), Y4
	VMOVUPS 32(SI), Y5
	VMOVUPS 64(SI), Y6
	VMOVUPS 96(SI), Y7
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	VFMADD231PS 64(DI), Y6, Y2
	VFMADD231PS 96(DI), Y7, Y3
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $32, CX
	JMP  dot32
dot8:
	CMPQ CX, $8
	JL   dotred
	VMOVUPS (SI), Y4
	VFMADD231PS (DI), Y4, Y0
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  dot8
dotred:
	VADDPS Y1, Y0, Y0
	VADDPS Y3, Y2, Y2
	VADDPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
dottail:
	TESTQ CX, CX
	JZ    dotdone
	VMOVSS (SI), X4
	VFMADD231SS (DI), X4, X0
	ADDQ $4, SI
	ADDQ $4, DI
	DECQ CX
	JMP  dottail
dotdone:
	VMOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func axpyAVX2(alpha float32, x, y *float32, n int)
TEXT ·axpyAVX2(SB), NOSPLIT, $0-32
	VBROADCASTSS alpha+0(FP), Y15
	MOVQ x+8(FP), SI
	MOVQ y+16(FP), DI
	MOVQ n+24(FP), CX
axpy32:
	CMPQ CX, $32
	JL   axpy8
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VFMADD213PS (DI), Y15, Y0
	VFMADD213PS 32(DI), Y15, Y1
	VFMADD213PS 64(DI), Y15, Y2
	VFMADD213PS 96(DI), Y15, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $32, CX
	JMP  axpy32
axpy8:
	CMPQ CX, $8
	JL   axpytail
	VMOVUPS (SI), Y0
	VFMADD213PS (DI), Y15, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  axpy8
axpytail:
	TESTQ CX, CX
	JZ    axpydone
	VMOVSS (SI), X0
	VFMADD213SS (DI), X15, X0
	VMOVSS X0, (DI)
	ADDQ $4, SI
	ADDQ $4, DI
	DECQ CX
	JMP  axpytail
axpydone:
	VZEROUPPER
	RET

// func addAVX2(dst, x *float32, n int)
TEXT ·addAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
add32:
	CMPQ CX, $32
	JL   add8
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS 64(DI), Y2
	VMOVUPS 96(DI), Y3
	VADDPS (SI), Y0, Y0
	VADDPS 32(SI), Y1, Y1
	VADDPS 64(SI), Y2, Y2
	VADDPS 96(SI), Y3, Y3
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ $128, SI
	ADDQ $128, DI
	SUBQ $32, CX
	JMP  add32
add8:
	CMPQ CX, $8
	JL   addtail
	VMOVUPS (DI), Y0
	VADDPS (SI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  add8
addtail:
	TESTQ CX, CX
	JZ    adddone
	VMOVSS (DI), X0
	VADDSS (SI), X0, X0
	VMOVSS X0, (DI)
	ADDQ $4, SI
	ADDQ $4, DI
	DECQ CX
	JMP  addtail
adddone:
	VZEROUPPER
	RET

// func scaleAVX2(x *float32, n int, s float32)
TEXT ·scaleAVX2(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	VBROADCASTSS s+16(FP), Y15
scale8:
	CMPQ CX, $8
	JL   scaletail
	VMULPS (DI), Y15, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  scale8
scaletail:
	TESTQ CX, CX
	JZ    scaledone
	VMULSS (DI), X15, X0
	VMOVSS X0, (DI)
	ADDQ $4, DI
	DECQ CX
	JMP  scaletail
scaledone:
	VZEROUPPER
	RET

// func sumAVX2(x *float32, n int) float32
TEXT ·sumAVX2(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
sum16:
	CMPQ CX, $16
	JL   sum8
	VADDPS (SI), Y0, Y0
	VADDPS 32(SI), Y1, Y1
	ADDQ $64, SI
	SUBQ $16, CX
	JMP  sum16
sum8:
	CMPQ CX, $8
	JL   sumred
	VADDPS (SI), Y0, Y0
	ADDQ $32, SI
	SUBQ $8, CX
sumred:
	VADDPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
sumtail:
	TESTQ CX, CX
	JZ    sumdone
	VADDSS (SI), X0, X0
	ADDQ $4, SI
	DECQ CX
	JMP  sumtail
sumdone:
	VMOVSS X0, ret+16(FP)
	VZEROUPPER
	RET

// func sumSqDevAVX2(x *float32, n int, mean float32) float32
TEXT ·sumSqDevAVX2(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS mean+16(FP), Y15
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
ssd16:
	CMPQ CX, $16
	JL   ssd8
	VMOVUPS (SI), Y2
	VMOVUPS 32(SI), Y3
	VSUBPS Y15, Y2, Y2
	VSUBPS Y15, Y3, Y3
	VFMADD231PS Y2, Y2, Y0
	VFMADD231PS Y3, Y3, Y1
	ADDQ $64, SI
	SUBQ $16, CX
	JMP  ssd16
ssd8:
	CMPQ CX, $8
	JL   ssdred
	VMOVUPS (SI), Y2
	VSUBPS Y15, Y2, Y2
	VFMADD231PS Y2, Y2, Y0
	ADDQ $32, SI
	SUBQ $8, CX
ssdred:
	VADDPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
ssdtail:
	TESTQ CX, CX
	JZ    ssddone
	VMOVSS (SI), X2
	VSUBSS X15, X2, X2
	VFMADD231SS X2, X2, X0
	ADDQ $4, SI
	DECQ CX
	JMP  ssdtail
ssddone:
	VMOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func normAffineAVX2(x, gamma, beta *float32, n int, mean, inv float32)
TEXT ·normAffineAVX2(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), DI
	MOVQ gamma+8(FP), SI
	MOVQ beta+16(FP), DX
	MOVQ n+24(FP), CX
	VBROADCASTSS mean+32(FP), Y14
	VBROADCASTSS inv+36(FP), Y15
na8:
	CMPQ CX, $8
	JL   natail
	VMOVUPS (DI), Y0
	VSUBPS Y14, Y0, Y0
	VMULPS Y15, Y0, Y0
	VMOVUPS (SI), Y1
	VFMADD213PS (DX), Y1, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, DX
	SUBQ $8, CX
	JMP  na8
natail:
	TESTQ CX, CX
	JZ    nadone
	VMOVSS (DI), X0
	VSUBSS X14, X0, X0
	VMULSS X15, X0, X0
	VMOVSS (SI), X1
	VFMADD213SS (DX), X1, X0
	VMOVSS X0, (DI)
	ADDQ $4, DI
	ADDQ $4, SI
	ADDQ $4, DX
	DECQ CX
	JMP  natail
nadone:
	VZEROUPPER
	RET

// func maxAVX2(x *float32, n int) float32
TEXT ·maxAVX2(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS (SI), Y0
max8:
	CMPQ CX, $8
	JL   maxred
	VMAXPS (SI), Y0, Y0
	ADDQ $32, SI
	SUBQ $8, CX
	JMP  max8
maxred:
	VEXTRACTF128 $1, Y0, X1
	VMAXPS X1, X0, X0
	VPERMILPS $0x4e, X0, X1
	VMAXPS X1, X0, X0
	VPERMILPS $0xb1, X0, X1
	VMAXPS X1, X0, X0
maxtail:
	TESTQ CX, CX
	JZ    maxdone
	VMAXSS (SI), X0, X0
	ADDQ $4, SI
	DECQ CX
	JMP  maxtail
maxdone:
	VMOVSS X0, ret+16(FP)
	VZEROUPPER
	RET

// EXP8 replaces Y0 by exp(Y0), lanewise (Cephes expf: clamp, n =
// floor(x·log2e+½), r = x - n·ln2 in two parts, degree-5 polynomial, scale
// by 2ⁿ). Clobbers Y1-Y3.
#define EXP8 \
	VMINPS expHi<>(SB), Y0, Y0 \
	VMAXPS expLo<>(SB), Y0, Y0 \
	VMOVUPS log2e<>(SB), Y1 \
	VFMADD213PS half<>(SB), Y0, Y1 \
	VROUNDPS $1, Y1, Y1 \
	VFNMADD231PS expC1<>(SB), Y1, Y0 \
	VFNMADD231PS expC2<>(SB), Y1, Y0 \
	VMOVUPS expP0<>(SB), Y2 \
	VFMADD213PS expP1<>(SB), Y0, Y2 \
	VFMADD213PS expP2<>(SB), Y0, Y2 \
	VFMADD213PS expP3<>(SB), Y0, Y2 \
	VFMADD213PS expP4<>(SB), Y0, Y2 \
	VFMADD213PS expP5<>(SB), Y0, Y2 \
	VMULPS Y0, Y0, Y3 \
	VFMADD213PS Y0, Y3, Y2 \
	VADDPS one<>(SB), Y2, Y2 \
	VCVTPS2DQ Y1, Y1 \
	VPADDD bias127<>(SB), Y1, Y1 \
	VPSLLD $23, Y1, Y1 \
	VMULPS Y1, Y2, Y0

// func expSubSumAVX2(x *float32, n int, m float32) float32
TEXT ·expSubSumAVX2(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
	VBROADCASTSS m+16(FP), Y15
	VXORPS Y14, Y14, Y14
ess8:
	CMPQ CX, $8
	JL   essdone
	VMOVUPS (DI), Y0
	VSUBPS Y15, Y0, Y0
	EXP8
	VMOVUPS Y0, (DI)
	VADDPS Y0, Y14, Y14
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  ess8
essdone:
	VEXTRACTF128 $1, Y14, X1
	VADDPS X1, X14, X0
	VHADDPS X0, X0, X0
	VHADDPS X0, X0, X0
	VMOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func geluAVX2(x *float32, n int)
TEXT ·geluAVX2(SB), NOSPLIT, $0-16
	MOVQ x+0(FP), DI
	MOVQ n+8(FP), CX
gelu8:
	CMPQ CX, $8
	JL   geludone
	VMOVUPS (DI), Y0
	VMULPS invSqrt2<>(SB), Y0, Y1
	VMINPS four<>(SB), Y1, Y1
	VMAXPS mfour<>(SB), Y1, Y1
	VMULPS Y1, Y1, Y2
	VMOVUPS erfA13<>(SB), Y3
	VFMADD213PS erfA11<>(SB), Y2, Y3
	VFMADD213PS erfA9<>(SB), Y2, Y3
	VFMADD213PS erfA7<>(SB), Y2, Y3
	VFMADD213PS erfA5<>(SB), Y2, Y3
	VFMADD213PS erfA3<>(SB), Y2, Y3
	VFMADD213PS erfA1<>(SB), Y2, Y3
	VMULPS Y1, Y3, Y3
	VMOVUPS erfB8<>(SB), Y4
	VFMADD213PS erfB6<>(SB), Y2, Y4
	VFMADD213PS erfB4<>(SB), Y2, Y4
	VFMADD213PS erfB2<>(SB), Y2, Y4
	VFMADD213PS erfB0<>(SB), Y2, Y4
	VDIVPS Y4, Y3, Y3
	VADDPS one<>(SB), Y3, Y3
	VMULPS half<>(SB), Y0, Y0
	VMULPS Y3, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  gelu8
geludone:
	VZEROUPPER
	RET

// func gemm6x16AVX2(k int, a *float32, lda int, b *float32, c *float32, ldc int, accum bool)
//
// C[6×16] (+)= A[6×k] · Bpanel[k×16]. A rows are lda floats apart, the panel
// holds 16 floats per k, C rows are ldc floats apart. Accumulators: Y0-Y11
// (row r in Y(2r), Y(2r+1)); Y12-Y13 the panel row; Y14-Y15 broadcasts.
TEXT ·gemm6x16AVX2(SB), NOSPLIT, $0-49
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), DX
	SHLQ $2, DX
	MOVQ b+24(FP), DI
	MOVQ c+32(FP), R8
	MOVQ ldc+40(FP), R9
	SHLQ $2, R9
	LEAQ (SI)(DX*2), R11
	ADDQ DX, R11
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	TESTQ CX, CX
	JZ    gstore

#define GSTEP(off, boff) \
	VMOVUPS boff(DI), Y12 \
	VMOVUPS boff+32(DI), Y13 \
	VBROADCASTSS off(SI), Y14 \
	VFMADD231PS Y12, Y14, Y0 \
	VFMADD231PS Y13, Y14, Y1 \
	VBROADCASTSS off(SI)(DX*1), Y15 \
	VFMADD231PS Y12, Y15, Y2 \
	VFMADD231PS Y13, Y15, Y3 \
	VBROADCASTSS off(SI)(DX*2), Y14 \
	VFMADD231PS Y12, Y14, Y4 \
	VFMADD231PS Y13, Y14, Y5 \
	VBROADCASTSS off(R11), Y15 \
	VFMADD231PS Y12, Y15, Y6 \
	VFMADD231PS Y13, Y15, Y7 \
	VBROADCASTSS off(R11)(DX*1), Y14 \
	VFMADD231PS Y12, Y14, Y8 \
	VFMADD231PS Y13, Y14, Y9 \
	VBROADCASTSS off(R11)(DX*2), Y15 \
	VFMADD231PS Y12, Y15, Y10 \
	VFMADD231PS Y13, Y15, Y11

gloop4:
	CMPQ CX, $4
	JL   gloop1
	GSTEP(0, 0)
	GSTEP(4, 64)
	GSTEP(8, 128)
	GSTEP(12, 192)
	ADDQ $16, SI
	ADDQ $16, R11
	ADDQ $256, DI
	SUBQ $4, CX
	JMP  gloop4
gloop1:
	TESTQ CX, CX
	JZ    gstore
	GSTEP(0, 0)
	ADDQ $4, SI
	ADDQ $4, R11
	ADDQ $64, DI
	DECQ CX
	JMP  gloop1

gstore:
	MOVBQZX accum+48(FP), AX
	TESTQ AX, AX
	JZ    gput
	VADDPS (R8), Y0, Y0
	VADDPS 32(R8), Y1, Y1
	VMOVUPS Y0, (R8)
	VMOVUPS Y1, 32(R8)
	ADDQ R9, R8
	VADDPS (R8), Y2, Y2
	VADDPS 32(R8), Y3, Y3
	VMOVUPS Y2, (R8)
	VMOVUPS Y3, 32(R8)
	ADDQ R9, R8
	VADDPS (R8), Y4, Y4
	VADDPS 32(R8), Y5, Y5
	VMOVUPS Y4, (R8)
	VMOVUPS Y5, 32(R8)
	ADDQ R9, R8
	VADDPS (R8), Y6, Y6
	VADDPS 32(R8), Y7, Y7
	VMOVUPS Y6, (R8)
	VMOVUPS Y7, 32(R8)
	ADDQ R9, R8
	VADDPS (R8), Y8, Y8
	VADDPS 32(R8), Y9, Y9
	VMOVUPS Y8, (R8)
	VMOVUPS Y9, 32(R8)
	ADDQ R9, R8
	VADDPS (R8), Y10, Y10
	VADDPS 32(R8), Y11, Y11
	VMOVUPS Y10, (R8)
	VMOVUPS Y11, 32(R8)
	VZEROUPPER
	RET
gput:
	VMOVUPS Y0, (R8)
	VMOVUPS Y1, 32(R8)
	ADDQ R9, R8
	VMOVUPS Y2, (R8)
	VMOVUPS Y3, 32(R8)
	ADDQ R9, R8
	VMOVUPS Y4, (R8)
	VMOVUPS Y5, 32(R8)
	ADDQ R9, R8
	VMOVUPS Y6, (R8)
	VMOVUPS Y7, 32(R8)
	ADDQ R9, R8
	VMOVUPS Y8, (R8)
	VMOVUPS Y9, 32(R8)
	ADDQ R9, R8
	VMOVUPS Y10, (R8)
	VMOVUPS Y11, 32(R8)
	VZEROUPPER
	RET
