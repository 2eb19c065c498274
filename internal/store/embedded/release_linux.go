package embedded

import (
	"syscall"

	bolt "go.etcd.io/bbolt"
)

// releaseMappedLocked drops this process's page-table entries for the
// store's memory map after a write. bbolt reads pages through a read-only
// shared mapping, and a commit that rewrites a leaf holding large values
// (whole documents) reads its neighbours through it too, so without this
// every page an ingest ever touched stays resident in the process: an
// upload of 100 MB grew RSS by ~150 MB of file-backed pages
// (docs/benchmarks.md, issue 15). The data stay in the page cache; a later
// read faults the page back in (a minor fault, no I/O).
//
// MADV_DONTNEED on a shared file mapping never changes its contents, so
// concurrent readers are safe. The mapping's address is stable because
// bbolt remaps only inside a read-write transaction, and all of ours run
// under writeMu, which the caller holds.
func (b *Backend) releaseMappedLocked() {
	var size int64
	if b.db.View(func(tx *bolt.Tx) error { size = tx.Size(); return nil }) != nil || size <= 0 {
		return
	}
	data := b.db.Info().Data
	if data == 0 {
		return
	}
	// Advisory: on failure the pages simply stay resident.
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, data, uintptr(size), syscall.MADV_DONTNEED)
}
