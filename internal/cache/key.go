package cache

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
)

// Key hashes parts into one key. Parts are length-prefixed, so ("ab", "c")
// and ("a", "bc") differ.
func Key(parts ...string) string {
	h := sha256.New()
	var n [8]byte
	for _, p := range parts {
		binary.LittleEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}
