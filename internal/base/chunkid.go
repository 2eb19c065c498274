package base

import (
	"strconv"
	"strings"
)

// ChunkID returns the identifier of the ordinal-th chunk of document docID.
func ChunkID(docID string, ordinal int) string {
	return docID + "#" + strconv.Itoa(ordinal)
}

// ParseChunkID splits a chunk identifier made by ChunkID. Document ids may
// themselves contain '#', so the last one separates the ordinal.
func ParseChunkID(id string) (docID string, ordinal int, ok bool) {
	i := strings.LastIndexByte(id, '#')
	if i < 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(id[i+1:])
	if err != nil || n < 0 {
		return "", 0, false
	}
	return id[:i], n, true
}
