//go:build !linux

package embedded

// releaseMappedLocked is a no-op where MADV_DONTNEED on the store's memory
// map is not available (see release_linux.go).
func (b *Backend) releaseMappedLocked() {}
