package eval

import (
	"maps"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"testing"
)

const tol = 1e-12

func near(a, b float64) bool { return math.Abs(a-b) <= tol }

// log2of3 is log2(3), the rank-2 discount.
var log2of3 = math.Log2(3)

// TestEvaluateHandComputed checks single queries whose expected values are
// derived by hand in the comments.
func TestEvaluateHandComputed(t *testing.T) {
	nan := math.NaN()
	small := Options{NDCGCutoff: 2, RecallCutoff: 3, MRRCutoff: 10, MAPCutoff: 3}
	tests := []struct {
		name   string
		query  string
		judged map[string]int
		docs   map[string]float64
		opts   Options
		want   Metrics
		rel    int // want Relevant
		ret    int // want Retrieved
	}{
		{
			// Three-way tie at 1.0 ranks by id descending: c, b, a, then d.
			// Relevant: a(1), c(2), z(1, never retrieved) → 3.
			// nDCG@2: DCG = 2/log2(2) + 0/log2(3) = 2; IDCG = 2/1 + 1/log2(3).
			// Recall@3: c and a in the top 3 → 2/3.
			// MRR: c at rank 1 → 1.
			// MAP@3: precision at rank 1 (c) = 1/1, at rank 3 (a) = 2/3;
			//        (1 + 2/3) / 3 relevant = 5/9.
			name:   "graded ties by id descending",
			query:  "q1",
			judged: map[string]int{"a": 1, "b": 0, "c": 2, "z": 1},
			docs:   map[string]float64{"a": 1, "b": 1, "c": 1, "d": 0.5},
			opts:   small,
			want:   Metrics{NDCG: 2 / (2 + 1/log2of3), Recall: 2.0 / 3, MRR: 1, MAP: 5.0 / 9},
			rel:    3, ret: 4,
		},
		{
			// Byte order, not numeric: "d9" > "d10", so d9 ranks first and
			// the relevant d10 is second.
			// nDCG@10 = (1/log2(3)) / 1; Recall = 1; MRR = 1/2; MAP = (1/2)/1.
			name:   "tie order is bytewise",
			query:  "q",
			judged: map[string]int{"d10": 1},
			docs:   map[string]float64{"d9": 1, "d10": 1},
			want:   Metrics{NDCG: 1 / log2of3, Recall: 1, MRR: 0.5, MAP: 0.5},
			rel:    1, ret: 2,
		},
		{
			// IgnoreIdentical drops q7 itself; ranking d1, d2. Relevant: q7, d1.
			// nDCG@10: DCG = 1; IDCG = 1 + 1/log2(3).
			// Recall = 1/2; MRR = 1; MAP = (1/1) / 2.
			name:   "identical id ignored",
			query:  "q7",
			judged: map[string]int{"q7": 1, "d1": 1},
			docs:   map[string]float64{"q7": 5, "d1": 4, "d2": 3},
			opts:   Options{IgnoreIdentical: true},
			want:   Metrics{NDCG: 1 / (1 + 1/log2of3), Recall: 0.5, MRR: 1, MAP: 0.5},
			rel:    2, ret: 2,
		},
		{
			// Same query with identical ids kept: q7, d1 at ranks 1, 2 → perfect.
			name:   "identical id kept",
			query:  "q7",
			judged: map[string]int{"q7": 1, "d1": 1},
			docs:   map[string]float64{"q7": 5, "d1": 4, "d2": 3},
			want:   Metrics{NDCG: 1, Recall: 1, MRR: 1, MAP: 1},
			rel:    2, ret: 3,
		},
		{
			// The only relevant doc r (rel 3) is at rank 3, past every cutoff 2.
			name:   "relevant just past the cutoffs",
			query:  "q",
			judged: map[string]int{"r": 3},
			docs:   map[string]float64{"x": 3, "y": 2, "r": 1},
			opts:   Options{NDCGCutoff: 2, RecallCutoff: 2, MRRCutoff: 2, MAPCutoff: 2},
			want:   Metrics{},
			rel:    1, ret: 3,
		},
		{
			// Same ranking, cutoffs 3: nDCG = (3/log2(4)) / 3 = 1/2; Recall 1;
			// MRR 1/3; MAP = (1/3) / 1.
			name:   "relevant at the cutoff",
			query:  "q",
			judged: map[string]int{"r": 3},
			docs:   map[string]float64{"x": 3, "y": 2, "r": 1},
			opts:   Options{NDCGCutoff: 3, RecallCutoff: 3, MRRCutoff: 3, MAPCutoff: 3},
			want:   Metrics{NDCG: 0.5, Recall: 1, MRR: 1.0 / 3, MAP: 1.0 / 3},
			rel:    1, ret: 3,
		},
		{
			// A rel -2 doc at rank 1 gains 0 and is not relevant; p (rel 1)
			// at rank 2: nDCG = (1/log2(3)) / 1; MRR 1/2; MAP (1/2)/1.
			name:   "negative relevance is non-relevant",
			query:  "q",
			judged: map[string]int{"neg": -2, "p": 1},
			docs:   map[string]float64{"neg": 2, "p": 1},
			want:   Metrics{NDCG: 1 / log2of3, Recall: 1, MRR: 0.5, MAP: 0.5},
			rel:    1, ret: 2,
		},
		{
			// Judged but nothing relevant: every metric 0, as trec_eval.
			name:   "no relevant judgments",
			query:  "q",
			judged: map[string]int{"d1": 0, "d2": -1},
			docs:   map[string]float64{"d1": 2, "d2": 1},
			want:   Metrics{},
			rel:    0, ret: 2,
		},
		{
			// NaN ranks after -1, so n is at rank 2: MRR 1/2, nDCG 1/log2(3).
			name:   "NaN ranks last",
			query:  "q",
			judged: map[string]int{"n": 1},
			docs:   map[string]float64{"n": nan, "a": -1},
			want:   Metrics{NDCG: 1 / log2of3, Recall: 1, MRR: 0.5, MAP: 0.5},
			rel:    1, ret: 2,
		},
		{
			// Ideal DCG is cut at k too: relevant 3, 2, 1 retrieved in the
			// order 1, 3, 2 with k = 2.
			// DCG@2 = 1/1 + 3/log2(3); IDCG@2 = 3/1 + 2/log2(3).
			name:   "ideal cut at k",
			query:  "q",
			judged: map[string]int{"a": 1, "b": 3, "c": 2},
			docs:   map[string]float64{"a": 3, "b": 2, "c": 1},
			opts:   Options{NDCGCutoff: 2},
			want:   Metrics{NDCG: (1 + 3/log2of3) / (3 + 2/log2of3), Recall: 1, MRR: 1, MAP: 1},
			rel:    3, ret: 3,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := Evaluate(Qrels{tc.query: tc.judged}, Run{tc.query: tc.docs}, tc.opts)
			if len(rep.Queries) != 1 {
				t.Fatalf("got %d queries, want 1", len(rep.Queries))
			}
			got := rep.Queries[0]
			if !near(got.NDCG, tc.want.NDCG) || !near(got.Recall, tc.want.Recall) ||
				!near(got.MRR, tc.want.MRR) || !near(got.MAP, tc.want.MAP) {
				t.Errorf("metrics = %+v, want %+v", got.Metrics, tc.want)
			}
			if got.Relevant != tc.rel || got.Retrieved != tc.ret || !got.InRun {
				t.Errorf("Relevant, Retrieved, InRun = %d, %d, %v; want %d, %d, true",
					got.Relevant, got.Retrieved, got.InRun, tc.rel, tc.ret)
			}
			if rep.Mean != got.Metrics {
				t.Errorf("mean of one query = %+v, want %+v", rep.Mean, got.Metrics)
			}
		})
	}
}

