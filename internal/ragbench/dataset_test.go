package ragbench

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeSet(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "set")
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const (
	goodCorpus  = `{"_id":"p0","text":"The Broncos won Super Bowl 50."}` + "\n"
	goodQueries = `{"_id":"q1","text":"Who won Super Bowl 50?"}` + "\n" + `{"_id":"q2","text":"Which game?"}` + "\n"
	goodAnswers = `{"_id":"q1","answers":["Broncos","the Broncos"]}` + "\n" + `{"_id":"q2","answers":["Super Bowl 50"]}` + "\n"
	goodQrels   = "query-id\tcorpus-id\tscore\nq1\tp0\t1\nq2\tp0\t1\n"
)

func TestLoadXQuAD(t *testing.T) {
	dir := writeSet(t, map[string]string{"corpus.jsonl": goodCorpus, "queries.jsonl": goodQueries,
		"answers.jsonl": goodAnswers, "qrels/test.tsv": goodQrels})
	ds, err := LoadXQuAD(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Questions) != 2 || ds.Questions[0].Golds[1] != "the Broncos" || ds.Questions[1].GoldDocs[0] != "p0" ||
		ds.Questions[0].ReferenceContexts[0] != "The Broncos won Super Bowl 50." {
		t.Fatalf("loaded %+v", ds.Questions)
	}
}

// TestLoadXQuADBadInput: each broken set fails naming the file and line.
func TestLoadXQuADBadInput(t *testing.T) {
	cases := []struct {
		name string
		edit map[string]string
		drop string
		want string // substring of the error: file:line and the problem
	}{
		{"missing answers", nil, "answers.jsonl", "answers.jsonl: ragbench: bad dataset: file is missing"},
		{"unknown answer id", map[string]string{"answers.jsonl": goodAnswers + `{"_id":"q9","answers":["x"]}` + "\n"}, "", "answers.jsonl:3: ragbench: bad dataset: answer id \"q9\" is not in"},
		{"empty answers", map[string]string{"answers.jsonl": `{"_id":"q1","answers":[""," "]}` + "\n"}, "", "answers.jsonl:1: ragbench: bad dataset: query \"q1\" has no non-empty answer"},
		{"unanswered query", map[string]string{"answers.jsonl": `{"_id":"q1","answers":["x"]}` + "\n"}, "", "has no answers"},
		{"non-UTF-8", map[string]string{"queries.jsonl": goodQueries + "{\"_id\":\"q3\",\"text\":\"\xff\xfe\"}\n"}, "", "queries.jsonl:3: ragbench: bad dataset: not valid UTF-8"},
		{"duplicate query", map[string]string{"queries.jsonl": goodQueries + `{"_id":"q1","text":"again"}` + "\n"}, "", "queries.jsonl:3: ragbench: bad dataset: query id \"q1\" repeats line 1"},
		{"not JSON", map[string]string{"queries.jsonl": "{\"_id\": \n"}, "", "queries.jsonl:1:"},
		{"qrels names a missing doc", map[string]string{"qrels/test.tsv": "q1\tp7\t1\n"}, "", "test.tsv:1: ragbench: bad dataset: document id \"p7\" is not in"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{"corpus.jsonl": goodCorpus, "queries.jsonl": goodQueries,
				"answers.jsonl": goodAnswers, "qrels/test.tsv": goodQrels}
			for k, v := range c.edit {
				files[k] = v
			}
			delete(files, c.drop)
			_, err := LoadXQuAD(writeSet(t, files))
			if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrDataset) {
				t.Fatalf("error %v, want one containing %q wrapping ErrDataset", err, c.want)
			}
		})
	}
}

func TestLoadJSONL(t *testing.T) {
	dir := writeSet(t, map[string]string{"q.jsonl": `{"question":"How are deletes handled?","reference":"Delete removes the document.","reference_contexts":["Deletes remove a document."]}` + "\n\n" +
		`{"question":"What is BM25?","reference":"A ranking function."}` + "\n"})
	ds, err := LoadJSONL(filepath.Join(dir, "q.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Questions) != 2 || ds.Questions[1].ID != "line3" || ds.Questions[0].Golds[0] != "Delete removes the document." {
		t.Fatalf("loaded %+v", ds.Questions)
	}
	bad := writeSet(t, map[string]string{"q.jsonl": `{"question":"x","reference":"y"}` + "\n" + `{"question":"no reference"}` + "\n"})
	if _, err := LoadJSONL(filepath.Join(bad, "q.jsonl")); err == nil || !strings.Contains(err.Error(), "q.jsonl:2:") {
		t.Fatalf("error %v, want q.jsonl:2", err)
	}
	unknown := writeSet(t, map[string]string{"q.jsonl": `{"question":"x","reference":"y","extra":1} trailing` + "\n"})
	if _, err := LoadJSONL(filepath.Join(unknown, "q.jsonl")); err == nil || !strings.Contains(err.Error(), "q.jsonl:1:") {
		t.Fatalf("error %v, want q.jsonl:1", err)
	}
}

func TestCompare(t *testing.T) {
	base := &Report{Dataset: "xquad/en", Method: "extractive", Questions: 10,
		Metrics: map[Metric]float64{AnswerRecall: 0.80, F1: 0.30, Abstention: 0.01}}
	cur := &Report{Dataset: "xquad/en", Method: "extractive", Questions: 10,
		Metrics: map[Metric]float64{AnswerRecall: 0.79, F1: 0.20, Abstention: 0.05}}
	got, err := Compare(base, cur, 0.02)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !strings.HasPrefix(got[0], "f1 ") || !strings.HasPrefix(got[1], "abstention_rate ") {
		t.Fatalf("dropped = %q, want f1 and abstention_rate (a drop of 0.01 is allowed)", got)
	}
	other := *base
	other.Dataset = "xquad/de"
	if _, err := Compare(&other, cur, 0.02); !errors.Is(err, ErrBaseline) || !strings.Contains(err.Error(), `"xquad/de"`) {
		t.Fatalf("another dataset: %v", err)
	}
}

func FuzzLoadJSONL(f *testing.F) {
	f.Add([]byte(`{"question":"q","reference":"r","reference_contexts":["c"]}` + "\n"))
	f.Add([]byte("\xff\n{}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "q.jsonl")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		ds, err := LoadJSONL(p)
		if err != nil {
			if !errors.Is(err, ErrDataset) {
				t.Fatalf("error %v does not wrap ErrDataset", err)
			}
			return
		}
		for _, q := range ds.Questions {
			if strings.TrimSpace(q.Text) == "" || len(q.Golds) == 0 {
				t.Fatalf("accepted a question without text or golds: %+v", q)
			}
		}
	})
}
