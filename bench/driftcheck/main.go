// Command driftcheck prints drift detection and false-alarm rates on real
// query shifts: SciFact claims against XQuAD questions (7 languages, and
// English only) must alarm; two disjoint random halves of SciFact must
// not. It embeds the queries once with a real local encoder, then runs
// -reps seeded splits through drift.Window and drift.Compare.
//
//	go run ./bench/driftcheck -reps 50
//	go run ./bench/driftcheck -save /tmp/w   # also writes windows for `quarry drift report`
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/quarry-rag/quarry/internal/drift"
	"github.com/quarry-rag/quarry/internal/drift/driftcheck"
	"github.com/quarry-rag/quarry/internal/embed"
)

func main() {
	model := flag.String("model", "multilingual-e5-small", "local embedding model")
	datasets := flag.String("datasets", os.Getenv("QUARRY_DATASETS"), "shared datasets folder ($QUARRY_DATASETS)")
	reps := flag.Int("reps", 20, "random splits per comparison")
	perLang := flag.Int("per-lang", 50, "XQuAD questions per language")
	alpha := flag.Float64("alpha", 0.01, "family-wise false-alarm rate")
	save := flag.String("save", "", "folder to write a SciFact-half, the other half and an XQuAD window to")
	flag.Parse()
	if err := run(*model, *datasets, *reps, *perLang, *alpha, *save); err != nil {
		fmt.Fprintln(os.Stderr, "driftcheck:", err)
		os.Exit(1)
	}
}

func run(model, datasets string, reps, perLang int, alpha float64, save string) error {
	if datasets == "" {
		return fmt.Errorf("set -datasets or QUARRY_DATASETS")
	}
	if reps < 1 || perLang < 1 {
		return fmt.Errorf("-reps and -per-lang must be positive")
	}
	emb, err := embed.NewLocal(model, embed.LocalOptions{})
	if err != nil {
		return err
	}
	defer emb.Close()
	start := time.Now()
	c, err := driftcheck.Load(context.Background(), emb, datasets, perLang)
	if err != nil {
		return err
	}
	fmt.Printf("model %s: embedded %d SciFact and %d XQuAD queries in %v\n", model, len(c.SciFact), len(c.XQuAD), time.Since(start).Round(time.Millisecond))
	start = time.Now()
	r := driftcheck.Run(c, reps, drift.Options{Alpha: alpha})
	fmt.Printf("window: %d queries per side, alpha %.3g, %d reps (%v)\n", r.WindowSize, alpha, r.Reps, time.Since(start).Round(time.Millisecond))
	fmt.Printf("detection, SciFact vs XQuAD (7 languages): %.3f\n", r.Detection)
	fmt.Printf("detection, SciFact vs XQuAD English:       %.3f\n", r.DetectionEn)
	fmt.Printf("false alarms, SciFact half vs half:         %.3f (smallest p among the rest: %.3g)\n", r.FalseAlarm, r.MinNullP)
	if save == "" {
		return nil
	}
	// Random halves: queries.jsonl is sorted, and its contiguous halves
	// differ a little (claims starting with digits and A–M against N–Z).
	sf := slices.Clone(c.SciFact)
	rand.New(rand.NewPCG(1, 1)).Shuffle(len(sf), func(i, j int) { sf[i], sf[j] = sf[j], sf[i] })
	half := len(sf) / 2
	for name, vecs := range map[string][][]float32{
		"scifact-a.json": sf[:half], "scifact-b.json": sf[half : 2*half], "xquad.json": c.XQuAD[:min(half, len(c.XQuAD))],
	} {
		w := drift.NewWindow(drift.WindowOptions{Seed: 1})
		for _, v := range vecs {
			w.ObserveQuery(v, 0, true)
		}
		f, err := os.Create(filepath.Join(save, name))
		if err != nil {
			return err
		}
		if err := drift.WriteSample(f, w.Sample()); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	fmt.Printf("windows written to %s\n", save)
	return nil
}
