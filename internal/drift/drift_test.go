package drift_test

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quarry-rag/quarry/internal/drift"
)

func gauss(rng *rand.Rand, n, dim int, shift float64) [][]float32 {
	out := make([][]float32, n)
	for i := range out {
		v := make([]float32, dim)
		for j := range v {
			v[j] = float32(rng.NormFloat64())
		}
		v[0] += float32(shift)
		out[i] = v
	}
	return out
}

func TestMMDTest(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	same := drift.MMDTest(gauss(rng, 60, 8, 0), gauss(rng, 60, 8, 0), 200, 1)
	if same.PValue < 0.05 {
		t.Errorf("same distribution: p = %.3g, want ≥ 0.05", same.PValue)
	}
	moved := drift.MMDTest(gauss(rng, 60, 8, 0), gauss(rng, 60, 8, 1.5), 200, 1)
	if moved.PValue > 0.01 || moved.MMD2 <= same.MMD2 {
		t.Errorf("shifted mean: p = %.3g, MMD² %.4g (same: %.4g)", moved.PValue, moved.MMD2, same.MMD2)
	}
}

func TestPSI(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	draw := func(n int, mu float64) []float64 {
		v := make([]float64, n)
		for i := range v {
			v[i] = mu + rng.NormFloat64()
		}
		return v
	}
	same := drift.PSI(draw(500, 0), draw(500, 0), 10, 200, 1)
	moved := drift.PSI(draw(500, 0), draw(500, 1), 10, 200, 1)
	if same.PSI > 0.1 || same.PValue < 0.01 {
		t.Errorf("same: PSI %.3g p %.3g", same.PSI, same.PValue)
	}
	if moved.PSI < 0.25 || moved.PValue > 0.01 {
		t.Errorf("moved: PSI %.3g p %.3g", moved.PSI, moved.PValue)
	}
	// All-equal baseline: one bin, PSI stays finite.
	if r := drift.PSI([]float64{1, 1, 1, 1}, []float64{1, 2, 3}, 10, 10, 1); r.Bins > 2 || math.IsInf(r.PSI, 0) || math.IsNaN(r.PSI) {
		t.Errorf("ties: %+v", r)
	}
}

func TestTwoProportions(t *testing.T) {
	if r := drift.TwoProportions(50, 1000, 120, 1000); r.PValue > 1e-6 {
		t.Errorf("5%% vs 12%%: p = %.3g", r.PValue)
	}
	if r := drift.TwoProportions(50, 1000, 52, 1000); r.PValue < 0.5 {
		t.Errorf("5%% vs 5.2%%: p = %.3g", r.PValue)
	}
	if r := drift.TwoProportions(0, 100, 0, 100); r.PValue != 1 {
		t.Errorf("0 vs 0: p = %.3g", r.PValue)
	}
}

func TestWindowBounded(t *testing.T) {
	w := drift.NewWindow(drift.WindowOptions{MaxEmbeddings: 10, MaxScores: 20, Seed: 1})
	for i := range 1000 {
		w.ObserveQuery([]float32{float32(i), 1}, float64(i), i%10 == 0)
	}
	w.ObserveQuery([]float32{1, 2, 3}, 1, false) // another model's vector: not sampled
	s := w.Sample()
	if len(s.Embeddings) != 10 || len(s.Scores) != 20 || s.Dim != 2 {
		t.Fatalf("got %d embeddings, %d scores, dim %d", len(s.Embeddings), len(s.Scores), s.Dim)
	}
	if s.Counts.Queries != 1001 || s.Counts.Empty != 100 {
		t.Errorf("counts %+v", s.Counts)
	}
	// The reservoir keeps a uniform sample, not the first items.
	late := 0
	for _, v := range s.Embeddings {
		if v[0] >= 500 {
			late++
		}
	}
	if late == 0 {
		t.Error("reservoir kept only early items")
	}
	if err := s.Validate(); err != nil {
		t.Error(err)
	}
}

func TestCompareTooFew(t *testing.T) {
	a := drift.NewWindow(drift.WindowOptions{})
	b := drift.NewWindow(drift.WindowOptions{})
	for range 5 {
		a.ObserveQuery([]float32{1, 0}, 1, false)
		b.ObserveQuery([]float32{0, 1}, 9, false)
	}
	rep := drift.Compare(a.Sample(), b.Sample(), drift.Options{})
	if rep.Verdict != drift.TooFew || !strings.Contains(rep.Summary, "too few") {
		t.Fatalf("verdict %v: %s", rep.Verdict, rep.Summary)
	}
	for _, r := range rep.Results {
		if r.Verdict != drift.TooFew || !strings.Contains(r.Message, "no verdict") {
			t.Errorf("%s: %v %q", r.Stat, r.Verdict, r.Message)
		}
	}
}

