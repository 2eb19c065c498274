package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/ingest"
)

var update = flag.Bool("update", false, "rewrite testdata/scifact_product.sha256 from this build")

// sciFact is SciFact ingested once per test binary, as quarryquery does.
var sciFact = struct {
	once sync.Once
	dir  string
	qs   []string
	k    int
	err  error
}{}

func loadSciFact(tb testing.TB) (dir string, qs []string, k int) {
	tb.Helper()
	root := os.Getenv("QUARRY_DATASETS")
	if root == "" {
		root = "/work/shared/datasets"
	}
	ds := filepath.Join(root, "beir", "scifact")
	if _, err := os.Stat(filepath.Join(ds, "corpus.jsonl")); err != nil {
		tb.Skipf("SciFact not found under %s (set QUARRY_DATASETS)", root)
	}
	sciFact.once.Do(func() {
		ctx := context.Background()
		d, err := os.MkdirTemp("", "quarryquery-test-*")
		if err != nil {
			sciFact.err = err
			return
		}
		sciFact.dir = d
		eng, err := quarry.Open(d, nil)
		if err != nil {
			sciFact.err = err
			return
		}
		defer eng.Close()
		col, _, err := eng.CreateCollection(ctx, "bm25", &quarry.CollectionConfig{Chunking: quarry.ChunkingConfig{Size: 512}})
		if err != nil {
			sciFact.err = err
			return
		}
		var docs []quarry.Document
		if err := ingest.LoadBEIRCorpus(ctx, ds, func(doc quarry.Document) error {
			docs = append(docs, doc)
			return nil
		}); err != nil {
			sciFact.err = err
			return
		}
		if _, err := col.Upsert(ctx, docs, nil); err != nil {
			sciFact.err = err
			return
		}
		st, err := col.Stats(ctx)
		if err != nil {
			sciFact.err = err
			return
		}
		sciFact.k = min(quarry.MaxK, 100+st.Chunks-st.Documents)
		qrels, err := ingest.LoadQrels(ingest.QrelsPath(ds, "test"))
		if err != nil {
			sciFact.err = err
			return
		}
		all, err := ingest.LoadBEIRQueries(ds)
		if err != nil {
			sciFact.err = err
			return
		}
		for _, q := range all {
			if len(qrels[q.ID]) > 0 {
				sciFact.qs = append(sciFact.qs, q.Text)
			}
		}
	})
	if sciFact.err != nil {
		tb.Fatal(sciFact.err)
	}
	return sciFact.dir, sciFact.qs, sciFact.k
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if sciFact.dir != "" {
		os.RemoveAll(sciFact.dir)
	}
	os.Exit(code)
}

// openCollection opens the ingested SciFact engine with a question guard
// policy ("" is the engine default, flag).
func openCollection(tb testing.TB, guard string) (*quarry.Collection, []string, int) {
	tb.Helper()
	dir, qs, k := loadSciFact(tb)
	eng, err := quarry.Open(dir, &quarry.Options{Guard: quarry.GuardConfig{Question: guard}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { eng.Close() })
	col, err := eng.Collection(context.Background(), "bm25")
	if err != nil {
		tb.Fatal(err)
	}
	return col, qs, k
}

// digest is a hash of everything a search response holds that a BM25
// product-path search computes: per hit its chunk and document ids,
// ordinal, title and the score's bits; the guard's report.
func digest(res *quarry.SearchResponse) string {
	h := sha256.New()
	var b [8]byte
	for _, r := range res.Results {
		fmt.Fprintf(h, "%q %q %d %q %q %d %d %d|", r.ChunkID, r.DocID, r.Ordinal, r.Title, r.Text, r.Start, r.End, r.RuneStart)
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(r.Score))
		h.Write(b[:])
	}
	if res.Guard != nil {
		fmt.Fprintf(h, "guard %v %v %v", res.Guard.Flagged, res.Guard.Score, res.Guard.RulesOnly)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestProductPathUnchanged checks that every judged SciFact query returns,
// through Collection.Search (BM25, top k chunks as quarryquery asks, the
// engine's default question guard and the guard off), exactly what the
// build that wrote testdata/scifact_product.sha256 returned: same hits,
// order, fields and score bits. Speed work on the product path must not
// change a result. Regenerate deliberately with -update.
func TestProductPathUnchanged(t *testing.T) {
	if testing.Short() {
		t.Skip("ingests SciFact")
	}
	golden := filepath.Join("testdata", "scifact_product.sha256")
	var got []string
	for _, guard := range []string{"", "off"} {
		t.Run("guard="+guardName(guard), func(t *testing.T) {
			col, qs, k := openCollection(t, guard)
			for i, q := range qs {
				res, err := col.Search(context.Background(), quarry.SearchRequest{Query: q, K: k, Mode: quarry.ModeBM25, NoText: true})
				if err != nil {
					t.Fatalf("query %d: %v", i, err)
				}
				if len(res.Results) == 0 {
					t.Fatalf("query %d: no results", i)
				}
				got = append(got, fmt.Sprintf("%s\t%d\t%s", guardName(guard), i, digest(res)))
			}
		})
	}
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(strings.Join(got, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	f, err := os.Open(golden)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var want []string
	for sc := bufio.NewScanner(f); sc.Scan(); {
		want = append(want, sc.Text())
	}
	if len(want) != len(got) {
		t.Fatalf("%d digests, golden file has %d", len(got), len(want))
	}
	bad := 0
	for i := range got {
		if got[i] != want[i] {
			if bad++; bad <= 5 {
				t.Errorf("changed: %s (was %s)", got[i], want[i])
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d responses changed", bad, len(got))
	}
}

func guardName(g string) string {
	if g == "" {
		return "default"
	}
	return g
}

// BenchmarkProductPath runs the judged SciFact queries through
// Collection.Search (BM25, NoText, top k chunks), one query per
// iteration, and reports allocations and CPU time per query:
//
//	QUARRY_DATASETS=/work/shared/datasets GOMAXPROCS=1 go test -run XXX \
//	    -bench ProductPath -benchtime 30000x ./bench/bm25_peers/quarryquery
func BenchmarkProductPath(b *testing.B) {
	for _, guard := range []string{"", "off"} {
		b.Run("guard="+guardName(guard), func(b *testing.B) {
			col, qs, k := openCollection(b, guard)
			ctx := context.Background()
			for _, q := range qs { // warm-up
				if _, err := col.Search(ctx, quarry.SearchRequest{Query: q, K: k, Mode: quarry.ModeBM25, NoText: true}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			c0 := cpuTime()
			for i := range b.N {
				if _, err := col.Search(ctx, quarry.SearchRequest{Query: qs[i%len(qs)], K: k, Mode: quarry.ModeBM25, NoText: true}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime()-c0)/time.Nanosecond)/float64(b.N)/1e3, "cpu-µs/op")
		})
	}
}
