package vector

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/quarry-rag/quarry/internal/kernels"
)

func mixture(r *rand.Rand, n, dim int) [][]float32 {
	cs := make([][]float32, 20)
	for i := range cs {
		cs[i] = make([]float32, dim)
		for j := range cs[i] {
			cs[i][j] = float32(r.NormFloat64())
		}
	}
	out := make([][]float32, n)
	for i := range out {
		c := cs[r.Intn(len(cs))]
		v := make([]float32, dim)
		var s float64
		for j := range v {
			v[j] = c[j] + float32(r.NormFloat64())
			s += float64(v[j] * v[j])
		}
		for j := range v {
			v[j] /= float32(math.Sqrt(s))
		}
		out[i] = v
	}
	return out
}

func oracle(data [][]float32, q []float32, k int, ok func(uint32) bool) []uint32 {
	type p struct {
		id uint32
		s  float32
	}
	var ps []p
	for i, v := range data {
		if v == nil || (ok != nil && !ok(uint32(i))) {
			continue
		}
		var s float32
		for j := range v {
			s += v[j] * q[j]
		}
		ps = append(ps, p{uint32(i), s})
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].s > ps[j].s })
	var out []uint32
	for i := 0; i < k && i < len(ps); i++ {
		out = append(out, ps[i].id)
	}
	return out
}

