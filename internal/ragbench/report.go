package ragbench

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/quarry-rag/quarry/internal/eval"
)

// StageLatency is a nearest-rank p50/p99 of one stage, in milliseconds.
type StageLatency struct {
	P50 float64 `json:"p50_ms"`
	P99 float64 `json:"p99_ms"`
}

// Report is the JSON contract of `quarry eval rag --json`.
type Report struct {
	Dataset      string `json:"dataset"`
	Method       string `json:"method"`
	Mode         string `json:"mode,omitempty"`
	Model        string `json:"model,omitempty"`
	JudgeModel   string `json:"judge_model,omitempty"`
	K            int    `json:"k"`
	MaxSentences int    `json:"max_sentences"`
	Lang         string `json:"lang"`
	// Questions is the number asked; Errors of them failed (no scores);
	// Partial is set when the run stopped early.
	Questions   int  `json:"questions"`
	Errors      int  `json:"errors"`
	JudgeErrors int  `json:"judge_errors"`
	Partial     bool `json:"partial,omitempty"`
	// Metrics are means over the questions scored on each (Counts).
	Metrics map[Metric]float64 `json:"metrics"`
	Counts  map[Metric]int     `json:"counts"`
	// Latency per stage: retrieval, rerank, generation, total.
	Latency map[string]StageLatency `json:"latency"`
	// TokensPerSecond is completion tokens over generation time (llm only).
	TokensPerSecond float64  `json:"tokens_per_second,omitempty"`
	WallSeconds     float64  `json:"wall_seconds"`
	Results         []Result `json:"results,omitempty"`
}

func (rep *Report) summarize(asked int) {
	rep.Questions = len(rep.Results)
	if rep.Questions < asked {
		rep.Partial = true
	}
	sums := map[Metric]float64{}
	rep.Counts = map[Metric]int{}
	stages := map[string][]time.Duration{}
	tokens, genMs := 0, 0.0
	for _, r := range rep.Results {
		if r.Error != "" {
			rep.Errors++
			continue
		}
		rep.JudgeErrors += len(r.JudgeErrors)
		for m, v := range r.Scores {
			sums[m] += v
			rep.Counts[m]++
		}
		add := func(name string, ms float64) {
			stages[name] = append(stages[name], time.Duration(ms*float64(time.Millisecond)))
		}
		add("retrieval", r.Timings.Retrieve)
		add("rerank", r.Timings.Rerank)
		add("generation", r.Timings.Generate)
		add("total", r.Timings.Total)
		if r.Tokens > 0 {
			tokens += r.Tokens
			genMs += r.Timings.Generate
		}
	}
	rep.Metrics = map[Metric]float64{}
	for m, s := range sums {
		rep.Metrics[m] = s / float64(rep.Counts[m])
	}
	rep.Latency = map[string]StageLatency{}
	for name, d := range stages {
		slices.Sort(d)
		rep.Latency[name] = StageLatency{P50: msf(eval.Percentile(d, 50)), P99: msf(eval.Percentile(d, 99))}
	}
	if genMs > 0 {
		rep.TokensPerSecond = float64(tokens) / (genMs / 1000)
	}
}

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Text renders the summary for people.
func (rep *Report) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rag eval: %s, method %s", rep.Dataset, rep.Method)
	if rep.Mode != "" {
		fmt.Fprintf(&b, ", mode %s", rep.Mode)
	}
	fmt.Fprintf(&b, ", k %d, %d questions (%d errors, %d judge errors)", rep.K, rep.Questions, rep.Errors, rep.JudgeErrors)
	if rep.Partial {
		b.WriteString(", PARTIAL")
	}
	b.WriteByte('\n')
	for _, m := range AllMetrics {
		if v, ok := rep.Metrics[m]; ok {
			fmt.Fprintf(&b, "  %-26s %.4f  (n=%d)\n", m, v, rep.Counts[m])
		}
	}
	for _, s := range []string{"retrieval", "rerank", "generation", "total"} {
		if l, ok := rep.Latency[s]; ok {
			fmt.Fprintf(&b, "  %-26s p50 %.2f ms, p99 %.2f ms\n", s, l.P50, l.P99)
		}
	}
	if rep.TokensPerSecond > 0 {
		fmt.Fprintf(&b, "  %-26s %.1f\n", "tokens/s", rep.TokensPerSecond)
	}
	fmt.Fprintf(&b, "  %-26s %.2f s\n", "wall", rep.WallSeconds)
	return b.String()
}

// LoadReport reads a report written by `quarry eval rag --json`.
func LoadReport(path string) (*Report, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rep Report
	if err := json.Unmarshal(raw, &rep); err != nil {
		return nil, fmt.Errorf("%s: not a `quarry eval rag --json` report: %w", path, err)
	}
	if rep.Dataset == "" || rep.Metrics == nil {
		return nil, fmt.Errorf("%s: not a `quarry eval rag --json` report (no dataset or metrics)", path)
	}
	return &rep, nil
}