// TestEvaluateQuerySet checks which queries count and how the mean is taken.
func TestEvaluateQuerySet(t *testing.T) {
	qrels := Qrels{
		"a":     {"d1": 1},
		"b":     {"d1": 1}, // judged, absent from the run: scores 0, counts in the mean
		"c":     {},        // no judgments: not evaluated
		"empty": {"d1": 1}, // in the run with no documents: scores 0, InRun
	}
	run := Run{
		"a":     {"d1": 1},
		"c":     {"d1": 1},
		"empty": {},
		"x":     {"d1": 1}, // not judged: ignored
	}
	rep := Evaluate(qrels, run, Options{})
	var ids []string
	for _, q := range rep.Queries {
		ids = append(ids, q.Query)
	}
	if want := []string{"a", "b", "empty"}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("evaluated %v, want %v", ids, want)
	}
	if rep.Missing != 1 || rep.Queries[1].InRun || !rep.Queries[2].InRun {
		t.Errorf("Missing = %d, InRun(b) = %v, InRun(empty) = %v; want 1, false, true",
			rep.Missing, rep.Queries[1].InRun, rep.Queries[2].InRun)
	}
	// a scores 1 everywhere, b and empty 0: every mean is 1/3.
	third := 1.0 / 3
	if want := (Metrics{third, third, third, third}); rep.Mean != want {
		t.Errorf("mean = %+v, want %+v", rep.Mean, want)
	}

	if rep := Evaluate(nil, run, Options{}); len(rep.Queries) != 0 || rep.Mean != (Metrics{}) {
		t.Errorf("no qrels: %+v, want no queries and zero mean", rep)
	}
}