func recall(t *testing.T, h *HNSW, data, qs [][]float32, ef int, ok func(uint32) bool) float64 {
	hit, tot := 0, 0
	for _, q := range qs {
		want := oracle(data, q, 10, ok)
		got, err := h.Search(q, 10, ef, ok)
		if err != nil {
			t.Fatal(err)
		}
		set := map[uint32]bool{}
		for _, g := range got {
			set[g.ID] = true
			if data[g.ID] == nil || (ok != nil && !ok(g.ID)) {
				t.Fatalf("returned rejected/deleted id %d", g.ID)
			}
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

func build(t testing.TB, n, dim int) (*HNSW, [][]float32, [][]float32) {
	r := rand.New(rand.NewSource(1))
	data := mixture(r, n, dim)
	qs := mixture(r, 100, dim)
	h, err := New(Config{Dim: dim, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range data {
		if err := h.Add(uint32(i), v); err != nil {
			t.Fatal(err)
		}
	}
	return h, data, qs
}

// lrData is the shared low-rank test set: 10000 × 64, intrinsic rank 16.
func lrData(n int) (data, qs [][]float32) {
	if testing.Short() {
		n = min(n, 2000)
	}
	r := rand.New(rand.NewSource(11))
	all := lowRank(r, n+200, 64, 16)
	return all[:n], all[n:]
}

func buildFrom(t testing.TB, cfg Config, data [][]float32) *HNSW {
	return buildWith(t, cfg, data, 0)
}

// buildWith adds data with AddBatch on workers goroutines; 1 is
// deterministic (the parallel build's graph depends on scheduling).
func buildWith(t testing.TB, cfg Config, data [][]float32, workers int) *HNSW {
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]uint32, len(data))
	for i := range ids {
		ids[i] = uint32(i)
	}
	if err := h.AddBatch(ids, data, workers); err != nil {
		t.Fatal(err)
	}
	return h
}

func TestRecall(t *testing.T) {
	data, qs := lrData(10000)
	h := buildFrom(t, Config{Dim: 64, Seed: 1}, data)
	for _, ef := range []int{10, 20, 40, 80} {
		t.Logf("recall@10 ef=%d: %.4f", ef, recall(t, h, data, qs, ef, nil))
	}
	if rc := recall(t, h, data, qs, 40, nil); rc < 0.95 {
		t.Errorf("recall@10 at ef=40 = %.4f < 0.95", rc)
	}
	// The isotropic 32-dim mixture is much harder (intrinsic dim 32); the
	// graph still has to reach 0.95 with a larger ef.
	h2, d2, q2 := build(t, 5000, 32)
	if rc := recall(t, h2, d2, q2, 200, nil); rc < 0.95 {
		t.Errorf("isotropic recall@10 at ef=200 = %.4f < 0.95", rc)
	}
	// Sequential Add gives the same quality as AddBatch.
	if rc := recall(t, h2, d2, q2, 64, nil); rc < 0.80 {
		t.Errorf("isotropic recall@10 at ef=64 = %.4f", rc)
	}
}

func TestMetrics(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	data := lowRank(r, 2000, 16, 8)
	for i, v := range data { // break normalisation so the metrics differ
		s := float32(1 + i%7)
		for j := range v {
			v[j] *= s
		}
	}
	q := data[5]
	for _, m := range []Metric{Dot, Cosine, L2} {
		h := buildFrom(t, Config{Dim: 16, Metric: m, Seed: 1}, data)
		got, err := h.Search(q, 5, 200, nil)
		if err != nil {
			t.Fatal(err)
		}
		best, bs := -1, float32(-inf32)
		for i, v := range data {
			var s float32
			switch m {
			case Dot:
				s = dotf(q, v)
			case Cosine:
				s = dotf(q, v) / float32(math.Sqrt(float64(dotf(q, q)*dotf(v, v))))
			case L2:
				for j := range v {
					s -= (q[j] - v[j]) * (q[j] - v[j])
				}
			}
			if s > bs {
				best, bs = i, s
			}
		}
		if got[0].ID != uint32(best) || math.Abs(float64(got[0].Score-bs)) > 1e-3*math.Max(1, math.Abs(float64(bs))) {
			t.Errorf("%v: top %+v, want id %d score %v", m, got[0], best, bs)
		}
	}
}

func dotf(a, b []float32) float32 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// fullFrom adapts a per-id lookup (nil = unknown) to a FullFunc.
func fullFrom(get func(id uint32) []float32) FullFunc {
	return func(ids []uint32, dst [][]float32) {
		for i, id := range ids {
			dst[i] = get(id)
		}
	}
}

// TestInt8FullBatch: a search asks Full once for all the candidates it
// rescores, and a candidate Full no longer has is dropped, not returned
// with its approximate score.
func TestInt8FullBatch(t *testing.T) {
	data, qs := lrData(2000)
	var calls, asked int
	gone := uint32(0)
	var mu sync.Mutex
	full := func(ids []uint32, dst [][]float32) {
		mu.Lock()
		calls++
		asked += len(ids)
		mu.Unlock()
		for i, id := range ids {
			if id != gone {
				dst[i] = data[id]
			}
		}
	}
	h := buildWith(t, Config{Dim: 64, Seed: 1, Quantize: QuantInt8, Full: full}, data, 1)
	calls, asked = 0, 0
	gone = 0
	res, err := h.Search(data[0], 10, 64, nil)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 1 || asked != 40 {
		t.Errorf("one search called Full %d times for %d ids; want 1 call for 40 (max(4k, 40))", calls, asked)
	}
	if len(res) != 10 {
		t.Fatalf("%d results", len(res))
	}
	for _, r := range res {
		if r.ID == gone {
			t.Errorf("id %d, unknown to Full, was returned (score %v)", gone, r.Score)
		}
	}
	gone = 1 << 31
	res, _ = h.Search(qs[0], 5, 64, nil)
	if w := dotf(qs[0], data[res[0].ID]); math.Abs(float64(res[0].Score-w)) > 1e-5 {
		t.Errorf("rescored score %v, exact %v", res[0].Score, w)
	}
}

func TestInt8(t *testing.T) {
	data, qs := lrData(5000)
	hf := buildWith(t, Config{Dim: 64, Seed: 1}, data, 1)
	full := fullFrom(func(id uint32) []float32 {
		if int(id) >= len(data) {
			return nil
		}
		return data[id]
	})
	hq := buildWith(t, Config{Dim: 64, Seed: 1, Quantize: QuantInt8, Full: full}, data, 1)
	hk := buildWith(t, Config{Dim: 64, Seed: 1, Quantize: QuantInt8}, data, 1) // keeps floats
	for _, ef := range []int{20, 40, 80} {
		rf, rq, rk := recall(t, hf, data, qs, ef, nil), recall(t, hq, data, qs, ef, nil), recall(t, hk, data, qs, ef, nil)
		t.Logf("ef=%d recall@10 float32 %.4f int8+Full %.4f int8+own floats %.4f", ef, rf, rq, rk)
		if rq < rf-0.01 || rk < rf-0.01 {
			t.Errorf("ef=%d: int8 recall %.4f/%.4f loses more than 0.01 vs %.4f", ef, rq, rk, rf)
		}
	}
	// Rescored scores are exact.
	res, _ := hq.Search(qs[0], 3, 40, nil)
	if w := dotf(qs[0], data[res[0].ID]); math.Abs(float64(res[0].Score-w)) > 1e-5 {
		t.Errorf("rescored score %v, exact %v", res[0].Score, w)
	}
	sf, sq, sk := hf.Stats(), hq.Stats(), hk.Stats()
	if sq.FullInIndex || !sk.FullInIndex || !sf.FullInIndex || sq.Quantize != QuantInt8 {
		t.Errorf("stats: %+v %+v %+v", sf, sq, sk)
	}
	t.Logf("dim 64 bytes/vector: float32 %d, int8+Full %d (%.2f×), int8 keeping floats %d", sf.BytesPerVector, sq.BytesPerVector,
		float64(sq.Bytes)/float64(sf.Bytes), sk.BytesPerVector)
}

// TestInt8Memory checks the memory target at an embedding width (384, as
// MiniLM): int8 codes with Full must take ≤ 0.35× the float32 index.
func TestInt8Memory(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	data := lowRank(r, 3000, 384, 16)
	cfg := Config{Dim: 384, EfConstruction: 40, Seed: 1}
	hf := buildFrom(t, cfg, data)
	cfg.Quantize, cfg.Full = QuantInt8, fullFrom(func(id uint32) []float32 { return data[id] })
	hq := buildFrom(t, cfg, data)
	sf, sq := hf.Stats(), hq.Stats()
	ratio := float64(sq.Bytes) / float64(sf.Bytes)
	t.Logf("dim 384: float32 %d B/vector, int8 %d B/vector, ratio %.3f", sf.BytesPerVector, sq.BytesPerVector, ratio)
	if ratio > 0.35 {
		t.Errorf("int8 index is %.3f× the float32 one", ratio)
	}
	if sf.BytesPerVector < 4*384 {
		t.Errorf("float32 stats undercount: %d", sf.BytesPerVector)
	}
}

func TestFiltered(t *testing.T) {
	data, qs := lrData(10000)
	h := buildFrom(t, Config{Dim: 64, Seed: 1}, data)
	for _, mod := range []uint32{100, 10, 2} {
		ok := func(id uint32) bool { return (id*2654435761)%mod == 0 }
		rc := recall(t, h, data, qs, 40, ok)
		t.Logf("filter 1/%d recall@10: %.4f", mod, rc)
		if rc < 0.95 {
			t.Errorf("filter 1/%d recall %.4f < 0.95", mod, rc)
		}
	}
	none := func(uint32) bool { return false }
	if res, err := h.Search(qs[0], 10, 40, none); err != nil || len(res) != 0 {
		t.Errorf("reject-all filter: %v %v", res, err)
	}
}

func TestDeleteCompact(t *testing.T) {
	data, qs := lrData(10000)
	h := buildWith(t, Config{Dim: 64, Seed: 1}, data, 1) // deterministic
	ef := 0
	for _, e := range []int{10, 15, 20, 30, 40, 60, 80} {
		if recall(t, h, data, qs, e, nil) >= 0.95 {
			ef = e
			break
		}
	}
	if ef == 0 {
		t.Fatal("no ef reaches 0.95")
	}
	for i := range data {
		if i%10 < 3 {
			if !h.Delete(uint32(i)) {
				t.Fatal("delete", i)
			}
			data[i] = nil
		}
	}
	if h.Delete(0) {
		t.Error("second delete reported true")
	}
	rc := recall(t, h, data, qs, ef, nil)
	t.Logf("ef=%d: recall after 30%% deleted %.4f", ef, rc)
	if rc < 0.95 {
		t.Errorf("recall after deletes %.4f", rc)
	}
	h.Compact()
	st := h.Stats()
	if st.Deleted != 0 || st.Vectors != len(data)*7/10 || h.Len() != len(data)*7/10 {
		t.Errorf("stats after compact %+v", st)
	}
	rc = recall(t, h, data, qs, ef, nil)
	var rest [][]float32
	var restIDs []uint32
	for i, v := range data {
		if v != nil {
			rest, restIDs = append(rest, v), append(restIDs, uint32(i))
		}
	}
	fresh, _ := New(Config{Dim: 64, Seed: 1})
	fresh.AddBatch(restIDs, rest, 1)
	t.Logf("ef=%d: recall after Compact %.4f (a fresh build of the survivors: %.4f)", ef, rc, recall(t, fresh, data, qs, ef, nil))
	if rc < 0.95 {
		t.Errorf("recall after compact %.4f", rc)
	}
	// Re-adding a deleted id and replacing a live one work after Compact.
	if err := h.Add(0, qs[0]); err != nil {
		t.Fatal(err)
	}
	if err := h.Add(5, qs[1]); err != nil {
		t.Fatal(err)
	}
	for i, id := range []uint32{0, 5} {
		res, _ := h.Search(qs[i], 1, 40, nil)
		if len(res) != 1 || res[0].ID != id {
			t.Errorf("re-added id %d not found: %v", id, res)
		}
	}
	if h.Len() != len(restIDs)+1 {
		t.Errorf("Len %d after re-add and replace", h.Len())
	}
}

func roundTrip(t *testing.T, h *HNSW) *HNSW {
	var buf bytes.Buffer
	n, err := h.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatal(n, err)
	}
	h2, err := Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	return h2
}

func TestPersist(t *testing.T) {
	data, qs := lrData(3000)
	full := fullFrom(func(id uint32) []float32 {
		if int(id) < len(data) {
			return data[id]
		}
		if id == 99999 {
			return qs[0]
		}
		return nil
	})
	for _, cfg := range []Config{{Dim: 64, Seed: 1}, {Dim: 64, Metric: L2, Seed: 1, Quantize: QuantInt8, Full: full}} {
		h := buildFrom(t, cfg, data)
		h.Delete(7)
		h2 := roundTrip(t, h)
		h2.SetFull(full)
		if h2.Len() != h.Len() || h2.Stats() != h.Stats() {
			t.Fatalf("stats differ: %+v vs %+v", h2.Stats(), h.Stats())
		}
		for _, q := range qs[:30] {
			a, _ := h.Search(q, 10, 50, nil)
			b, _ := h2.Search(q, 10, 50, nil)
			if len(a) != len(b) {
				t.Fatal("round trip differs")
			}
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("round trip differs: %v vs %v", a[i], b[i])
				}
			}
		}
		// The reopened index accepts inserts.
		if err := h2.Add(99999, qs[0]); err != nil {
			t.Fatal(err)
		}
		if res, _ := h2.Search(qs[0], 1, 50, nil); res[0].ID != 99999 {
			t.Errorf("insert after Read: %v", res)
		}
	}
	empty, _ := New(Config{Dim: 3})
	if e2 := roundTrip(t, empty); e2.Len() != 0 {
		t.Error("empty round trip")
	}
}

