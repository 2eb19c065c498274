package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func TestParseQueriesReadsBEIRTexts(t *testing.T) {
	in := `{"_id": "1", "text": "0-dimensional biomaterials show inductive properties.", "metadata": {}}

{"_id": "3", "text": "1,000 genomes project enables mapping"}
`
	got, err := parseQueries(strings.NewReader(in), "q.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != "0-dimensional biomaterials show inductive properties." || got[1] != "1,000 genomes project enables mapping" {
		t.Fatalf("got %q", got)
	}
}

func TestParseQueriesRejectsBadLines(t *testing.T) {
	for name, in := range map[string]string{
		"no text":    `{"_id": "1"}`,
		"blank text": `{"_id": "1", "text": "  "}`,
		"not json":   `{"_id": "1", "text": "a"`,
		"empty file": "\n\n",
		"too long":   `{"text": "` + strings.Repeat("a", maxQueryBytes+1) + `"}`,
	} {
		if q, err := parseQueries(strings.NewReader(in), "q.jsonl"); err == nil {
			t.Errorf("%s: no error, got %d queries", name, len(q))
		} else if !strings.Contains(err.Error(), "q.jsonl") {
			t.Errorf("%s: error %q does not name the file", name, err)
		}
	}
}

// TestLoadQueriesSciFact reads the real SciFact queries when the data sets
// are present (QUARRY_DATASETS).
func TestLoadQueriesSciFact(t *testing.T) {
	root := os.Getenv("QUARRY_DATASETS")
	if root == "" {
		root = "/work/shared/datasets"
	}
	p := filepath.Join(root, "beir", "scifact", "queries.jsonl")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("SciFact not present: %v", err)
	}
	q, err := loadQueries(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(q) < 300 {
		t.Fatalf("%d SciFact queries, want ≥ 300", len(q))
	}
}

func FuzzParseQueries(f *testing.F) {
	f.Add(`{"_id": "1", "text": "a claim"}` + "\n")
	f.Add(`{"text": 3}`)
	f.Add("\x00{")
	f.Fuzz(func(t *testing.T, in string) {
		q, err := parseQueries(strings.NewReader(in), "f")
		if err == nil && len(q) == 0 {
			t.Fatal("no error and no queries")
		}
		for _, s := range q {
			if strings.TrimSpace(s) == "" || len(s) > maxQueryBytes {
				t.Fatalf("query %q accepted", s)
			}
		}
	})
}

// TestTargeterContinuesAcrossAttacks: a route's attacks share one counter,
// so a later attack asks the next questions, not the first ones again
// (a repeated ask would measure the sentence-vector cache).
func TestTargeterContinuesAcrossAttacks(t *testing.T) {
	base, err := loopback("http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	o := options{base: base, collection: "c", method: "extractive", queries: []string{"q0", "q1", "q2", "q3"}}
	var n atomic.Int64
	var got []string
	for attack := range 2 {
		tr := targeter(o, "ask", &n)
		for range 2 {
			var tg vegeta.Target
			if err := tr(&tg); err != nil {
				t.Fatal(err)
			}
			var body struct {
				Question string `json:"question"`
				NoCache  bool   `json:"no_cache"`
			}
			if err := json.Unmarshal(tg.Body, &body); err != nil {
				t.Fatal(err)
			}
			if !body.NoCache || !strings.HasSuffix(tg.URL, "/v1/collections/c/ask") {
				t.Fatalf("attack %d: %s %s", attack, tg.URL, tg.Body)
			}
			got = append(got, body.Question)
		}
	}
	if strings.Join(got, ",") != "q0,q1,q2,q3" {
		t.Fatalf("questions %v, want q0..q3 across the two attacks", got)
	}
}
