package bm25

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"testing/iotest"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

func serialize(t testing.TB, ix *Index) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := ix.WriteTo(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("WriteTo returned %d, wrote %d", n, buf.Len())
	}
	return buf.Bytes()
}

func TestPersistRoundTrip(t *testing.T) {
	for _, p := range oracleParams {
		t.Run(fmt.Sprintf("%v", p), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(11, 12))
			c := newCorpus(rng, 2500, 20, 800)
			ix := New(p)
			for i, d := range c.docs {
				ix.Add(d.key, d.title, d.body)
				if i%5 == 0 {
					ix.Delete(c.docs[rng.IntN(i+1)].key)
				}
			}
			b := serialize(t, ix)
			ix2, err := Read(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if err := ix2.check(); err != nil {
				t.Fatal(err)
			}
			if ix2.Params() != p || ix2.Len() != ix.Len() || ix2.Stats().Deleted != 0 {
				t.Fatalf("params %v len %d, want %v %d", ix2.Params(), ix2.Len(), p, ix.Len())
			}
			// Ids are renumbered densely in the original order.
			prev := -1
			for id := range uint32(ix2.Len()) {
				k := ix2.Key(id)
				old, ok := ix.ID(k)
				if !ok || int(old) <= prev {
					t.Fatalf("id %d key %q: old id %d (prev %d)", id, k, old, prev)
				}
				prev = int(old)
			}
			for range 50 {
				q := c.query(1 + rng.IntN(15))
				k := 1 + rng.IntN(50)
				a, b := ix.Search(q, k, nil), ix2.Search(q, k, nil)
				if len(a) != len(b) {
					t.Fatalf("%d vs %d results", len(a), len(b))
				}
				for i := range a {
					if a[i].Key != b[i].Key || a[i].Score != b[i].Score {
						t.Fatalf("rank %d: before %v, after %v", i, a[i], b[i])
					}
				}
			}
			// Stable: writing the read index gives the same bytes.
			if b2 := serialize(t, ix2); !bytes.Equal(b, b2) {
				t.Fatal("re-serialization differs")
			}
			// The read index stays writable.
			ix2.Delete(ix2.Key(0))
			ix2.Add("new", nil, []string{"t1"})
			if err := ix2.check(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestPersistEmpty(t *testing.T) {
	ix2, err := Read(bytes.NewReader(serialize(t, New(DefaultParams()))))
	if err != nil {
		t.Fatal(err)
	}
	if ix2.Len() != 0 || ix2.Search([]string{"a"}, 10, nil) != nil {
		t.Fatal("empty index not empty after round trip")
	}
	if _, err := ix2.Add("a", nil, []string{"a"}); err != nil {
		t.Fatal(err)
	}
}

func smallIndex(t testing.TB) *Index {
	ix := New(Params{K1: 0.9, B: 0.4, TitleBoost: 0.5}) // float32 tf encoding
	for _, d := range threeDocs {
		ix.Add(d.key, words(d.title), words(d.body))
	}
	return ix
}

// TestCorruptionDetected flips every bit of two small serialized indexes
// (one per tf encoding) and truncates them at every length: each must fail
// with ErrCorrupt.
func TestCorruptionDetected(t *testing.T) {
	for _, ix := range []*Index{build(t, DefaultParams(), threeDocs), smallIndex(t)} {
		good := serialize(t, ix)
		for i := range good {
			for bit := range 8 {
				b := bytes.Clone(good)
				b[i] ^= 1 << bit
				if _, err := Read(bytes.NewReader(b)); !errors.Is(err, ErrCorrupt) {
					t.Fatalf("flip byte %d bit %d: err %v", i, bit, err)
				}
			}
		}
		for n := range len(good) {
			if _, err := Read(bytes.NewReader(good[:n])); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("truncated to %d: err %v", n, err)
			}
			// Through a reader without Len, one byte at a time.
			if _, err := Read(iotest.OneByteReader(bytes.NewReader(good[:n]))); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("truncated to %d (byte reader): err %v", n, err)
			}
		}
	}
}

// TestReadOnlyConsumesIndex checks that Read stops at the end of the index
// so it can be embedded in a larger stream.
func TestReadOnlyConsumesIndex(t *testing.T) {
	good := serialize(t, build(t, DefaultParams(), threeDocs))
	r := bytes.NewReader(append(bytes.Clone(good), "trailer"...))
	if _, err := Read(r); err != nil {
		t.Fatal(err)
	}
	if rest, _ := io.ReadAll(r); string(rest) != "trailer" {
		t.Fatalf("left %q", rest)
	}
}

func TestReadPassesReaderErrors(t *testing.T) {
	boom := errors.New("disk on fire")
	good := serialize(t, build(t, DefaultParams(), threeDocs))
	r := io.MultiReader(bytes.NewReader(good[:40]), iotest.ErrReader(boom))
	_, err := Read(r)
	if !errors.Is(err, boom) || errors.Is(err, ErrCorrupt) {
		t.Fatalf("err = %v, want the reader's error, not ErrCorrupt", err)
	}
}

// rewrite rebuilds a serialized index from edited section payloads with
// valid checksums, to reach the decoder's consistency checks.
func rewrite(t *testing.T, good []byte, edit func(secs [][]byte) [][]byte) []byte {
	t.Helper()
	var secs [][]byte
	off := headerSize
	for range 3 {
		n := int(binary.LittleEndian.Uint64(good[off+4:]))
		secs = append(secs, bytes.Clone(good[off+sectionHeader:off+sectionHeader+n]))
		off += sectionHeader + n
	}
	secs = edit(secs)
	out := bytes.Clone(good[:headerSize])
	for i, s := range secs {
		var sh [sectionHeader]byte
		binary.LittleEndian.PutUint32(sh[0:], uint32(i+1))
		binary.LittleEndian.PutUint64(sh[4:], uint64(len(s)))
		binary.LittleEndian.PutUint32(sh[12:], crc32.Checksum(s, castagnoli))
		out = append(append(out, sh[:]...), s...)
	}
	return out
}

func TestDecodeRejectsInconsistentContent(t *testing.T) {
	good := serialize(t, build(t, DefaultParams(), threeDocs))
	// Identity rewrite must be readable, or the cases below prove nothing.
	if _, err := Read(bytes.NewReader(rewrite(t, good, func(s [][]byte) [][]byte { return s }))); err != nil {
		t.Fatal(err)
	}
	replace := func(sec int, old, new string) func([][]byte) [][]byte {
		return func(s [][]byte) [][]byte {
			if !bytes.Contains(s[sec], []byte(old)) {
				t.Fatalf("section %d lacks %q", sec+1, old)
			}
			s[sec] = bytes.Replace(s[sec], []byte(old), []byte(new), 1)
			return s
		}
	}
	tests := []struct {
		name string
		edit func([][]byte) [][]byte
	}{
		{"invalid params", func(s [][]byte) [][]byte {
			binary.LittleEndian.PutUint64(s[0][8:], 0x4000000000000000) // B = 2
			return s
		}},
		{"short params", func(s [][]byte) [][]byte { s[0] = s[0][:16]; return s }},
		{"duplicate key", replace(1, "d2", "d1")},
		{"doc trailing bytes", func(s [][]byte) [][]byte { s[1] = append(s[1], 0); return s }},
		{"huge doc count", func(s [][]byte) [][]byte { s[1][0] = 0x7f; return s }},
		{"terms out of order", replace(2, "cat", "zzz")},
		{"unknown tf encoding", func(s [][]byte) [][]byte { s[2][0] = 7; return s }},
		{"terms trailing bytes", func(s [][]byte) [][]byte { s[2] = append(s[2], 0); return s }},
		{"doc length disagrees with postings", func(s [][]byte) [][]byte {
			// d1's body length is 3; make it 4.
			i := bytes.Index(s[1], []byte("d1")) + 2
			s[1][i] = 4
			return s
		}},
		{"empty section", func(s [][]byte) [][]byte { s[2] = nil; return s }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(bytes.NewReader(rewrite(t, good, tc.edit)))
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt", err)
			}
		})
	}
}

