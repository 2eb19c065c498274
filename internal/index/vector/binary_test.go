package vector

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"math/rand"
	"testing"
)

func binaryData(n int) (data, qs [][]float32) {
	r := rand.New(rand.NewSource(21))
	all := lowRank(r, n+100, 384, 24)
	return all[:n], all[n:]
}

func newBinaryFrom(t testing.TB, cfg BinaryConfig, data [][]float32) *Binary {
	t.Helper()
	x, err := NewBinary(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range data {
		if err := x.Add(uint32(i), v); err != nil {
			t.Fatal(err)
		}
	}
	return x
}

func binaryRecall(t *testing.T, x *Binary, data, qs [][]float32, effort int, ok func(uint32) bool) float64 {
	t.Helper()
	hit, tot := 0, 0
	for _, q := range qs {
		want := oracle(data, q, 10, ok)
		got, err := x.Search(q, 10, effort, ok)
		if err != nil {
			t.Fatal(err)
		}
		set := map[uint32]bool{}
		for _, g := range got {
			if ok != nil && !ok(g.ID) {
				t.Fatalf("filtered-out id %d returned", g.ID)
			}
			set[g.ID] = true
		}
		for _, w := range want {
			if set[w] {
				hit++
			}
		}
		tot += len(want)
	}
	return float64(hit) / float64(tot)
}

// TestBinary: sign codes with float32 rescoring find the exact top 10 on
// 384-d low-rank data once enough candidates are rescored, their scores
// are exact, and the index holds a 32nd of the float32 bytes per vector.
func TestBinary(t *testing.T) {
	data, qs := binaryData(5000)
	full := fullFrom(func(id uint32) []float32 {
		if int(id) < len(data) {
			return data[id]
		}
		return nil
	})
	xf := newBinaryFrom(t, BinaryConfig{Dim: 384, Full: full}, data)
	xk := newBinaryFrom(t, BinaryConfig{Dim: 384}, data) // keeps floats
	r100, r400 := binaryRecall(t, xf, data, qs, 0, nil), binaryRecall(t, xf, data, qs, 400, nil)
	rk := binaryRecall(t, xk, data, qs, 400, nil)
	f1 := binaryRecall(t, xf, data, qs, 0, func(id uint32) bool { return id%100 == 0 })
	raw := binaryRecall(t, newBinaryFrom(t, BinaryConfig{Dim: 384, Rescore: -1}, data), data, qs, 0, nil)
	t.Logf("recall@10: codes only %.3f, rescoring 100 %.3f, 400 %.3f (own floats %.3f), 1%% filter %.3f", raw, r100, r400, rk, f1)
	if r400 < 0.95 || rk != r400 || f1 < 0.99 || r100 < raw {
		t.Errorf("recall: codes only %.3f, 100 %.3f, 400 %.3f, own floats %.3f, filtered %.3f", raw, r100, r400, rk, f1)
	}
	res, _ := xf.Search(qs[0], 5, 0, nil)
	if w := dotf(qs[0], data[res[0].ID]); math.Abs(float64(res[0].Score-w)) > 1e-5 {
		t.Errorf("rescored score %v, exact %v", res[0].Score, w)
	}
	st := xf.Stats()
	t.Logf("bytes/vector: codes+ids %d (float32 vector alone: %d)", st.BytesPerVector, 4*384)
	if st.FullInIndex || !xk.Stats().FullInIndex || st.Quantize != QuantBinary || st.BytesPerVector > 4*384/16 {
		t.Errorf("stats %+v / %+v", st, xk.Stats())
	}
}

// TestBinaryCentre: on vectors sharing a large common component (a narrow
// cone, as e5 embeddings are) raw sign codes agree on most bits and rank
// poorly; centring on the mean of the first vectors restores recall, and
// the codes written before the centre was fixed are re-encoded.
func TestBinaryCentre(t *testing.T) {
	data, qs := binaryData(4000)
	r := rand.New(rand.NewSource(5))
	offset := make([]float32, 384)
	for j := range offset {
		offset[j] = float32(r.NormFloat64()) * 0.5
	}
	for _, set := range [][][]float32{data, qs} {
		for _, v := range set {
			var n float64
			for j := range v {
				v[j] += offset[j]
				n += float64(v[j]) * float64(v[j])
			}
			for j := range v {
				v[j] /= float32(math.Sqrt(n))
			}
		}
	}
	full := fullFrom(func(id uint32) []float32 { return data[id] })
	raw := binaryRecall(t, newBinaryFrom(t, BinaryConfig{Dim: 384, CentreAfter: -1, Full: full}, data), data, qs, 0, nil)
	xc := newBinaryFrom(t, BinaryConfig{Dim: 384, CentreAfter: 500, Full: full}, data)
	cen := binaryRecall(t, xc, data, qs, 0, nil)
	t.Logf("cone data, recall@10 rescoring 100: raw signs %.3f, centred %.3f", raw, cen)
	if cen < 0.95 || cen < raw+0.1 {
		t.Errorf("centring: raw %.3f, centred %.3f", raw, cen)
	}
	if xc.centre == nil || xc.pend != nil {
		t.Fatalf("centre not fixed after %d vectors (pending %d floats)", xc.Len(), len(xc.pend))
	}
	// Codes of the first vectors (added before the centre) were re-encoded:
	// each equals the code computed now.
	code := make([]uint64, xc.words)
	for s := range 500 {
		xc.encode(code, data[s], make([]float32, 384))
		for j, c := range code {
			if xc.codes[s*xc.words+j] != c {
				t.Fatalf("slot %d: stale code", s)
			}
		}
	}
}

// TestBinaryUpdateDelete: replacing a vector moves its code; deleting
// moves the last slot into the hole; a candidate Full no longer has is
// dropped rather than returned with an estimate.
func TestBinaryUpdateDelete(t *testing.T) {
	data, _ := binaryData(300)
	gone := uint32(1 << 31)
	full := func(ids []uint32, dst [][]float32) {
		for i, id := range ids {
			if id != gone && int(id) < len(data) {
				dst[i] = data[id]
			}
		}
	}
	x := newBinaryFrom(t, BinaryConfig{Dim: 384, Full: full}, data)
	if res, _ := x.Search(data[7], 1, 0, nil); len(res) != 1 || res[0].ID != 7 {
		t.Fatalf("self search: %v", res)
	}
	if !x.Delete(7) || x.Delete(7) || x.Len() != 299 {
		t.Fatal("delete")
	}
	if res, _ := x.Search(data[7], 3, 0, nil); len(res) != 3 || res[0].ID == 7 {
		t.Errorf("deleted id returned: %v", res)
	}
	// The slot of the last id (299) now holds it: it is still found.
	if res, _ := x.Search(data[299], 1, 0, nil); res[0].ID != 299 {
		t.Errorf("moved slot lost: %v", res)
	}
	gone = 5
	if res, _ := x.Search(data[5], 10, 0, nil); len(res) != 10 || res[0].ID == 5 {
		t.Errorf("id unknown to Full returned: %v", res)
	}
	// Replace id 3's vector by 8's: both are now equally near data[8].
	gone = 1 << 31
	data[3] = data[8]
	if err := x.Add(3, data[8]); err != nil {
		t.Fatal(err)
	}
	res, _ := x.Search(data[8], 2, 0, nil)
	if len(res) != 2 || res[0].Score != res[1].Score || (res[0].ID != 3 && res[1].ID != 3) {
		t.Errorf("after replace: %v", res)
	}
}

// TestBinaryPersist: a round trip keeps results, with and without float32
// vectors in the file; damage is ErrCorrupt; bad input is refused.
func TestBinaryPersist(t *testing.T) {
	data, qs := binaryData(1000)
	full := fullFrom(func(id uint32) []float32 { return data[id] })
	for _, cfg := range []BinaryConfig{{Dim: 384}, {Dim: 384, Metric: Cosine, Rescore: 50, Full: full},
		{Dim: 384, CentreAfter: 100, Full: full}} {
		x := newBinaryFrom(t, cfg, data)
		x.Delete(10)
		var buf bytes.Buffer
		if _, err := x.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		file := buf.Bytes()
		y, err := ReadBinary(bytes.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		if !x.Stats().FullInIndex {
			// No float32 source yet: estimates, in Hamming order, not nothing.
			est, err := y.Search(qs[0], 10, 0, nil)
			if err != nil || len(est) != 10 || est[0].Score < est[9].Score || est[0].Score > 1 {
				t.Errorf("before SetFull: %v, %v", est, err)
			}
		}
		y.SetFull(full)
		if y.Len() != x.Len() || y.Stats().FullInIndex != x.Stats().FullInIndex {
			t.Fatalf("stats %+v vs %+v", y.Stats(), x.Stats())
		}
		for _, q := range qs[:20] {
			a, _ := x.Search(q, 10, 0, nil)
			b, _ := y.Search(q, 10, 0, nil)
			if len(a) != len(b) {
				t.Fatalf("%d vs %d results", len(a), len(b))
			}
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("result %d: %v vs %v", i, a[i], b[i])
				}
			}
		}
		for _, off := range []int{3, 20, 40, len(file) / 2, len(file) - 2} {
			bad := append([]byte(nil), file...)
			bad[off] ^= 0x40
			if _, err := ReadBinary(bytes.NewReader(bad)); !errors.Is(err, ErrCorrupt) {
				t.Errorf("byte %d flipped: err %v, want ErrCorrupt", off, err)
			}
		}
		if _, err := ReadBinary(bytes.NewReader(file[:len(file)-7])); !errors.Is(err, ErrCorrupt) {
			t.Errorf("truncated: %v", err)
		}
		// Flags that contradict each other (a checksum-valid header): an
		// uncentred index without floats must carry its pending vectors.
		flags := binary.LittleEndian.Uint32(file[28:])
		bad := append([]byte(nil), file[:binHeaderSize]...)
		binary.LittleEndian.PutUint32(bad[28:], flags^binPending)
		binary.LittleEndian.PutUint32(bad[36:], crc32.Checksum(bad[8:36], castagnoli))
		if _, err := ReadBinary(bytes.NewReader(append(bad, file[binHeaderSize:]...))); !errors.Is(err, ErrCorrupt) {
			t.Errorf("flags %b with the pending bit flipped: %v", flags, err)
		}
	}
	x, _ := NewBinary(BinaryConfig{Dim: 4})
	nan := float32(math.NaN())
	for _, c := range []struct {
		err  error
		call func() error
	}{
		{ErrDim, func() error { return x.Add(1, []float32{1, 2, 3}) }},
		{ErrNotFin, func() error { return x.Add(1, []float32{1, nan, 0, 0}) }},
		{ErrDim, func() error { _, err := x.Search([]float32{1}, 1, 0, nil); return err }},
		{ErrConfig, func() error { _, err := x.Search([]float32{1, 0, 0, 0}, 0, 0, nil); return err }},
		{ErrConfig, func() error { _, err := NewBinary(BinaryConfig{Dim: 4, Metric: L2}); return err }},
		{ErrConfig, func() error { _, err := NewBinary(BinaryConfig{Dim: 0}); return err }},
	} {
		if err := c.call(); !errors.Is(err, c.err) {
			t.Errorf("got %v, want %v", err, c.err)
		}
	}
	if x.Len() != 0 {
		t.Errorf("refused adds left %d vectors", x.Len())
	}
}

