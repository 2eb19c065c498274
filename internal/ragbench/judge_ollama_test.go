package ragbench

import (
	"context"
	"os"
	"testing"
	"time"
)

// TestJudgeOllama runs the judge end to end against the local model
// (eval "$(bash scripts/llm.sh)" sets QUARRY_LLM_URL and QUARRY_LLM_MODEL):
// every metric is either scored within [0, 1] or reported as a judge
// error, never both and never neither. A small model often fails the JSON
// schema; that is what judge_errors is for.
func TestJudgeOllama(t *testing.T) {
	url, model := os.Getenv("QUARRY_LLM_URL"), os.Getenv("QUARRY_LLM_MODEL")
	if url == "" || model == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("QUARRY_LLM_URL and QUARRY_LLM_MODEL are not set (make test starts the local model)")
		}
		t.Skip("no local model (eval \"$(bash scripts/llm.sh)\")")
	}
	j, err := NewJudge(JudgeConfig{URL: url, Model: model, Timeout: 10 * time.Minute, Embedding: "all-MiniLM-L6-v2",
		Attempts: 1}) // greedy decoding repeats itself: one try per metric keeps the run short
	if err != nil {
		t.Skipf("judge: %v", err)
	}
	defer j.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	in := JudgeInput{
		Question:  "How many sacks did Jared Allen have in his career?",
		Answer:    "Jared Allen had 136 career sacks.",
		Contexts:  []string{"The Panthers line also featured veteran defensive end Jared Allen, a 5-time pro bowler who was the NFL's active career sack leader with 136."},
		Reference: "136",
	}
	scores, errs := j.Score(ctx, in)
	t.Logf("%s: scores %v, judge errors %q", model, scores, errs)
	if len(scores)+len(errs) != 4 {
		t.Fatalf("%d scores and %d errors for 4 metrics", len(scores), len(errs))
	}
	for m, v := range scores {
		if !(v >= 0 && v <= 1) {
			t.Errorf("%s = %v, outside [0, 1]", m, v)
		}
	}
}
