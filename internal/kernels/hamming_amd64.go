//go:build !purego

package kernels

import "golang.org/x/sys/cpu"

//go:noescape
func hammingPOPCNT(dst *uint32, codes, q *uint64, words, n int)

var hasPOPCNT = cpu.X86.HasPOPCNT

func hammingFast(dst []uint32, codes, q []uint64) {
	if hasPOPCNT && len(dst) > 0 && len(q) > 0 {
		hammingPOPCNT(&dst[0], &codes[0], &q[0], len(q), len(dst))
		return
	}
	hammingGeneric(dst, codes, q)
}
