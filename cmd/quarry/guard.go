package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/spf13/pflag"
	"math"
	"os"
	"sort"
	"time"

	"github.com/quarry-rag/quarry/internal/guard"
	"github.com/quarry-rag/quarry/internal/models/hub"
)

func openGuard(threshold float64) (*guard.Detector, error) {
	d, err := guard.OpenLocal(&guard.Options{Threshold: threshold})
	if errors.Is(err, hub.ErrNotFound) {
		return nil, fmt.Errorf("%w (fetch it with `make models` or `quarry models pull multilingual-e5-small`)", err)
	}
	return d, err
}

func setupGuardCheck(env *cliEnv, fs *pflag.FlagSet) runFunc {
	threshold := fs.Float64("threshold", 0, "decision threshold in (0, 1) (default: the head's)")
	return func(ctx context.Context, texts []string) error {
		if len(texts) == 0 {
			return usagef("give one or more TEXT arguments")
		}
		if *threshold < 0 || *threshold >= 1 {
			return usagef("--threshold %v outside (0, 1)", *threshold)
		}
		d, err := openGuard(*threshold)
		if err != nil {
			return err
		}
		defer d.Close()
		type out struct {
			Label string  `json:"label"`
			Score float64 `json:"score"`
			Text  string  `json:"text"`
		}
		var rows []out
		for _, t := range texts {
			s, err := d.Score(ctx, t)
			if err != nil {
				return err
			}
			label := "benign"
			if s >= d.Threshold() {
				label = "injection"
			}
			rows = append(rows, out{label, round(s, 4), t})
		}
		if env.json {
			return printJSON(env.stdout, rows)
		}
		for _, r := range rows {
			fmt.Fprintf(env.stdout, "%s\t%.4f\n", r.Label, r.Score)
		}
		return nil
	}
}

// guardEval is exactly what `quarry guard eval --json` prints.
type guardEval struct {
	N         int     `json:"n"`
	Accuracy  float64 `json:"accuracy"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	FPR       float64 `json:"fpr"`
	P50Ms     float64 `json:"p50_ms"`
}

func setupGuardEval(env *cliEnv, fs *pflag.FlagSet) runFunc {
	dataset := fs.String("dataset", "", "JSONL file of {\"text\", \"label\"} lines (1 = injection)")
	threshold := fs.Float64("threshold", 0, "decision threshold in (0, 1) (default: the head's)")
	return func(ctx context.Context, rest []string) error {
		if *dataset == "" || len(rest) > 0 {
			return usagef("usage: quarry guard eval --dataset FILE.jsonl [--json]")
		}
		if *threshold < 0 || *threshold >= 1 {
			return usagef("--threshold %v outside (0, 1)", *threshold)
		}
		f, err := os.Open(*dataset)
		if err != nil {
			return err
		}
		exs, err := guard.ReadJSONL(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", *dataset, err)
		}
		if len(exs) == 0 {
			return fmt.Errorf("%s: no examples", *dataset)
		}
		d, err := openGuard(*threshold)
		if err != nil {
			return err
		}
		defer d.Close()
		var tp, fp, tn, fn int
		lat := make([]float64, 0, len(exs))
		for _, e := range exs {
			start := time.Now()
			s, err := d.Score(ctx, e.Text)
			if err != nil {
				return err
			}
			lat = append(lat, float64(time.Since(start).Microseconds())/1000)
			pos := s >= d.Threshold()
			switch {
			case pos && e.Label == 1:
				tp++
			case pos:
				fp++
			case e.Label == 1:
				fn++
			default:
				tn++
			}
		}
		sort.Float64s(lat)
		r := guardEval{
			N:         len(exs),
			Accuracy:  ratio(tp+tn, len(exs)),
			Precision: ratio(tp, tp+fp),
			Recall:    ratio(tp, tp+fn),
			FPR:       ratio(fp, fp+tn),
			P50Ms:     round(lat[len(lat)/2], 3),
		}
		if r.Precision+r.Recall > 0 {
			r.F1 = round(2*r.Precision*r.Recall/(r.Precision+r.Recall), 4)
		}
		if env.json {
			return printJSON(env.stdout, r)
		}
		fmt.Fprintf(env.stdout, "n %d  accuracy %.4f  precision %.4f  recall %.4f  f1 %.4f  fpr %.4f  p50 %.3f ms\n",
			r.N, r.Accuracy, r.Precision, r.Recall, r.F1, r.FPR, r.P50Ms)
		return nil
	}
}

// ratio is a/b rounded to 4 places, 0 when b is 0.
func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return round(float64(a)/float64(b), 4)
}

func round(x float64, places int) float64 {
	p := math.Pow(10, float64(places))
	return math.Round(x*p) / p
}
