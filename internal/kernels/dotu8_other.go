//go:build purego || !amd64

package kernels

const dotU8I8Name = "generic"

func dotU8I8Fast(a []uint8, b []int8) int32 { return dotU8I8Generic(a, b) }
