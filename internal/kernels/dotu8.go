package kernels

// DotU8I8 returns Σ int32(a[i])·int32(b[i]): unsigned 8-bit codes times a
// signed 8-bit query, the integer inner product a scalar-quantized graph
// walk scores (one VPDPBUSD lane: 4 bytes of a times 4 bytes of b). b must
// be at least as long as a (else it panics). With AVX-512 VNNI, and a
// length that is a multiple of 64, it is one VPDPBUSD per 64 bytes; with
// AVX2, a multiple of 32, VPMADDWD on widened bytes; otherwise, and under
// the purego tag, the generic loop. The result is exact either way.
func DotU8I8(a []uint8, b []int8) int32 {
	if len(b) < len(a) {
		panic("kernels: DotU8I8: query shorter than the code")
	}
	return dotU8I8Fast(a, b)
}

// DotU8I8Kernel names the implementation DotU8I8 uses for a length that is
// a multiple of 64: "avx512vnni", "avx2" or "generic".
func DotU8I8Kernel() string { return dotU8I8Name }

func dotU8I8Generic(a []uint8, b []int8) int32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 int32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += int32(a[i]) * int32(b[i])
		s1 += int32(a[i+1]) * int32(b[i+1])
		s2 += int32(a[i+2]) * int32(b[i+2])
		s3 += int32(a[i+3]) * int32(b[i+3])
	}
	for ; i < len(a); i++ {
		s0 += int32(a[i]) * int32(b[i])
	}
	return (s0 + s1) + (s2 + s3)
}
