//go:build !purego

#include "textflag.h"

// func prefetch2(p *byte)
// Hints the first two cache lines at p into all cache levels (PREFETCHT0).
TEXT ·prefetch2(SB), NOSPLIT, $0-8
	MOVQ p+0(FP), AX
	PREFETCHT0 (AX)
	PREFETCHT0 64(AX)
	RET