// TestGoldenFormat pins format version 1: testdata/threedocs.v1.bm25 must
// read back to the expected scores, and the current writer must produce it
// byte for byte. Run with -update after an intentional format change (and
// bump the version).
func TestGoldenFormat(t *testing.T) {
	path := filepath.Join("testdata", "threedocs.v1.bm25")
	got := serialize(t, build(t, DefaultParams(), threeDocs))
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("writer output differs from %s (run with -update if intended)", path)
	}
	ix, err := Read(bytes.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}
	fresh := build(t, DefaultParams(), threeDocs)
	for _, q := range []string{"cat", "dog dog sat", "on the"} {
		if a, b := ix.Search(words(q), 10, nil), fresh.Search(words(q), 10, nil); !reflect.DeepEqual(a, b) {
			t.Fatalf("%q: golden %v, fresh %v", q, a, b)
		}
	}
}

// TestReadIsFast reads an index of about 1M postings; it must take no
// rebuild work (logged, asserted loosely for shared CI machines).
func TestReadIsFast(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	rng := rand.New(rand.NewPCG(5, 5))
	c := newCorpus(rng, 12_000, 100, 100_000)
	ix := New(DefaultParams())
	for _, d := range c.docs {
		ix.Add(d.key, d.title, d.body)
	}
	b := serialize(t, ix)
	res := testing.Benchmark(func(tb *testing.B) {
		for tb.Loop() {
			Read(bytes.NewReader(b))
		}
	})
	per := res.T / time.Duration(res.N)
	t.Logf("Read of %d postings (%d bytes): %v", ix.Stats().Postings, len(b), per)
	if per > time.Second {
		t.Fatalf("Read took %v", per)
	}
}