func TestOptionsDefaults(t *testing.T) {
	rep := Evaluate(Qrels{}, Run{}, Options{NDCGCutoff: -3, MAPCutoff: 7})
	want := Options{NDCGCutoff: 10, MRRCutoff: 10, RecallCutoff: 100, MAPCutoff: 7}
	if rep.Options != want {
		t.Errorf("effective options = %+v, want %+v", rep.Options, want)
	}
	want = Options{NDCGCutoff: 10, MRRCutoff: 10, RecallCutoff: 100, MAPCutoff: 100, IgnoreIdentical: true}
	if got := BEIR(); got != want {
		t.Errorf("BEIR() = %+v, want %+v", got, want)
	}
}

func TestEvaluateDoesNotModifyInputs(t *testing.T) {
	qrels := Qrels{"q1": {"q1": 1, "d1": 2}, "q2": {"d2": 1}}
	run := Run{"q1": {"q1": 9, "d1": 1, "d3": 0.5}, "q3": {"d1": 1}}
	qc, rc := cloneQrels(qrels), cloneRun(run)
	Evaluate(qrels, run, BEIR())
	if !reflect.DeepEqual(qrels, qc) || !reflect.DeepEqual(run, rc) {
		t.Errorf("Evaluate modified its inputs:\nqrels %v\nrun %v", qrels, run)
	}
}

// TestEvaluateRandomInvariants checks, on seeded random data, properties
// every correct implementation has: values in [0, 1]; MRR is 0 or 1/r with
// r <= k; and a run that ranks exactly the relevant documents by relevance
// is perfect.
func TestEvaluateRandomInvariants(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for iter := range 200 {
		qrels, run := randomData(rng, 5)
		opts := Options{
			NDCGCutoff: 1 + rng.IntN(12), RecallCutoff: 1 + rng.IntN(12),
			MRRCutoff: 1 + rng.IntN(12), MAPCutoff: 1 + rng.IntN(12), IgnoreIdentical: rng.IntN(2) == 0,
		}
		rep := Evaluate(qrels, run, opts)
		for _, q := range rep.Queries {
			checkRange(t, q.Metrics)
			if q.MRR != 0 {
				r := math.Round(1 / q.MRR)
				if r > float64(opts.MRRCutoff) || !near(q.MRR, 1/r) {
					t.Fatalf("iter %d query %s: MRR %v is not 1/r with r <= %d", iter, q.Query, q.MRR, opts.MRRCutoff)
				}
			}
		}

		// Perfect run: relevant docs only, scored by relevance; every one
		// fits within the cutoffs.
		perfect := Run{}
		for q, judged := range qrels {
			perfect[q] = map[string]float64{}
			for d, rel := range judged {
				if rel > 0 && d != q {
					perfect[q][d] = float64(rel)
				}
			}
		}
		big := Options{NDCGCutoff: 50, RecallCutoff: 50, MRRCutoff: 50, MAPCutoff: 50}
		for _, q := range Evaluate(qrels, perfect, big).Queries {
			if q.Relevant == 0 || qrels[q.Query][q.Query] > 0 {
				continue // nothing to find, or a relevant self-judgment left out above
			}
			if !near(q.NDCG, 1) || q.Recall != 1 || q.MRR != 1 || q.MAP != 1 {
				t.Fatalf("iter %d query %s: perfect run scored %+v", iter, q.Query, q.Metrics)
			}
		}
	}
}

