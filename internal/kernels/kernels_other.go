//go:build purego || !amd64

package kernels

// Only the generic kernels are built: the purego tag (or a non-amd64
// architecture) is in effect.
