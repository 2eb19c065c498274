package server

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/drift"
)

// TestDriftWired: with the engine recording into the server's monitor
// (as quarry serve wires them), searches, answers and ratings fill the
// collection's current window: each hybrid search one query embedding of
// the model's dimension and one top-1 score, each BM25 search that finds
// nothing an empty query, each answer and rating a count.
func TestDriftWired(t *testing.T) {
	mon := drift.NewMonitor(drift.MonitorOptions{})
	h := newHarnessEngine(t, Options{Drift: mon, FeedbackDir: t.TempDir()},
		&quarry.Options{Drift: func(c string) quarry.DriftRecorder { return mon.Recorder(c) }})
	h.do("PUT", "/v1/collections/rocks", map[string]any{"embedding": embeddingModel}).mustStatus(t, http.StatusCreated)
	seedRocks(t, h)
	window := func() *drift.Sample {
		r := h.do("GET", "/v1/collections/rocks/drift/windows/current", nil).mustStatus(t, http.StatusOK)
		s, err := drift.ReadSample(bytes.NewReader(r.body))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := window(); s.Counts.Queries != 0 {
		t.Fatalf("before any search: %+v", s.Counts)
	}
	for _, q := range []string{"granite", "lava cooling", "rivers and valleys", "quartz"} {
		h.do("POST", "/v1/collections/rocks/search", map[string]any{"query": q, "mode": "hybrid"}).mustStatus(t, http.StatusOK)
	}
	h.do("POST", "/v1/collections/rocks/search", map[string]any{"query": "zzzqqq", "mode": "bm25"}).mustStatus(t, http.StatusOK)
	h.do("POST", "/v1/collections/rocks/ask", map[string]any{"question": "How does granite form?"}).mustStatus(t, http.StatusOK)
	h.do("POST", "/v1/feedback", map[string]any{"collection": "rocks", "question": "q", "rating": "up"}).mustStatus(t, http.StatusCreated)
	h.do("POST", "/v1/feedback", map[string]any{"collection": "ghost", "question": "q", "rating": "up"}).mustStatus(t, http.StatusCreated)
	s := window()
	// 4 hybrid searches + 1 BM25 + the ask's retrieval.
	if s.Counts.Queries != 6 || s.Counts.Empty != 1 || len(s.Embeddings) != 5 || s.Dim != 384 || len(s.Scores) != 5 {
		t.Errorf("window after searches: counts %+v, %d embeddings of dim %d, %d scores", s.Counts, len(s.Embeddings), s.Dim, len(s.Scores))
	}
	if s.Counts.Answers != 1 || s.Counts.Grounded != 1 || s.Counts.Feedback != 1 || s.Counts.Up != 1 {
		t.Errorf("answers and feedback: %+v", s.Counts)
	}
	if _, cur := mon.Windows("ghost"); cur != nil && cur.Counts.Feedback != 0 {
		t.Errorf("a rating for a collection that does not exist was recorded: %+v", cur.Counts)
	}
	r := h.do("GET", "/v1/collections/rocks/drift", nil).mustStatus(t, http.StatusOK)
	if r.json["verdict"] != "too_few_samples" {
		t.Errorf("one small window, no baseline: %s", r.body)
	}
}
