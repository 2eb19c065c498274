//go:build linux

package vector

import (
	"syscall"
	"unsafe"
)

// hugeMin is the smallest array worth a huge-page hint (two 2 MiB pages).
const hugeMin = 4 << 20

// adviseHuge asks the kernel to back the 2 MiB-aligned interior of the
// size bytes at p with transparent huge pages (madvise MADV_HUGEPAGE;
// honoured when /sys/kernel/mm/transparent_hugepage/enabled is "always"
// or "madvise"). A search reads vectors at random across the whole array:
// with 4 KiB pages nearly every read also misses the TLB, with 2 MiB pages
// an array of a few hundred MiB fits the TLB. Called on freshly made
// (untouched) memory, so the pages are faulted in huge. Only a hint:
// errors are ignored and memory contents are unaffected.
func adviseHuge(p unsafe.Pointer, size uintptr) {
	const page = 2 << 20
	if size < hugeMin {
		return
	}
	lead := (page - uintptr(p)%page) % page
	if lead >= size {
		return
	}
	n := (size - lead) &^ (page - 1)
	if n == 0 {
		return
	}
	const madvHugepage = 14 // MADV_HUGEPAGE
	_ = syscall.Madvise(unsafe.Slice((*byte)(unsafe.Add(p, lead)), n), madvHugepage)
}
