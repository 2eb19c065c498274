package kernels

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugePage is the size of a transparent huge page on x86-64 (and arm64
// with 4 KiB base pages).
const hugePage = 2 << 20

// hugeFloats returns a zeroed slice of n float32 that starts on a 2 MiB
// boundary and is advised (MADV_HUGEPAGE) to be backed by transparent huge
// pages, where the system allows it (THP "madvise" or "always"). The advice
// is best effort: where it fails the slice is ordinary memory.
func hugeFloats(n int) []float32 {
	if n*4 < hugePage {
		return make([]float32, n)
	}
	pad := hugePage / 4
	buf := make([]float32, n+pad)
	p := uintptr(unsafe.Pointer(unsafe.SliceData(buf)))
	off := int((hugePage-p%hugePage)%hugePage) / 4
	out := buf[off : off+n : off+n]
	whole := (n * 4) &^ (hugePage - 1) // never advise past the slice
	_ = unix.Madvise(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(out))), whole), unix.MADV_HUGEPAGE)
	return out
}
