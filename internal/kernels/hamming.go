package kernels

import (
	"fmt"
	"math/bits"
)

// Hamming sets dst[s] to the number of bits in which code s of codes
// differs from q, for s < len(dst). Each code is len(q) words, stored one
// after another. It is the scan of a binary-code index: on amd64 an
// assembly loop using POPCNT (checked once at start-up), because Go's
// math/bits.OnesCount64 checks for the instruction on every call unless the
// binary is built for GOAMD64=v2 or later.
func Hamming(dst []uint32, codes, q []uint64) {
	if len(codes) < len(dst)*len(q) {
		panic(fmt.Sprintf("kernels: Hamming: %d words for %d codes of %d words", len(codes), len(dst), len(q)))
	}
	hammingFast(dst, codes, q)
}

func hammingGeneric(dst []uint32, codes, q []uint64) {
	w := len(q)
	for s := range dst {
		c := codes[s*w : s*w+w : s*w+w]
		h := 0
		for j, x := range c {
			h += bits.OnesCount64(x ^ q[j])
		}
		dst[s] = uint32(h)
	}
}
