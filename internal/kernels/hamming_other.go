//go:build purego || !amd64

package kernels

func hammingFast(dst []uint32, codes, q []uint64) { hammingGeneric(dst, codes, q) }