func TestCorrupt(t *testing.T) {
	data, _ := lrData(300)
	h := buildFrom(t, Config{Dim: 64, M: 4, EfConstruction: 20, Seed: 1, Quantize: QuantInt8}, data[:300])
	var buf bytes.Buffer
	h.WriteTo(&buf)
	b := buf.Bytes()
	for i := 0; i < len(b); i += 1 + len(b)/2000 {
		c := append([]byte(nil), b...)
		c[i] ^= 0x10
		if _, err := Read(bytes.NewReader(c)); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("flip at %d of %d: %v", i, len(b), err)
		}
	}
	for _, n := range []int{0, 5, 20, 67, 68, 100, len(b) / 2, len(b) - 1} {
		if _, err := Read(bytes.NewReader(b[:n])); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncate %d: %v", n, err)
		}
	}
	x := trainedIVF(t, IVFConfig{Dim: 64, NList: 8}, data)
	buf.Reset()
	x.WriteTo(&buf)
	b = buf.Bytes()
	for i := 0; i < len(b); i += 1 + len(b)/1000 {
		c := append([]byte(nil), b...)
		c[i] ^= 0x01
		if _, err := ReadIVF(bytes.NewReader(c)); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("IVF flip at %d: %v", i, err)
		}
	}
	if _, err := ReadIVF(bytes.NewReader(b[:len(b)-3])); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("IVF truncated: %v", err)
	}
}