func BenchmarkBinarySearch(b *testing.B) {
	r := rand.New(rand.NewSource(4))
	data := lowRank(r, 100000, 384, 24)
	x, _ := NewBinary(BinaryConfig{Dim: 384, Full: fullFrom(func(id uint32) []float32 { return data[id] })})
	for i, v := range data {
		x.Add(uint32(i), v)
	}
	i := 0
	for b.Loop() {
		x.Search(data[i%len(data)], 10, 0, nil)
		i++
	}
}

// BenchmarkBinaryScan times the Hamming scan alone (no rescoring, top 100
// codes) over 116,659 random 384-bit codes, the size of the WordNet set:
// the figure bench/ann_peers/binary_peer.py compares with FAISS
// IndexBinaryFlat.
func BenchmarkBinaryScan(b *testing.B) {
	r := rand.New(rand.NewSource(9))
	x, _ := NewBinary(BinaryConfig{Dim: 384, Rescore: -1, CentreAfter: -1})
	v := make([]float32, 384)
	for i := range 116659 {
		for j := range v {
			v[j] = float32(r.NormFloat64())
		}
		x.Add(uint32(i), v)
	}
	for b.Loop() {
		for j := range v {
			v[j] = float32(r.NormFloat64())
		}
		x.Search(v, 100, 0, nil)
	}
}

func FuzzReadBinary(f *testing.F) {
	data, _ := lrData(40)
	for _, cfg := range []BinaryConfig{{Dim: 64}, {Dim: 64, CentreAfter: 10, Full: fullFrom(func(id uint32) []float32 { return data[id] })},
		{Dim: 64, Full: fullFrom(func(id uint32) []float32 { return data[id] })}} {
		x := newBinaryFrom(f, cfg, data)
		var buf bytes.Buffer
		x.WriteTo(&buf)
		f.Add(buf.Bytes())
	}
	q := data[0]
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := ReadBinary(bytes.NewReader(b))
		if err == nil {
			x.Search(q, 3, 0, nil)
			x.Search(q, 3, 10, func(id uint32) bool { return id%2 == 0 })
			x.Delete(1)
			x.Add(99, q)
		} else if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("error not wrapping ErrCorrupt: %v", err)
		}
	})
}