func checkRange(t *testing.T, m Metrics) {
	t.Helper()
	for _, v := range []float64{m.NDCG, m.Recall, m.MRR, m.MAP} {
		if !(v >= 0 && v <= 1+tol) {
			t.Fatalf("metric out of [0, 1]: %+v", m)
		}
	}
}

// randomData returns up to nq queries over a small document pool, with ties
// and ids that overlap query ids.
func randomData(rng *rand.Rand, nq int) (Qrels, Run) {
	ids := []string{"d1", "d2", "d9", "d10", "d11", "d100", "q1", "q2", "x", "y"}
	qrels, run := Qrels{}, Run{}
	for i := range nq {
		q := []string{"q1", "q2", "q3", "q4", "q5"}[i]
		judged, docs := map[string]int{}, map[string]float64{}
		for _, d := range ids {
			if rng.IntN(3) == 0 {
				judged[d] = rng.IntN(5) - 1
			}
			if rng.IntN(2) == 0 {
				docs[d] = float64(rng.IntN(6)) / 2
			}
		}
		if rng.IntN(4) > 0 {
			qrels[q] = judged
		}
		if rng.IntN(5) > 0 {
			run[q] = docs
		}
	}
	return qrels, run
}

func cloneQrels(q Qrels) Qrels {
	c := Qrels{}
	for k, v := range q {
		c[k] = maps.Clone(v)
	}
	return c
}

func cloneRun(r Run) Run {
	c := Run{}
	for k, v := range r {
		c[k] = maps.Clone(v)
	}
	return c
}

// FuzzEvaluate decodes bytes into a small qrels/run pair and checks that
// Evaluate never panics, stays within [0, 1] and is deterministic.
func FuzzEvaluate(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, uint8(3))
	f.Add([]byte{0, 0, 0, 0, 255, 255, 128, 7}, uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, k uint8) {
		ids := []string{"q0", "q1", "d0", "d1", "d10", "d9", ""}
		qrels, run := Qrels{}, Run{}
		for i := 0; i+2 < len(data); i += 3 {
			q := ids[int(data[i]>>4)%2]
			d := ids[int(data[i]&0x0f)%len(ids)]
			if data[i+1]&1 == 0 {
				if qrels[q] == nil {
					qrels[q] = map[string]int{}
				}
				qrels[q][d] = int(int8(data[i+2])) % 4
			} else {
				if run[q] == nil {
					run[q] = map[string]float64{}
				}
				s := float64(int8(data[i+2])) / 8
				if data[i+2] == 0x80 {
					s = math.NaN()
				}
				run[q][d] = s
			}
		}
		opts := Options{NDCGCutoff: int(k % 5), MRRCutoff: int(k % 3), RecallCutoff: int(k % 7), MAPCutoff: int(k), IgnoreIdentical: k&1 == 1}
		a, b := Evaluate(qrels, run, opts), Evaluate(qrels, run, opts)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("not deterministic:\n%+v\n%+v", a, b)
		}
		for _, q := range a.Queries {
			checkRange(t, q.Metrics)
		}
		checkRange(t, a.Mean)
	})
}

func BenchmarkEvaluate(b *testing.B) {
	// SciFact-sized: 300 queries, 100 retrieved each, ~1.1 judgments each.
	rng := rand.New(rand.NewPCG(1, 2))
	qrels, run := Qrels{}, Run{}
	for i := range 300 {
		q := "q" + strconv.Itoa(i)
		qrels[q] = map[string]int{"d" + strconv.Itoa(rng.IntN(5000)): 1}
		docs := make(map[string]float64, 100)
		for len(docs) < 100 {
			docs["d"+strconv.Itoa(rng.IntN(5000))] = rng.Float64() * 20
		}
		run[q] = docs
	}
	opts := BEIR()
	b.ReportAllocs()
	for b.Loop() {
		Evaluate(qrels, run, opts)
	}
}