func TestBadInput(t *testing.T) {
	for _, c := range []Config{{}, {Dim: -1}, {Dim: 70000}, {Dim: 4, M: 1}, {Dim: 4, M: 1000}, {Dim: 4, EfSearch: -1},
		{Dim: 4, EfConstruction: 5000}, {Dim: 4, M: 32, EfConstruction: 8}, {Dim: 4, Quantize: "pq"}, {Dim: 4, Metric: 9}, {Dim: 4, Rescore: 10000}} {
		if _, err := New(c); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	h, _ := New(Config{Dim: 4})
	if err := h.Add(1, []float32{1, 2}); !errors.Is(err, ErrDim) {
		t.Error(err)
	}
	if err := h.Add(1, []float32{1, float32(math.NaN()), 0, 0}); !errors.Is(err, ErrNotFin) {
		t.Error(err)
	}
	if err := h.Add(1, []float32{1, float32(math.Inf(1)), 0, 0}); !errors.Is(err, ErrNotFin) {
		t.Error(err)
	}
	if err := h.AddBatch([]uint32{1, 2}, [][]float32{{1, 0, 0, 0}, {1, 0}}, 2); !errors.Is(err, ErrDim) || h.Len() != 0 {
		t.Errorf("bad batch: %v, Len %d (must stay 0)", err, h.Len())
	}
	if err := h.AddBatch([]uint32{1}, nil, 2); !errors.Is(err, ErrConfig) {
		t.Error(err)
	}
	for _, c := range [][2]int{{10, 99999}, {10, -1}, {0, 10}, {-3, 10}, {99999, 10}} {
		if _, err := h.Search([]float32{1, 0, 0, 0}, c[0], c[1], nil); !errors.Is(err, ErrConfig) {
			t.Errorf("k=%d ef=%d: %v", c[0], c[1], err)
		}
	}
	if _, err := h.Search([]float32{1, 0, 0}, 1, 0, nil); !errors.Is(err, ErrDim) {
		t.Error(err)
	}
	if _, err := h.Search([]float32{float32(math.NaN()), 0, 0, 0}, 1, 0, nil); !errors.Is(err, ErrNotFin) {
		t.Error(err)
	}
	if r, err := h.Search([]float32{1, 0, 0, 0}, 10, 0, nil); err != nil || len(r) != 0 {
		t.Error(r, err)
	}
	for _, c := range []IVFConfig{{}, {Dim: 4, NList: -1}, {Dim: 4, NList: 100000}, {Dim: 4, NList: 4, NProbe: 5}, {Dim: 4, Quantize: "x"}, {Dim: 4, Metric: 7}} {
		if _, err := NewIVF(c); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	x, _ := NewIVF(IVFConfig{Dim: 4, NList: 2})
	if err := x.Add(1, []float32{1, 0, 0, 0}); !errors.Is(err, ErrConfig) {
		t.Errorf("add before train: %v", err)
	}
	if err := x.Train([][]float32{{1, 0, 0, 0}}); !errors.Is(err, ErrConfig) {
		t.Errorf("train with too few: %v", err)
	}
	if err := x.Train([][]float32{{1, 0, 0, 0}, {0, 1, 0, float32(math.Inf(-1))}}); !errors.Is(err, ErrNotFin) {
		t.Errorf("train with Inf: %v", err)
	}
	if err := x.Train([][]float32{{1, 0, 0, 0}, {0, 1, 0, 0}}); err != nil {
		t.Fatal(err)
	}
	if _, err := x.Search([]float32{1, 0, 0, 0}, 1, 3, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("nprobe > nlist: %v", err)
	}
	if err := x.Add(1, []float32{1, 0}); !errors.Is(err, ErrDim) {
		t.Error(err)
	}
}

func TestConcurrent(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	n := 3000
	if testing.Short() {
		n = 1500
	}
	data := lowRank(r, n, 16, 8)
	for _, quant := range []Quantization{"", QuantInt8} {
		h, _ := New(Config{Dim: 16, EfConstruction: 40, Quantize: quant})
		half := n / 2
		ids := make([]uint32, half)
		for i := range ids {
			ids[i] = uint32(i)
		}
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := h.AddBatch(ids, data[:half], 2); err != nil {
				t.Error(err)
			}
		}()
		for w := range 2 {
			wg.Add(2)
			go func() {
				defer wg.Done()
				for i := half + w; i < n; i += 2 {
					if err := h.Add(uint32(i), data[i]); err != nil {
						t.Error(err)
					}
					if i%50 == 0 {
						h.Delete(uint32(i - 10))
					}
				}
			}()
			go func() {
				defer wg.Done()
				for i := range 300 {
					res, err := h.Search(data[i], 5, 20, func(id uint32) bool { return id%3 != 0 })
					if err != nil {
						t.Error(err)
					}
					for _, x := range res {
						if x.ID%3 == 0 {
							t.Error("filter ignored")
						}
					}
					_ = h.Stats()
				}
			}()
		}
		wg.Wait()
		if got, want := h.Len(), n-(n-half)/50; got < want-2 || got > want+2 {
			t.Errorf("Len %d, want about %d", got, want)
		}
		h.Compact()
		res, _ := h.Search(data[1], 1, 50, nil)
		if len(res) == 0 || res[0].ID != 1 {
			t.Errorf("after concurrent build: %v", res)
		}
	}
}

func trainedIVF(t testing.TB, cfg IVFConfig, data [][]float32) *IVF {
	x, err := NewIVF(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Train(data); err != nil {
		t.Fatal(err)
	}
	for i, v := range data {
		if err := x.Add(uint32(i), v); err != nil {
			t.Fatal(err)
		}
	}
	return x
}

func TestIVF(t *testing.T) {
	data, qs := lrData(5000)
	for _, quant := range []Quantization{"", QuantInt8} {
		x := trainedIVF(t, IVFConfig{Dim: 64, NList: 64, NProbe: 8, Quantize: quant, Seed: 1}, data)
		var idx Index = x
		hit := func(np int, ok func(uint32) bool) float64 {
			h, tot := 0, 0
			for _, q := range qs {
				want := oracle(data, q, 10, ok)
				got, err := idx.Search(q, 10, np, ok)
				if err != nil {
					t.Fatal(err)
				}
				set := map[uint32]bool{}
				for _, g := range got {
					set[g.ID] = true
				}
				if len(set) != len(got) {
					t.Fatalf("nprobe %d: duplicate ids in %v", np, got)
				}
				for _, w := range want {
					if set[w] {
						h++
					}
				}
				tot += len(want)
			}
			return float64(h) / float64(tot)
		}
		r8, r16 := hit(8, nil), hit(16, nil)
		f1 := hit(8, func(id uint32) bool { return id%100 == 0 })
		t.Logf("IVF %q recall@10 nprobe=8 %.4f nprobe=16 %.4f, 1%% filter %.4f, %d B/vector", quant, r8, r16, f1, x.Stats().BytesPerVector)
		if r16 < 0.95 || f1 < 0.95 {
			t.Errorf("IVF %q recall nprobe=16 %.4f, filtered %.4f", quant, r16, f1)
		}
		if !x.Delete(3) || x.Delete(3) || x.Len() != len(data)-1 {
			t.Error("IVF delete")
		}
		var buf bytes.Buffer
		if _, err := x.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		y, err := ReadIVF(&buf)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := x.Search(qs[0], 10, 8, nil)
		b, _ := y.Search(qs[0], 10, 8, nil)
		if y.Len() != x.Len() || len(a) != len(b) || a[0] != b[0] {
			t.Errorf("IVF round trip: %v vs %v", a, b)
		}
		if err := y.Add(3, data[3]); err != nil {
			t.Fatal(err)
		}
		if res, _ := y.Search(data[3], 1, 8, nil); res[0].ID != 3 {
			t.Errorf("IVF add after read: %v", res)
		}
	}
}

// TestBigReopen builds a 1M × 64 index (M=16) and times WriteTo and Read.
// Opt-in: QUARRY_BIG=1 (takes minutes to build on 2 cores).
func TestBigReopen(t *testing.T) {
	if os.Getenv("QUARRY_BIG") == "" || testing.Short() {
		t.Skip("set QUARRY_BIG=1 to build and reopen a 1M-vector index")
	}
	const n, dim = 1_000_000, 64
	r := rand.New(rand.NewSource(9))
	data := lowRank(r, n, dim, 16)
	// The built file is cached (it takes minutes to build on 2 cores);
	// delete it to rebuild.
	home, _ := os.UserHomeDir()
	path := filepath.Join(home, ".cache", "quarry", "ann", "big-1m-64-v2.hnsw")
	var h *HNSW
	if _, err := os.Stat(path); err != nil {
		t0 := time.Now()
		h = buildFrom(t, Config{Dim: dim, M: 16, EfConstruction: 64, Seed: 1}, data)
		t.Logf("built %d×%d in %v (AddBatch, GOMAXPROCS workers)", n, dim, time.Since(t0))
		os.MkdirAll(filepath.Dir(path), 0o755)
		f, err := os.Create(path + ".tmp")
		if err != nil {
			t.Fatal(err)
		}
		t0 = time.Now()
		sz, err := h.WriteTo(f)
		if err != nil || f.Close() != nil || os.Rename(path+".tmp", path) != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %d MB in %v", sz>>20, time.Since(t0))
	}
	h = nil
	runtime.GC()
	t0 := time.Now()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	h2, err := Read(f)
	f.Close()
	el := time.Since(t0)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("reopened %d vectors in %v", h2.Len(), el)
	if el > 5*time.Second || h2.Len() != n {
		t.Errorf("reopen took %v (target < 5s), Len %d", el, h2.Len())
	}
	res, _ := h2.Search(data[123], 1, 64, nil)
	if len(res) == 0 || res[0].ID != 123 {
		t.Errorf("search after reopen: %v", res)
	}
}

func FuzzRead(f *testing.F) {
	data, _ := lrData(20)
	for _, q := range []Quantization{"", QuantInt8} {
		h := buildFrom(f, Config{Dim: 64, M: 4, EfConstruction: 8, Quantize: q}, data[:20])
		var buf bytes.Buffer
		h.WriteTo(&buf)
		f.Add(buf.Bytes())
	}
	q := data[0]
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := Read(bytes.NewReader(b))
		if err == nil {
			h.Search(q, 3, 10, nil)
			h.Search(q, 3, 10, func(id uint32) bool { return id%2 == 0 })
			h.Delete(1)
			h.Compact()
		} else if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("error not wrapping ErrCorrupt: %v", err)
		}
	})
}

