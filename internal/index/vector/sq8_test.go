package vector

import (
	"errors"
	"math"
	"math/rand"
	"sync"
	"testing"
)

// exactScore is the public score of v for query q under m, in float64.
func exactScore(m Metric, q, v []float32) float64 {
	var dot, qq, vv, l2 float64
	for i := range q {
		a, b := float64(q[i]), float64(v[i])
		dot += a * b
		qq += a * a
		vv += b * b
		l2 += (a - b) * (a - b)
	}
	switch m {
	case Cosine:
		return dot / math.Sqrt(qq*vv)
	case L2:
		return -l2
	}
	return dot
}

// overlap is the fraction of want's ids that got also holds, over queries.
func overlap(got, want [][]Result) float64 {
	hit, tot := 0, 0
	for i := range want {
		set := map[uint32]bool{}
		for _, g := range got[i] {
			set[g.ID] = true
		}
		for _, w := range want[i] {
			if set[w.ID] {
				hit++
			}
		}
		tot += len(want[i])
	}
	return float64(hit) / float64(tot)
}

func searchAll(t testing.TB, h *HNSW, qs [][]float32, k, ef int) [][]Result {
	out := make([][]Result, len(qs))
	for i, q := range qs {
		res, err := h.Search(q, k, ef, nil)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = res
	}
	return out
}

// TestSQ8 checks the quantized traversal on every metric and on a
// dimension that is not a multiple of the code padding: the codes are
// trained, the returned scores are the exact float32 ones in order, and
// recall against a near-exact reference (the float32 walk at ef 400) is
// within 0.02 of the float32 walk at the same ef.
func TestSQ8(t *testing.T) {
	r := rand.New(rand.NewSource(23))
	for _, tc := range []struct {
		m   Metric
		dim int
	}{{Dot, 64}, {Cosine, 64}, {L2, 64}, {Dot, 100}} {
		all := lowRank(r, 3200, tc.dim, 16)
		data, qs := all[:3000], all[3000:]
		cfg := Config{Dim: tc.dim, Metric: tc.m, Seed: 1}
		hf := buildWith(t, cfg, data, 1)
		cfg.Traverse = TraverseSQ8
		hs := buildWith(t, cfg, data, 1)
		if !hs.sq.ready || hf.sq.on {
			t.Fatalf("%v: sq8 ready %v, float on %v", tc.m, hs.sq.ready, hf.sq.on)
		}
		ref := searchAll(t, hf, qs, 10, 400)
		for _, ef := range []int{20, 40} {
			rf, rs := overlap(searchAll(t, hf, qs, 10, ef), ref), overlap(searchAll(t, hs, qs, 10, ef), ref)
			t.Logf("%v dim %d ef %d: recall float32 %.4f, sq8 %.4f", tc.m, tc.dim, ef, rf, rs)
			if rs < rf-0.02 || rs < 0.9 {
				t.Errorf("%v dim %d ef %d: sq8 recall %.4f vs float32 %.4f", tc.m, tc.dim, ef, rs, rf)
			}
		}
		for _, q := range qs {
			res, _ := hs.Search(q, 10, 40, nil)
			if len(res) != 10 {
				t.Fatalf("%d results", len(res))
			}
			for j, x := range res {
				want := exactScore(tc.m, q, data[x.ID])
				if math.Abs(float64(x.Score)-want) > 1e-4*max(1, math.Abs(want)) {
					t.Fatalf("%v: id %d score %v, exact %v", tc.m, x.ID, x.Score, want)
				}
				if j > 0 && x.Score > res[j-1].Score {
					t.Fatalf("%v: results out of order: %v", tc.m, res)
				}
			}
		}
	}
}

