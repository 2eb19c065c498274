package quarry_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/quarry-rag/quarry"
)

// requireLLM returns the real local language model (scripts/llm.sh):
// QUARRY_LLM_URL and QUARRY_LLM_MODEL, else the default local Ollama if it
// answers and has the model. It skips when none is available, and fails
// under CI=true.
func requireLLM(t testing.TB) (url, model string) {
	t.Helper()
	url, model = os.Getenv("QUARRY_LLM_URL"), os.Getenv("QUARRY_LLM_MODEL")
	if model == "" {
		model = "quarry-gemma3-270m"
	}
	if url == "" {
		port := os.Getenv("QUARRY_OLLAMA_PORT")
		if port == "" {
			port = "11435"
		}
		if ollamaHas("http://127.0.0.1:"+port, model) {
			url = "http://127.0.0.1:" + port
		}
	}
	if url == "" {
		msg := "no language model: set QUARRY_LLM_URL and QUARRY_LLM_MODEL (eval \"$(bash scripts/llm.sh)\")"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return url, model
}

func ollamaHas(url, model string) bool {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url + "/api/tags")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var tags struct {
		Models []struct{ Name string } `json:"models"`
	}
	if json.NewDecoder(resp.Body).Decode(&tags) != nil {
		return false
	}
	for _, m := range tags.Models {
		if m.Name == model || strings.TrimSuffix(m.Name, ":latest") == model {
			return true
		}
	}
	return false
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
	home := os.Getenv("QUARRY_HOME")
	if home == "" {
		h, _ := os.UserHomeDir()
		home = filepath.Join(h, ".cache", "quarry")
	}
	if _, err := os.Stat(filepath.Join(home, "models", name, "model.safetensors")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("model %s is not cached; `make models` fetches it", name)
		}
		t.Skipf("model %s is not cached (run `make models`)", name)
	}
}
