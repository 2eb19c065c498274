package eval

import (
	"github.com/quarry-rag/quarry/internal/testutil"

	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ragasPython returns the Python of a venv with the ragas package
// (testdata/ragas-requirements.txt), creating it under
// $QUARRY_HOME/venv-ragas (default ~/.cache/quarry) on first use. Without
// python3 or pip it skips, or fails under CI=true.
func ragasPython(t *testing.T) string {
	return testutil.Venv(t, "venv-ragas", filepath.Join("testdata", "ragas-requirements.txt"))
}

type crossSample struct {
	Retrieved  []string `json:"retrieved"`
	Reference  []string `json:"reference"`
	Prediction string   `json:"prediction"`
	Golds      []string `json:"golds"`
}

// Word pools with punctuation, articles, accents, CJK and Arabic text, so
// that normalisation and code-point distances are exercised.
var crossWords = strings.Fields(`the a an The An THE Denver Broncos Super Bowl 50 (2016) 24–10 défense
	l'équipe über Straße $1,000 3.5% "quoted" it's U.S. co-op Tesla's 丹佛 野马队 超级碗 في الدوري
	Санта-Клара über-cool _under_ a.m. p.m. theatre another anthem`)

// mutate applies about rate·len(s) random character edits to s.
func mutate(r *rand.Rand, s string, rate float64) string {
	rs := []rune(s)
	alphabet := []rune("abcdefghij xyz.,éü丹ال")
	n := int(rate * float64(len(rs)))
	for range n {
		switch i := r.IntN(len(rs) + 1); {
		case r.IntN(3) == 0 || len(rs) == 0:
			rs = append(rs[:i], append([]rune{alphabet[r.IntN(len(alphabet))]}, rs[i:]...)...)
		case i == len(rs):
			rs = rs[:len(rs)-1]
		case r.IntN(2) == 0:
			rs = append(rs[:i], rs[i+1:]...)
		default:
			rs[i] = alphabet[r.IntN(len(alphabet))]
		}
	}
	return string(rs)
}

func phrase(r *rand.Rand, n int) string {
	w := make([]string, n)
	for i := range w {
		w[i] = crossWords[r.IntN(len(crossWords))]
	}
	return strings.Join(w, " ")
}

func crossSamples(n int) []crossSample {
	r := rand.New(rand.NewPCG(14, 2026))
	out := make([]crossSample, n)
	for i := range out {
		var s crossSample
		for range 1 + r.IntN(5) {
			s.Retrieved = append(s.Retrieved, phrase(r, 3+r.IntN(20)))
		}
		for range 1 + r.IntN(3) {
			if r.IntN(4) == 0 {
				s.Reference = append(s.Reference, phrase(r, 3+r.IntN(20)))
			} else {
				// Near a retrieved context: edits around the 0.5 threshold.
				s.Reference = append(s.Reference, mutate(r, s.Retrieved[r.IntN(len(s.Retrieved))], r.Float64()*0.9))
			}
		}
		if i%17 == 0 {
			s.Reference = append(s.Reference, s.Retrieved[0]) // an exact copy
		}
		gold := phrase(r, 1+r.IntN(4))
		s.Golds = []string{gold, phrase(r, 1+r.IntN(3))}
		switch r.IntN(4) {
		case 0:
			s.Prediction = strings.ToUpper(gold) + "."
		case 1:
			s.Prediction = "the " + gold + " " + phrase(r, r.IntN(4))
		case 2:
			s.Prediction = phrase(r, r.IntN(6))
		default:
			s.Prediction = mutate(r, gold, 0.3)
		}
		out[i] = s
	}
	return out
}

// TestCrossCheckRAGAS scores 300 samples with this package and with the
// ragas package from PyPI (and the official SQuAD v1.1 formulas) and
// requires agreement to 1e-6 on every sample.
func TestCrossCheckRAGAS(t *testing.T) {
	py := ragasPython(t)
	samples := crossSamples(300)
	in, err := json.Marshal(samples)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, filepath.Join("testdata", "ragas_check.py"))
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("ragas_check.py: %v\n%s", err, stderr.Bytes())
	}
	var ref struct {
		Version string `json:"ragas_version"`
		Scores  []struct {
			Similarity       float64 `json:"similarity"`
			ContextPrecision float64 `json:"context_precision"`
			ContextRecall    float64 `json:"context_recall"`
			ExactMatch       float64 `json:"exact_match"`
			F1               float64 `json:"f1"`
		} `json:"scores"`
	}
	if err := json.Unmarshal(out, &ref); err != nil {
		t.Fatalf("decoding ragas_check.py output: %v", err)
	}
	if len(ref.Scores) != len(samples) {
		t.Fatalf("ragas scored %d samples, want %d", len(ref.Scores), len(samples))
	}
	sq := Normalizer{Mode: NormSQuAD}
	var nearThreshold, emOnes int
	for i, s := range samples {
		w := ref.Scores[i]
		got := map[string][2]float64{
			"similarity":        {StringSimilarity(s.Retrieved[0], s.Reference[0]), w.Similarity},
			"context_precision": {ContextPrecision(s.Retrieved, s.Reference, ContextThreshold), w.ContextPrecision},
			"context_recall":    {ContextRecall(s.Retrieved, s.Reference, ContextThreshold), w.ContextRecall},
			"exact_match":       {sq.ExactMatch(s.Prediction, s.Golds), w.ExactMatch},
			"f1":                {sq.F1(s.Prediction, s.Golds), w.F1},
		}
		for name, v := range got {
			if math.Abs(v[0]-v[1]) > 1e-6 {
				t.Errorf("sample %d %s: quarry %.9f, reference %.9f\n%+v", i, name, v[0], v[1], s)
			}
		}
		if math.Abs(w.Similarity-ContextThreshold) < 0.1 {
			nearThreshold++
		}
		emOnes += int(w.ExactMatch)
	}
	// The samples must exercise the interesting cases, or agreement proves little.
	if nearThreshold < 10 || emOnes < 10 {
		t.Errorf("weak samples: %d similarities near the threshold, %d exact matches", nearThreshold, emOnes)
	}
	t.Logf("ragas %s: %d samples agree to 1e-6 (%d similarities within 0.1 of the threshold, %d exact matches)",
		ref.Version, len(samples), nearThreshold, emOnes)
}