func BenchmarkSearch(b *testing.B) {
	data, qs := lrData(20000)
	for _, quant := range []Quantization{"", QuantInt8} {
		h := buildFrom(b, Config{Dim: 64, Seed: 1, Quantize: quant}, data)
		for _, ef := range []int{16, 40} {
			b.Run(fmt.Sprintf("q=%s/ef=%d", quant, ef), func(b *testing.B) {
				i := 0
				for b.Loop() {
					h.Search(qs[i%len(qs)], 10, ef, nil)
					i++
				}
			})
		}
	}
}

func BenchmarkBuild(b *testing.B) {
	data, _ := lrData(5000)
	for b.Loop() {
		h, _ := New(Config{Dim: 64, Seed: 1})
		for i, v := range data {
			h.Add(uint32(i), v)
		}
	}
	b.ReportMetric(float64(len(data)*b.N)/b.Elapsed().Seconds(), "adds/s")
}

// lowRank draws a Gaussian mixture living near a rank-dimensional subspace
// (plus 5% isotropic noise), normalised: closer to real embeddings, whose
// intrinsic dimension is far below their width, than an isotropic mixture.
func lowRank(r *rand.Rand, n, dim, rank int) [][]float32 {
	basis := make([][]float32, rank)
	for i := range basis {
		basis[i] = make([]float32, dim)
		for j := range basis[i] {
			basis[i][j] = float32(r.NormFloat64())
		}
	}
	z := mixture(r, n, rank)
	out := make([][]float32, n)
	for i := range out {
		v := make([]float32, dim)
		for k, c := range z[i] {
			for j := range v {
				v[j] += c * basis[k][j]
			}
		}
		var s float64
		for j := range v {
			v[j] += float32(0.05 * r.NormFloat64())
			s += float64(v[j]) * float64(v[j])
		}
		for j := range v {
			v[j] /= float32(math.Sqrt(s))
		}
		out[i] = v
	}
	return out
}