// TestSQ8Untrained: below sqMinTrain vectors the walk is the float32 one,
// so results equal the float32 index's exactly; at sqMinTrain the codes are
// trained on the next Add.
func TestSQ8Untrained(t *testing.T) {
	r := rand.New(rand.NewSource(29))
	all := lowRank(r, sqMinTrain+50, 64, 16)
	data, qs := all[:sqMinTrain-1], all[sqMinTrain:]
	hf := buildWith(t, Config{Dim: 64, Seed: 1}, data, 1)
	hs := buildWith(t, Config{Dim: 64, Seed: 1, Traverse: TraverseSQ8}, data, 1)
	if hs.sq.ready {
		t.Fatal("trained below sqMinTrain")
	}
	a, b := searchAll(t, hf, qs, 10, 30), searchAll(t, hs, qs, 10, 30)
	for i := range a {
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				t.Fatalf("untrained sq8 differs from float32: %v vs %v", b[i], a[i])
			}
		}
	}
	if err := hs.Add(uint32(len(data)), all[len(data)]); err != nil {
		t.Fatal(err)
	}
	if !hs.sq.ready || hs.sq.next.Load() != 2*sqMinTrain {
		t.Fatalf("not trained at %d vectors (next %d)", hs.Len(), hs.sq.next.Load())
	}
}

// TestSQ8PersistCompact: the traversal survives WriteTo/Read (the codes are
// retrained from the vectors), and Delete + Compact keep it working.
func TestSQ8PersistCompact(t *testing.T) {
	data, qs := lrData(3000)
	hf := buildWith(t, Config{Dim: 64, Seed: 1}, data, 1)
	ref := searchAll(t, hf, qs, 10, 400)
	hs := buildFrom(t, Config{Dim: 64, Seed: 1, Traverse: TraverseSQ8}, data)
	h2 := roundTrip(t, hs)
	if h2.Config().Traverse != TraverseSQ8 || !h2.sq.ready {
		t.Fatalf("after Read: traverse %v, ready %v", h2.Config().Traverse, h2.sq.ready)
	}
	if rc := overlap(searchAll(t, h2, qs, 10, 40), ref); rc < 0.95 {
		t.Errorf("recall after Read %.4f", rc)
	}
	if err := h2.Add(99999, qs[0]); err != nil {
		t.Fatal(err)
	}
	if res, _ := h2.Search(qs[0], 1, 40, nil); len(res) != 1 || res[0].ID != 99999 {
		t.Errorf("insert after Read: %v", res)
	}
	h2.Delete(99999)
	for i := 0; i < len(data); i += 3 {
		h2.Delete(uint32(i))
	}
	h2.Compact()
	if !h2.sq.ready {
		t.Fatal("codes lost by Compact")
	}
	alive := func(id uint32) bool { return id%3 != 0 && int(id) < len(data) }
	hit, tot := 0, 0
	for _, q := range qs {
		want := oracle(data, q, 10, alive)
		got, err := h2.Search(q, 10, 40, nil)
		if err != nil {
			t.Fatal(err)
		}
		set := map[uint32]bool{}
		for _, g := range got {
			if !alive(g.ID) {
				t.Fatalf("deleted id %d returned", g.ID)
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
	if rc := float64(hit) / float64(tot); rc < 0.93 {
		t.Errorf("recall after Compact %.4f", rc)
	}
}

// TestSQ8Concurrent: searches run while inserts cross the training sizes
// (run with -race to check the locking).
func TestSQ8Concurrent(t *testing.T) {
	data, qs := lrData(2500)
	h, err := New(Config{Dim: 64, Seed: 1, Traverse: TraverseSQ8})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := h.Search(qs[i%len(qs)], 10, 30, nil); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for i, v := range data {
		if err := h.Add(uint32(i), v); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if n := h.sq.next.Load(); !h.sq.ready || n <= int64(len(data)) || n > int64(2*len(data)) {
		t.Fatalf("ready %v next %d", h.sq.ready, h.sq.next.Load())
	}
}

func TestSQ8Config(t *testing.T) {
	for _, c := range []Config{
		{Dim: 8, Traverse: TraverseSQ8, Quantize: QuantInt8},
		{Dim: 8, Traverse: 9},
	} {
		if _, err := New(c); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v", c, err)
		}
	}
	if TraverseSQ8.String() != "sq8" || Traversal(9).String() != "traversal(9)" {
		t.Error("String")
	}
}
