package eval

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden:\n got: %s\nwant: %s", name, got, want)
	}
}

func sampleReport(t *testing.T) RetrievalReport {
	t.Helper()
	qrels := Qrels{"1": {"a": 1}, "2": {"b": 1}, "3": {"c": 2, "d": 1}, "4": {"e": 1}}
	run := Run{
		"1": {"a": 3, "x": 1},         // rank 1: all 1
		"2": {"x": 3, "b": 2},         // rank 2: MRR 1/2, MAP 1/2, nDCG 1/log2(3)
		"3": {"d": 3, "c": 2, "1": 9}, // "1" is no identical id here (query 3)
	}
	rep := Evaluate(qrels, run, BEIR())
	lat := SummarizeLatency([]time.Duration{800 * time.Microsecond, 1200 * time.Microsecond, 5 * time.Millisecond}, 10*time.Millisecond)
	rr, err := NewRetrievalReport("scifact", "test", "bm25", rep, 1500*time.Millisecond, lat)
	if err != nil {
		t.Fatal(err)
	}
	return rr
}

// TestRetrievalReportJSON pins the CLI's JSON keys, their order and values.
func TestRetrievalReportJSON(t *testing.T) {
	rr := sampleReport(t)
	if rr.Queries != 4 || rr.IndexSeconds != 1.5 || rr.QueryP50Ms != 1.2 || rr.QueryP99Ms != 5 || rr.QPS != 300 {
		t.Errorf("report fields = %+v", rr)
	}
	got, err := json.MarshalIndent(rr, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "retrieval_report.json", append(got, '\n'))

	var keys map[string]any
	if err := json.Unmarshal(got, &keys); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"dataset", "split", "mode", "queries", "ndcg@10", "recall@100", "mrr@10", "map@100",
		"index_seconds", "query_p50_ms", "query_p99_ms", "qps"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("key %q missing", k)
		}
		delete(keys, k)
	}
	if len(keys) != 0 {
		t.Errorf("unexpected keys %v", keys)
	}
}

func TestRetrievalReportText(t *testing.T) {
	golden(t, "retrieval_report.txt", []byte(sampleReport(t).Text()))
}

func TestNewRetrievalReportCutoffs(t *testing.T) {
	rep := Evaluate(Qrels{}, Run{}, Options{NDCGCutoff: 5})
	if _, err := NewRetrievalReport("d", "test", "bm25", rep, 0, Latency{}); !errors.Is(err, ErrCutoffs) {
		t.Errorf("err = %v, want ErrCutoffs", err)
	}
}
