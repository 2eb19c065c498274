// Package driftcheck validates drift detection on real query shifts: it
// embeds SciFact and XQuAD questions with a real encoder and measures how
// often drift.Compare alarms on SciFact against XQuAD (detection rate) and
// on two disjoint random halves of SciFact (false-alarm rate), over
// repeated seeded splits. The drift test and bench/driftcheck share it.
package driftcheck

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/quarry-rag/quarry/internal/drift"
	"github.com/quarry-rag/quarry/internal/embed"
)

// XQuADLanguages are the XQuAD sets of the shared datasets.
var XQuADLanguages = []string{"en", "de", "es", "zh", "ar", "hi", "ru"}

// ReadQueries returns the "text" of every line of a BEIR queries.jsonl.
func ReadQueries(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var q struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(sc.Bytes(), &q); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if q.Text != "" {
			out = append(out, q.Text)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// Corpus is the embedded query sets.
type Corpus struct {
	SciFact [][]float32
	XQuAD   [][]float32 // perLang questions of each language, seeded pick
	XQuADEn [][]float32 // the English part of XQuAD
}

// Load reads SciFact's queries and perLang random XQuAD questions per
// language from datasets (the QUARRY_DATASETS folder) and embeds them as
// queries with emb.
func Load(ctx context.Context, emb embed.Embedder, datasets string, perLang int) (*Corpus, error) {
	sf, err := ReadQueries(filepath.Join(datasets, "beir", "scifact", "queries.jsonl"))
	if err != nil {
		return nil, err
	}
	var xq []string
	nEn := 0
	rng := rand.New(rand.NewPCG(7, 7))
	for _, lang := range XQuADLanguages {
		qs, err := ReadQueries(filepath.Join(datasets, "xquad", lang, "queries.jsonl"))
		if err != nil {
			return nil, err
		}
		rng.Shuffle(len(qs), func(i, j int) { qs[i], qs[j] = qs[j], qs[i] })
		qs = qs[:min(perLang, len(qs))]
		if lang == "en" {
			nEn = len(qs)
		}
		xq = append(xq, qs...)
	}
	c := &Corpus{}
	if c.SciFact, err = emb.Embed(ctx, sf, embed.Query); err != nil {
		return nil, err
	}
	if c.XQuAD, err = emb.Embed(ctx, xq, embed.Query); err != nil {
		return nil, err
	}
	c.XQuADEn = c.XQuAD[:nEn]
	return c, nil
}

// Rates are the outcome of a validation run.
type Rates struct {
	Reps        int
	WindowSize  int     // queries per side
	Detection   float64 // share of SciFact-vs-XQuAD comparisons that alarmed
	DetectionEn float64 // the same against English-only XQuAD
	FalseAlarm  float64 // share of SciFact-half-vs-half comparisons that alarmed
	MinNullP    float64 // smallest embedding p-value among the half-vs-half comparisons that did not alarm
}

// Run compares, reps times with seeds 1…reps: a random half of SciFact
// against the other half (false alarms), and that half against as many
// random XQuAD questions (detection), each side passed through a
// drift.Window of the default size.
func Run(c *Corpus, reps int, opts drift.Options) Rates {
	half := len(c.SciFact) / 2
	r := Rates{Reps: reps, WindowSize: half, MinNullP: 1}
	var det, detEn, fa int
	for rep := 1; rep <= reps; rep++ {
		rng := rand.New(rand.NewPCG(uint64(rep), 99))
		sf := shuffled(rng, c.SciFact)
		a, b := sf[:half], sf[half:2*half]
		x := shuffled(rng, c.XQuAD)[:min(half, len(c.XQuAD))]
		xe := shuffled(rng, c.XQuADEn)[:min(half, len(c.XQuADEn))]
		o := opts
		o.Seed = uint64(rep)
		wa := window(a, rep)
		if rp := drift.Compare(wa, window(b, rep+1000), o); rp.Verdict == drift.Drift {
			fa++
		} else if p := rp.Results[0].PValue; p < r.MinNullP {
			r.MinNullP = p
		}
		if drift.Compare(wa, window(x, rep+2000), o).Verdict == drift.Drift {
			det++
		}
		if drift.Compare(wa, window(xe, rep+3000), o).Verdict == drift.Drift {
			detEn++
		}
	}
	r.Detection = float64(det) / float64(reps)
	r.DetectionEn = float64(detEn) / float64(reps)
	r.FalseAlarm = float64(fa) / float64(reps)
	return r
}

func shuffled(rng *rand.Rand, v [][]float32) [][]float32 {
	c := append([][]float32(nil), v...)
	rng.Shuffle(len(c), func(i, j int) { c[i], c[j] = c[j], c[i] })
	return c
}

func window(vecs [][]float32, seed int) *drift.Sample {
	w := drift.NewWindow(drift.WindowOptions{Seed: uint64(seed)})
	for _, v := range vecs {
		w.ObserveQuery(v, 0, true) // embeddings only: no retrieval here
	}
	return w.Sample()
}
