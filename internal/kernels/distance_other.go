//go:build purego || !amd64

package kernels

func dotFast(a, b []float32) float32          { return dotGeneric(a, b) }
func l2sqFast(a, b []float32) float32         { return l2sqGeneric(a, b) }
func dotI8Fast(a []float32, b []int8) float32 { return dotI8Generic(a, b) }