func TestCompareRatesAndScores(t *testing.T) {
	base := drift.NewWindow(drift.WindowOptions{Seed: 1})
	cur := drift.NewWindow(drift.WindowOptions{Seed: 2})
	for i := range 400 {
		base.ObserveQuery(nil, float64(i%100), false)
		base.ObserveAnswer(i%10 == 0, i%10 != 0) // 10% abstain
		cur.ObserveQuery(nil, float64(i%100)/3, false)
		cur.ObserveAnswer(i%3 == 0, i%3 != 0) // 33% abstain
		base.ObserveGuard(false)
		cur.ObserveGuard(false)
	}
	rep := drift.Compare(base.Sample(), cur.Sample(), drift.Options{})
	if rep.Verdict != drift.Drift {
		t.Fatalf("verdict %v: %s", rep.Verdict, rep.Summary)
	}
	got := map[drift.Stat]drift.Verdict{}
	for _, r := range rep.Results {
		got[r.Stat] = r.Verdict
	}
	want := map[drift.Stat]drift.Verdict{
		drift.StatEmbeddings: drift.TooFew, drift.StatScores: drift.Drift, drift.StatEmpty: drift.Stable,
		drift.StatAbstained: drift.Drift, drift.StatGrounded: drift.Drift, drift.StatFlagged: drift.Stable, drift.StatUp: drift.TooFew,
	}
	for s, v := range want {
		if got[s] != v {
			t.Errorf("%s: %v, want %v", s, got[s], v)
		}
	}
	// Same traffic on both sides: stable.
	if rep := drift.Compare(base.Sample(), base.Sample(), drift.Options{}); rep.Verdict != drift.Stable {
		t.Errorf("self-comparison: %v: %s", rep.Verdict, rep.Summary)
	}
}

func TestSampleRoundTrip(t *testing.T) {
	w := drift.NewWindow(drift.WindowOptions{Seed: 1})
	w.ObserveQuery([]float32{0.5, -0.5}, 0.7, false)
	w.ObserveFeedback(true)
	var buf bytes.Buffer
	if err := drift.WriteSample(&buf, w.Sample()); err != nil {
		t.Fatal(err)
	}
	s, err := drift.ReadSample(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if s.Dim != 2 || len(s.Embeddings) != 1 || s.Counts.Up != 1 {
		t.Errorf("round trip: %+v", s)
	}
	for _, bad := range []string{
		`{"version":2}`,
		`{"version":1,"dim":2,"embeddings":[[1,2,3]],"counts":{"queries":1}}`,
		`{"version":1,"counts":{"queries":1,"empty":2}}`,
		`{"version":1,"scores":[1],"counts":{"queries":0}}`,
		`{"version":1,"bogus":1}`,
		`{"version":1} {}`,
	} {
		if _, err := drift.ReadSample(strings.NewReader(bad)); !errors.Is(err, drift.ErrInvalid) {
			t.Errorf("%s: err %v, want ErrInvalid", bad, err)
		}
	}
}

func FuzzReadSample(f *testing.F) {
	f.Add([]byte(`{"version":1,"dim":2,"embeddings":[[1,2]],"scores":[0.5],"counts":{"queries":1}}`))
	f.Add([]byte(`{"version":1,"counts":{"answers":3,"abstained":1}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := drift.ReadSample(bytes.NewReader(data))
		if err != nil {
			return
		}
		// Whatever it accepts, Compare handles without panicking.
		drift.Compare(s, s, drift.Options{Permutations: 5})
	})
}

func TestMonitor(t *testing.T) {
	now := time.Unix(0, 0)
	reg := prometheus.NewRegistry()
	m := drift.NewMonitor(drift.MonitorOptions{Period: time.Minute, Registerer: reg, Now: func() time.Time { return now }})
	rec := m.Recorder("docs")
	if rep := m.Report("docs"); rep.Verdict != drift.TooFew || !strings.Contains(rep.Summary, "no baseline") {
		t.Fatalf("no baseline: %v %s", rep.Verdict, rep.Summary)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, v := range gauss(rng, 100, 4, 0) {
		rec.ObserveQuery(v, 1, false)
	}
	now = now.Add(2 * time.Minute) // the first window closes and becomes the baseline
	for _, v := range gauss(rng, 100, 4, 3) {
		rec.ObserveQuery(v, 1, false)
	}
	rep := m.Report("docs")
	if rep.Verdict != drift.Drift {
		t.Fatalf("verdict %v: %s", rep.Verdict, rep.Summary)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	alarms := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "quarry_drift_alarm" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "stat" {
					alarms[l.GetValue()] = m.GetGauge().GetValue()
				}
			}
		}
	}
	if len(alarms) != len(drift.Stats) || alarms[string(drift.StatEmbeddings)] != 1 || alarms[string(drift.StatUp)] != -1 {
		t.Errorf("quarry_drift_alarm: %v", alarms)
	}
}

// TestMonitorConcurrent: recorders, reports and window rollover from many
// goroutines at once (run with -race); counts are not lost.
func TestMonitorConcurrent(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(0, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	m := drift.NewMonitor(drift.MonitorOptions{Period: time.Minute, Now: clock, Compare: drift.Options{Permutations: 20}})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			rec := m.Recorder("c")
			for i := range 200 {
				rec.ObserveQuery([]float32{float32(g), float32(i)}, float64(i), i%7 == 0)
				rec.ObserveAnswer(i%5 == 0, i%2 == 0)
				rec.ObserveGuard(i%11 == 0)
				rec.ObserveFeedback(i%3 == 0)
				if i%50 == 0 {
					m.Report("c")
				}
			}
		})
	}
	wg.Wait()
	_, cur := m.Windows("c")
	if cur.Counts.Queries != 8*200 || cur.Counts.Feedback != 8*200 || len(cur.Embeddings) != 256 {
		t.Errorf("counts %+v, %d embeddings", cur.Counts, len(cur.Embeddings))
	}
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	base, cur := m.Windows("c")
	if base == nil || base.Counts.Queries != 8*200 || cur.Counts.Queries != 0 {
		t.Errorf("after rollover: baseline %v, current %+v", base, cur.Counts)
	}
}
