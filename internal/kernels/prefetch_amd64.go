//go:build !purego

package kernels

import "unsafe"

//go:noescape
func prefetch2(p *byte)

// Prefetch hints that the memory at p (its first 128 bytes) will be read
// soon, so a graph search can overlap the cache misses of a node's
// neighbours with distance computations. It never faults and has no other
// effect; on other architectures it does nothing.
func Prefetch(p unsafe.Pointer) { prefetch2((*byte)(p)) }
