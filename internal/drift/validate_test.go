package drift_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/quarry-rag/quarry/internal/drift"
	"github.com/quarry-rag/quarry/internal/drift/driftcheck"
	"github.com/quarry-rag/quarry/internal/embed"
	"github.com/quarry-rag/quarry/internal/models/hub"
)

func datasets() string {
	if d := os.Getenv("QUARRY_DATASETS"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "datasets")
}

var corpus struct {
	once sync.Once
	c    *driftcheck.Corpus
	err  error
}

// realCorpus embeds SciFact's queries and 50 XQuAD questions per language
// with multilingual-e5-small, once per test run.
func realCorpus(t *testing.T) *driftcheck.Corpus {
	t.Helper()
	const model = "multilingual-e5-small"
	if _, err := hub.Resolve(model); err != nil {
		t.Skipf("model %s is not in the model cache (%v): run `make models`", model, err)
	}
	if _, err := os.Stat(filepath.Join(datasets(), "xquad", "en", "queries.jsonl")); err != nil {
		t.Skipf("XQuAD absent (set QUARRY_DATASETS): %v", err)
	}
	corpus.once.Do(func() {
		emb, err := embed.NewLocal(model, embed.LocalOptions{})
		if err != nil {
			corpus.err = err
			return
		}
		defer emb.Close()
		start := time.Now()
		corpus.c, corpus.err = driftcheck.Load(context.Background(), emb, datasets(), 50)
		t.Logf("embedded the queries in %v", time.Since(start).Round(time.Millisecond))
	})
	if corpus.err != nil {
		t.Fatal(corpus.err)
	}
	return corpus.c
}

// TestRealShift: SciFact claims against XQuAD questions must alarm, two
// disjoint random halves of SciFact must not, over 20 seeded splits each.
func TestRealShift(t *testing.T) {
	c := realCorpus(t)
	r := driftcheck.Run(c, 20, drift.Options{})
	t.Logf("window %d queries per side, %d reps: detection %.2f (English-only XQuAD %.2f), false alarms %.2f, smallest null p %.3g",
		r.WindowSize, r.Reps, r.Detection, r.DetectionEn, r.FalseAlarm, r.MinNullP)
	if r.Detection < 0.95 {
		t.Errorf("detection rate %.2f < 0.95 on SciFact vs XQuAD", r.Detection)
	}
	if r.FalseAlarm > 0.05 {
		t.Errorf("false-alarm rate %.2f > 0.05 on SciFact halves", r.FalseAlarm)
	}
}
