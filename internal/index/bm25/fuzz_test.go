package bm25

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"testing"
)

// fixChecksums recomputes the section checksums of b where its framing
// parses, so the fuzzer also reaches the decoder's consistency checks
// instead of stopping at the CRC.
func fixChecksums(b []byte) []byte {
	b = bytes.Clone(b)
	off := headerSize
	for range 3 {
		if off+sectionHeader > len(b) {
			break
		}
		n := binary.LittleEndian.Uint64(b[off+4:])
		if n > uint64(len(b)-off-sectionHeader) {
			break
		}
		p := b[off+sectionHeader : off+sectionHeader+int(n)]
		binary.LittleEndian.PutUint32(b[off+12:], crc32.Checksum(p, castagnoli))
		off += sectionHeader + int(n)
	}
	return b
}

// FuzzRead: arbitrary bytes give ErrCorrupt or an index that satisfies
// every invariant, searches, and round-trips; never a panic.
func FuzzRead(f *testing.F) {
	f.Add(serialize(f, build(f, DefaultParams(), threeDocs)))
	f.Add(serialize(f, smallIndex(f)))
	f.Add(serialize(f, New(DefaultParams())))
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, b := range [][]byte{data, fixChecksums(data)} {
			ix, err := Read(bytes.NewReader(b))
			if err != nil {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("error does not wrap ErrCorrupt: %v", err)
				}
				continue
			}
			if err := ix.check(); err != nil {
				t.Fatalf("Read accepted an inconsistent index: %v", err)
			}
			terms := append([]string(nil), ix.terms...)
			got := ix.Search(terms, 10, nil)
			if want := ix.searchExhaustive(terms, 10, nil); len(got) != len(want) {
				t.Fatalf("search %d results, exhaustive %d", len(got), len(want))
			}
			again, err := Read(bytes.NewReader(serialize(t, ix)))
			if err != nil {
				t.Fatalf("re-read of a valid index: %v", err)
			}
			if again.Len() != ix.Len() {
				t.Fatal("round trip changed Len")
			}
			if ix.Len() > 0 {
				ix.Delete(ix.Key(0))
				ix.Compact()
				if err := ix.check(); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}
