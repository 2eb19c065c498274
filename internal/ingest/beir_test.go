package ingest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/quarry-rag/quarry/internal/base"
)

// datasets returns $QUARRY_DATASETS, default ../shared/datasets relative to
// the repository root.
func datasets() string {
	if d := os.Getenv("QUARRY_DATASETS"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "datasets")
}

func requireDir(t testing.TB, dir string) {
	t.Helper()
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("data set not present at %s (set QUARRY_DATASETS): %v", dir, err)
	}
}

func loadCorpus(t testing.TB, dir string) []base.Document {
	t.Helper()
	var docs []base.Document
	if err := LoadBEIRCorpus(context.Background(), dir, func(d base.Document) error {
		docs = append(docs, d)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return docs
}

func TestBEIRMini(t *testing.T) {
	dir := "testdata/beir"
	if !IsBEIR(dir) || IsBEIR("testdata/docs") || IsBEIR("testdata/nonexistent") {
		t.Fatal("IsBEIR wrong")
	}
	docs := loadCorpus(t, dir)
	src := filepath.Join(dir, "corpus.jsonl")
	want := []base.Document{
		{ID: "d1", Title: "Aspirin", Text: "Aspirin reduces fever.", Source: src, Metadata: base.Metadata{"url": base.String("http://x")}},
		{ID: "d2", Title: "Only a title", Text: "Only a title", Source: src},
		{ID: "d3", Text: "No title here.", Source: src},
	}
	if !reflect.DeepEqual(docs, want) {
		t.Fatalf("corpus\n%+v\nwant\n%+v", docs, want)
	}
	qs, err := LoadBEIRQueries(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(qs, []BEIRQuery{{"q1", "does aspirin reduce fever"}, {"q2", "unjudged query"}}) {
		t.Fatalf("queries %+v", qs)
	}
	qrels, err := LoadQrels(QrelsPath(dir, "test"))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(qrels, map[string]map[string]int{"q1": {"d1": 2, "d3": 0}}) {
		t.Fatalf("qrels %v", qrels)
	}
}

func TestQrelsFormats(t *testing.T) {
	tests := []struct {
		name, data string
		want       map[string]map[string]int
		err        error
		line       int
	}{
		{"trec four columns", "q1 0 d1 1\nq1 0 d2 3\n", map[string]map[string]int{"q1": {"d1": 1, "d2": 3}}, nil, 0},
		{"no header", "q1\td1\t1\n", map[string]map[string]int{"q1": {"d1": 1}}, nil, 0},
		{"bad score", "query-id\tcorpus-id\tscore\nq1\td1\thigh\n", nil, ErrInvalidQrels, 2},
		{"too few fields", "q1\td1\t1\nq2 d2\n", nil, ErrInvalidQrels, 2},
		{"blank lines ok", "\nq1\td1\t1\n\n", map[string]map[string]int{"q1": {"d1": 1}}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadQrels(writeFile(t, "q.tsv", []byte(tt.data)))
			if tt.err != nil {
				var le *LineError
				if !errors.Is(err, tt.err) || !errors.As(err, &le) || le.Line != tt.line {
					t.Fatalf("err = %v, want %v on line %d", err, tt.err, tt.line)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, %v", got, err)
			}
		})
	}
}

func TestBEIRQueriesBadLine(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "corpus.jsonl"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "queries.jsonl"), []byte("{\"_id\":\"q\",\"text\":\"ok\"}\n{\"_id\":\"r\"}\n"), 0o644)
	_, err := LoadBEIRQueries(dir)
	var le *LineError
	if !errors.As(err, &le) || le.Line != 2 || !errors.Is(err, ErrInvalidJSON) {
		t.Fatalf("err = %v", err)
	}
}

func TestSciFact(t *testing.T) {
	dir := filepath.Join(datasets(), "beir", "scifact")
	requireDir(t, dir)
	if !IsBEIR(dir) {
		t.Fatalf("%s is not a BEIR folder", dir)
	}
	docs := loadCorpus(t, dir)
	if len(docs) != 5183 {
		t.Fatalf("corpus has %d documents, want 5183", len(docs))
	}
	ids := make(map[string]bool, len(docs))
	for _, d := range docs {
		if ids[d.ID] {
			t.Fatalf("duplicate id %s", d.ID)
		}
		ids[d.ID] = true
		if d.Title == "" || isBlank(d.Text) {
			t.Fatalf("doc %s lacks title or text", d.ID)
		}
	}
	qs, err := LoadBEIRQueries(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 300 {
		t.Fatalf("%d queries, want 300", len(qs))
	}
	qrels, err := LoadQrels(QrelsPath(dir, "test"))
	if err != nil {
		t.Fatal(err)
	}
	pairs, judged := 0, 0
	for _, q := range qs {
		if len(qrels[q.ID]) > 0 {
			judged++
		}
	}
	for _, m := range qrels {
		for did, g := range m {
			pairs++
			if !ids[did] || g != 1 {
				t.Fatalf("qrel to %s grade %d: unknown doc or unexpected grade", did, g)
			}
		}
	}
	if pairs != 339 || len(qrels) != 300 || judged != 300 {
		t.Fatalf("qrels: %d pairs for %d queries, %d of 300 loaded queries judged; want 339, 300, 300", pairs, len(qrels), judged)
	}
	t.Logf("SciFact: %d docs, %d queries (all %d judged), %d test qrels", len(docs), len(qs), judged, pairs)
}

func TestXQuAD(t *testing.T) {
	root := filepath.Join(datasets(), "xquad")
	requireDir(t, root)
	var dirs []string
	for _, pat := range []string{"*", "xling/*"} {
		m, _ := filepath.Glob(filepath.Join(root, pat))
		for _, d := range m {
			if IsBEIR(d) {
				dirs = append(dirs, d)
			}
		}
	}
	if len(dirs) < 7 {
		t.Fatalf("found %d XQuAD BEIR folders under %s: %v", len(dirs), root, dirs)
	}
	for _, dir := range dirs {
		rel, _ := filepath.Rel(root, dir)
		t.Run(strings.ReplaceAll(rel, string(filepath.Separator), "_"), func(t *testing.T) {
			docs := loadCorpus(t, dir)
			ids := map[string]bool{}
			for _, d := range docs {
				ids[d.ID] = true
			}
			qs, err := LoadBEIRQueries(dir)
			if err != nil {
				t.Fatal(err)
			}
			qrels, err := LoadQrels(QrelsPath(dir, "test"))
			if err != nil {
				t.Fatal(err)
			}
			if len(docs) != 240 || len(qs) != 1190 || len(qrels) != 1190 {
				t.Fatalf("%d docs, %d queries, %d judged queries; want 240, 1190, 1190", len(docs), len(qs), len(qrels))
			}
			for q, m := range qrels {
				for did := range m {
					if !ids[did] {
						t.Fatalf("query %s judges unknown doc %s", q, did)
					}
				}
			}
		})
	}
}
