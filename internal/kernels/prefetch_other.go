//go:build purego || !amd64

package kernels

import "unsafe"

// Prefetch does nothing without the amd64 assembly (see prefetch_amd64.go).
func Prefetch(p unsafe.Pointer) {}
