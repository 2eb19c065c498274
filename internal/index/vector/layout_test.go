package vector

import (
	"bytes"
	"errors"
	"math"
	"testing"
)

// TestReserve: after Reserve(n), adding n vectors one at a time never grows
// the per-slot arrays (Stats.Bytes is unchanged apart from the id map and
// upper-level lists), the index is searchable, and a bad n is an ErrConfig
// error naming Reserve.
func TestReserve(t *testing.T) {
	data, qs := lrData(2000)
	h, err := New(Config{Dim: 64, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Reserve(len(data)); err != nil {
		t.Fatal(err)
	}
	h.mu.RLock()
	blk0, capN := &h.blk[0], h.capN
	h.mu.RUnlock()
	for i, v := range data {
		if err := h.Add(uint32(i), v); err != nil {
			t.Fatal(err)
		}
	}
	h.mu.RLock()
	same := &h.blk[0] == blk0 && h.capN == capN
	h.mu.RUnlock()
	if !same || capN != len(data) {
		t.Errorf("Reserve(%d): capacity %d, arrays reallocated: %v", len(data), capN, !same)
	}
	if r := recall(t, h, data, qs, 64, nil); r < 0.9 {
		t.Errorf("recall after Reserve %.3f", r)
	}
	// A smaller Reserve keeps everything; one more Add grows by ≤ 2×.
	if err := h.Reserve(10); err != nil || h.Len() != len(data) {
		t.Fatal(err, h.Len())
	}
	if err := h.Add(uint32(len(data)), qs[0]); err != nil {
		t.Fatal(err)
	}
	if h.capN <= len(data) || h.capN > 2*len(data) {
		t.Errorf("capacity after growth %d", h.capN)
	}
	for _, n := range []int{-1, 1<<31 + 1} {
		if err := h.Reserve(n); !errors.Is(err, ErrConfig) || !bytes.Contains([]byte(err.Error()), []byte("Reserve")) {
			t.Errorf("Reserve(%d): %v", n, err)
		}
	}
}

// TestGrowCap: doubling while small, 1.25× when large, always growing.
func TestGrowCap(t *testing.T) {
	for _, c := range []int{0, 1, 256, 1 << 13, 1 << 14, 100000, 1 << 24} {
		g := growCap(c)
		switch {
		case c < 1<<14 && g != 2*c:
			t.Errorf("growCap(%d) = %d, want %d", c, g, 2*c)
		case c >= 1<<14 && g != c+c/4:
			t.Errorf("growCap(%d) = %d, want %d", c, g, c+c/4)
		}
	}
}

// TestBlockLayout: blocks are a multiple of 16 words (so vectors stay on
// 64-byte lines), vec and linksOf(·, 0) read back what was added and
// linked, and the file written from
// the interleaved blocks is byte-identical after Read and WriteTo again
// (the format is unchanged by the in-memory layout), also with spare
// capacity (Reserve) and for int8 with and without float32 vectors.
func TestBlockLayout(t *testing.T) {
	data, _ := lrData(500)
	full := fullFrom(func(id uint32) []float32 { return data[id] })
	for _, cfg := range []Config{{Dim: 64, Seed: 1}, {Dim: 37, Seed: 2, Metric: L2},
		{Dim: 64, Seed: 3, Quantize: QuantInt8}, {Dim: 64, Seed: 4, Quantize: QuantInt8, Full: full}} {
		h, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		h.Reserve(2 * len(data))
		for i, v := range data {
			if err := h.Add(uint32(i), v[:cfg.Dim]); err != nil {
				t.Fatal(err)
			}
		}
		if h.keepFull {
			if h.stride%16 != 0 || h.stride < cfg.Dim+h.m0+1 {
				t.Errorf("dim %d: stride %d", cfg.Dim, h.stride)
			}
			for i := range uint32(len(data)) {
				v := h.vec(i)
				if math.Abs(float64(v[0]-data[i][0])) > 1e-6 && cfg.Metric != Cosine {
					t.Fatalf("dim %d: vec(%d) = %v…, want %v…", cfg.Dim, i, v[0], data[i][0])
				}
				lk := h.linksOf(i, 0)
				if lk[0] == 0 || int(lk[0]) > h.m0 {
					t.Fatalf("dim %d: node %d has %d level-0 links", cfg.Dim, i, lk[0])
				}
			}
		} else if h.stride != h.m0+1 {
			t.Errorf("int8 without floats: stride %d, want %d", h.stride, h.m0+1)
		}
		var a, b bytes.Buffer
		if _, err := h.WriteTo(&a); err != nil {
			t.Fatal(err)
		}
		h2, err := Read(bytes.NewReader(a.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h2.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.Bytes(), b.Bytes()) {
			t.Errorf("cfg %+v: file differs after Read and WriteTo", cfg)
		}
	}
}
