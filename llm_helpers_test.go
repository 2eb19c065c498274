package quarry_test

import (
	"context"
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/testutil"
)

// requireLLM returns the real local language model (testutil.LLM).
func requireLLM(t testing.TB) (url, model string) {
	t.Helper()
	return testutil.LLM(t)
}

// openLLMEngine opens an engine in a temporary folder with the given LLM
// settings and a fresh metrics registry.
func openLLMEngine(t testing.TB, cfg quarry.LLMConfig) (*quarry.Engine, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	eng, err := quarry.Open(t.TempDir(), &quarry.Options{Registerer: reg, LLM: cfg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng, reg
}

var solarDocs = []quarry.Document{
	{ID: "eiffel", Title: "Eiffel Tower", Text: "The Eiffel Tower is a wrought-iron lattice tower in Paris, France. It was completed in 1889 and is 330 metres tall."},
	{ID: "wall", Title: "Great Wall of China", Text: "The Great Wall of China is a series of fortifications built across northern China. Construction began in the 7th century BC."},
	{ID: "mars", Title: "Mars", Text: "Mars is the fourth planet from the Sun. It has two small moons, Phobos and Deimos."},
}

func loadDocs(t testing.TB, eng *quarry.Engine, docs []quarry.Document) *quarry.Collection {
	t.Helper()
	ctx := context.Background()
	col, err := eng.EnsureCollection(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := col.Upsert(ctx, docs, nil); err != nil {
		t.Fatal(err)
	}
	return col
}

// metricValue sums a counter's or histogram's samples (histograms: count)
// over the series whose labels include want.
func metricValue(t testing.TB, reg *prometheus.Registry, name string, want map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if labels[k] != v {
					continue next
				}
			}
			if c := m.GetCounter(); c != nil {
				sum += c.GetValue()
			}
			if h := m.GetHistogram(); h != nil {
				sum += float64(h.GetSampleCount())
			}
		}
	}
	return sum
}

func ptr[T any](v T) *T { return &v }

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// requireModelTB is requireModel for tests and benchmarks.
func requireModelTB(t testing.TB, name string) {
	t.Helper()
	testutil.RequireModel(t, name)
}
