package server

import (
	"bytes"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/quarry-rag/quarry/internal/drift"
)

func TestDriftRoute(t *testing.T) {
	now := time.Unix(0, 0)
	mon := drift.NewMonitor(drift.MonitorOptions{Period: time.Minute, Now: func() time.Time { return now }})
	h := newHarness(t, Options{Drift: mon})
	if r := h.do("PUT", "/v1/collections/docs", nil); r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	r := h.do("GET", "/v1/collections/docs/drift", nil)
	if r.status != http.StatusOK || r.json["verdict"] != "too_few_samples" {
		t.Fatalf("no traffic: %d %s", r.status, r.body)
	}
	if r := h.do("GET", "/v1/collections/docs/drift/windows/baseline", nil); r.status != http.StatusNotFound {
		t.Errorf("baseline before one exists: %d %s", r.status, r.body)
	}
	rec := mon.Recorder("docs")
	rng := rand.New(rand.NewPCG(1, 1))
	feed := func(shift float32) {
		for range 80 {
			rec.ObserveQuery([]float32{float32(rng.NormFloat64()) + shift, float32(rng.NormFloat64())}, rng.Float64(), false)
			rec.ObserveAnswer(false, true)
		}
	}
	feed(0)
	now = now.Add(time.Hour) // the first window becomes the baseline
	feed(3)
	r = h.do("GET", "/v1/collections/docs/drift", nil)
	if r.status != http.StatusOK || r.json["verdict"] != "drift" {
		t.Fatalf("shifted traffic: %d %s", r.status, r.body)
	}
	res := r.json["results"].([]any)
	if len(res) != len(drift.Stats) || res[0].(map[string]any)["stat"] != "query_embeddings" || res[0].(map[string]any)["verdict"] != "drift" {
		t.Errorf("results: %s", r.body)
	}

	// The windows, in the saved-window format quarry drift report reads.
	for _, which := range []string{"baseline", "current"} {
		r := h.do("GET", "/v1/collections/docs/drift/windows/"+which, nil)
		if r.status != http.StatusOK {
			t.Fatalf("%s window: %d %s", which, r.status, r.body)
		}
		smp, err := drift.ReadSample(bytes.NewReader(r.body))
		if err != nil || len(smp.Embeddings) != 80 || smp.Counts.Answers != 80 {
			t.Errorf("%s window: %v, %+v", which, err, smp)
		}
	}
	if r := h.do("GET", "/v1/collections/docs/drift/windows/other", nil); r.status != http.StatusNotFound {
		t.Errorf("unknown window: %d %s", r.status, r.body)
	}
	if r := h.do("GET", "/v1/collections/nope/drift", nil); r.status != http.StatusNotFound {
		t.Errorf("unknown collection: %d %s", r.status, r.body)
	}
	off := newHarness(t, Options{})
	off.do("PUT", "/v1/collections/docs", nil)
	if r := off.do("GET", "/v1/collections/docs/drift", nil); r.status != http.StatusNotFound || r.json["error"] == nil {
		t.Errorf("monitoring off: %d %s", r.status, r.body)
	}
}
