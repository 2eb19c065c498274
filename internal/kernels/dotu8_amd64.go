//go:build !purego

package kernels

import "golang.org/x/sys/cpu"

// dotU8I8VNNI is Σ a[i]·b[i] over n bytes, n a positive multiple of 64.
//
//go:noescape
func dotU8I8VNNI(a *uint8, b *int8, n int) int32

// dotU8I8AVX2 is Σ a[i]·b[i] over n bytes, n a positive multiple of 32.
//
//go:noescape
func dotU8I8AVX2(a *uint8, b *int8, n int) int32

var (
	hasDotVNNI  = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VNNI
	dotU8I8Name = func() string {
		switch {
		case hasDotVNNI:
			return "avx512vnni"
		case hasAVX2:
			return "avx2"
		}
		return "generic"
	}()
)

func dotU8I8Fast(a []uint8, b []int8) int32 {
	n := len(a)
	switch {
	case n == 0:
		return 0
	case hasDotVNNI && n%64 == 0:
		return dotU8I8VNNI(&a[0], &b[0], n)
	case hasAVX2 && n%32 == 0:
		return dotU8I8AVX2(&a[0], &b[0], n)
	}
	return dotU8I8Generic(a, b)
}