// ivfBenchData is 20,000 × 384 low-rank vectors (the width of MiniLM) and
// 200 queries; nlist 4·√n as the peer benchmark uses.
func ivfBenchData() (data, qs [][]float32, nlist int) {
	r := rand.New(rand.NewSource(11))
	all := lowRank(r, 20200, 384, 24)
	return all[:20000], all[20000:], int(4 * math.Sqrt(20000))
}

func BenchmarkIVFSearch(b *testing.B) {
	data, qs, nlist := ivfBenchData()
	x := trainedIVF(b, IVFConfig{Dim: 384, NList: nlist, Seed: 1}, data)
	for _, np := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("nprobe=%d", np), func(b *testing.B) {
			i := 0
			for b.Loop() {
				x.Search(qs[i%len(qs)], 10, np, nil)
				i++
			}
		})
	}
}

func BenchmarkIVFTrain(b *testing.B) {
	data, _, nlist := ivfBenchData()
	sample := data[:min(len(data), 40*nlist)]
	for _, it := range []int{10, 20} {
		b.Run(fmt.Sprintf("iterations=%d", it), func(b *testing.B) {
			for b.Loop() {
				x, _ := NewIVF(IVFConfig{Dim: 384, NList: nlist, Seed: 1, Iterations: it})
				if err := x.Train(sample); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestAssignBlocks: k-means's matrix-product assignment picks the centroid
// a per-point scan picks, for L2 (|c|²/2 offsets) and Dot, on sizes that
// leave partial blocks and partial panels.
func TestAssignBlocks(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	const n, d, k = 1000, 37, 53
	pts := make([]float32, n*d)
	cent := make([]float32, k*d)
	for i := range pts {
		pts[i] = float32(r.NormFloat64())
	}
	for i := range cent {
		cent[i] = float32(r.NormFloat64())
	}
	for _, m := range []Metric{L2, Dot} {
		var packed kernels.Packed
		packed.PackBT(cent, d, k, d)
		half := make([]float32, k)
		if m == L2 {
			for c := range k {
				half[c] = kernels.Dot(cent[c*d:(c+1)*d], cent[c*d:(c+1)*d]) / 2
			}
		}
		assign := make([]int32, n)
		if ch := assignBlocks(pts, d, n, &packed, half, assign, true); ch != n {
			t.Errorf("metric %d: first pass reported %d changes, want %d", m, ch, n)
		}
		for i := range n {
			p := pts[i*d : (i+1)*d]
			want := nearestCentroid(m, cent, d, p)
			if got := int(assign[i]); got != want {
				dg, dw := fdist(m, p, cent[got*d:(got+1)*d]), fdist(m, p, cent[want*d:(want+1)*d])
				if dg-dw > 1e-4*(1+abs32(dw)) {
					t.Fatalf("metric %d point %d: assigned %d (dist %v), nearest %d (dist %v)", m, i, got, dg, want, dw)
				}
			}
		}
		if ch := assignBlocks(pts, d, n, &packed, half, assign, false); ch != 0 {
			t.Errorf("metric %d: unchanged centroids reported %d changes", m, ch)
		}
	}
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

// BenchmarkSearchSmall is the per-query constant on a SciFact-sized set
// (5,000 × 384, Dot, M 16, efConstruction 200, ef 24, k 10): the regime of
// bench/ann_peers' scifact and xquad sets, where a query scores a few
// hundred vectors and the set fits in the last-level cache.
//
// Sub-benchmarks: float32 walks the float32 vectors, sq8 the 8-bit codes
// (Config.Traverse) with the exact re-rank.
func BenchmarkSearchSmall(b *testing.B) {
	r := rand.New(rand.NewSource(19))
	all := lowRank(r, 5300, 384, 48)
	data, qs := all[:5000], all[5000:]
	for _, tr := range []Traversal{TraverseFloat32, TraverseSQ8} {
		h := buildWith(b, Config{Dim: 384, Metric: Dot, M: 16, EfConstruction: 200, Seed: 1, Traverse: tr}, data, 1)
		b.Run(tr.String(), func(b *testing.B) {
			i := 0
			c0 := cpuNanos()
			for b.Loop() {
				h.Search(qs[i%len(qs)], 10, 24, nil)
				i++
			}
			// CPU time per query: on a shared machine wall time also
			// counts other jobs' turns.
			b.ReportMetric(float64(cpuNanos()-c0)/float64(b.N), "cpu-ns/op")
		})
	}
}
