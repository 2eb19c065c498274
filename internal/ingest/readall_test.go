package ingest

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// TestReadAllHint: whatever the hint, readAllHint returns what io.ReadAll
// returns; with the right hint it allocates once.
func TestReadAllHint(t *testing.T) {
	data := strings.Repeat("0123456789", 10_000)
	for _, n := range []int{0, 1, 511, 512, 513, 4096, len(data)} {
		src := data[:n]
		for _, hint := range []int64{-1, 0, 1, int64(n) - 1, int64(n), int64(n) + 1, 10 * int64(n), 1 << 40} {
			for name, r := range map[string]io.Reader{
				"plain":    strings.NewReader(src),
				"one byte": iotest.OneByteReader(strings.NewReader(src)),
				"data+EOF": iotest.DataErrReader(strings.NewReader(src)),
			} {
				got, err := readAllHint(r, hint)
				if err != nil || string(got) != src {
					t.Fatalf("%s, %d bytes, hint %d: got %d bytes, %v", name, n, hint, len(got), err)
				}
			}
		}
	}
	boom := errors.New("boom")
	got, err := readAllHint(io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(boom)), 10)
	if !errors.Is(err, boom) || string(got) != "abc" {
		t.Fatalf("a failing reader: %q, %v", got, err)
	}
	raw := []byte(data)
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := readAllHint(bytes.NewReader(raw), int64(len(raw))); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 2 { // the buffer and the bytes.Reader
		t.Errorf("reading %d bytes with an exact hint made %.0f allocations", len(data), allocs)
	}
}
