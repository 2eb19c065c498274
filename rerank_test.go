package quarry_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/models/weights"
	"github.com/quarry-rag/quarry/internal/rerank"
)

// syntheticCrossEncoder builds a BertForSequenceClassification folder from
// all-MiniLM-L6-v2's encoder and a seeded random one-label head. No
// cross-encoder weights can be had here, so this tests the wiring, not
// relevance.
func syntheticCrossEncoder(t *testing.T) string {
	t.Helper()
	requireModel(t, "all-MiniLM-L6-v2")
	home := os.Getenv("QUARRY_HOME")
	if home == "" {
		h, _ := os.UserHomeDir()
		home = filepath.Join(h, ".cache", "quarry")
	}
	src := filepath.Join(home, "models", "all-MiniLM-L6-v2")
	st, err := weights.OpenSafetensors(filepath.Join(src, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	type tensor struct {
		v     []float32
		shape []int
	}
	ts := map[string]tensor{}
	for _, n := range st.Names() {
		v, err := st.Float32(n)
		if errors.Is(err, weights.ErrDType) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		info, _ := st.Info(n)
		ts["bert."+n] = tensor{v, info.Shape}
	}
	const H = 384
	r := rand.New(rand.NewSource(7))
	randn := func(n int, s float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64() * s)
		}
		return v
	}
	ts["bert.pooler.dense.weight"] = tensor{randn(H*H, 0.05), []int{H, H}}
	ts["bert.pooler.dense.bias"] = tensor{randn(H, 0.05), []int{H}}
	ts["classifier.weight"] = tensor{randn(H, 0.3), []int{1, H}}
	ts["classifier.bias"] = tensor{[]float32{0}, []int{1}}
	names := make([]string, 0, len(ts))
	for n := range ts {
		names = append(names, n)
	}
	sort.Strings(names)
	hdr := map[string]any{}
	var data []byte
	for _, n := range names {
		begin := len(data)
		for _, x := range ts[n].v {
			data = binary.LittleEndian.AppendUint32(data, math.Float32bits(x))
		}
		hdr[n] = map[string]any{"dtype": "F32", "shape": ts[n].shape, "data_offsets": []int{begin, len(data)}}
	}
	h, _ := json.Marshal(hdr)
	out := append(binary.LittleEndian.AppendUint64(nil, uint64(len(h))), h...)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "model.safetensors"), append(out, data...), 0o644); err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	b, _ := os.ReadFile(filepath.Join(src, "config.json"))
	json.Unmarshal(b, &cfg)
	cfg["architectures"] = []string{"BertForSequenceClassification"}
	b, _ = json.Marshal(cfg)
	os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644)
	tok, _ := os.ReadFile(filepath.Join(src, "tokenizer.json"))
	os.WriteFile(filepath.Join(dir, "tokenizer.json"), tok, 0o644)
	return dir
}

func TestRerankerIsAConfigurationLine(t *testing.T) {
	ceDir := syntheticCrossEncoder(t)
	ctx := context.Background()
	eng := openTest(t, "")
	col, _, err := eng.CreateCollection(ctx, "rr", &quarry.CollectionConfig{Reranker: ceDir})
	if err != nil {
		t.Fatal(err)
	}
	var docs []quarry.Document
	for i := 0; i < 80; i++ {
		docs = append(docs, quarry.Document{ID: "d" + strconv.Itoa(i), Title: "Note " + strconv.Itoa(i),
			Text: "granite quarry report number " + strconv.Itoa(i) + " " + crashWords[i%len(crashWords)] + " " + crashWords[(i*7)%len(crashWords)]})
	}
	upsert(t, col, docs...)
	// The first stage, read from a twin collection without the reranker.
	plain, _, err := eng.CreateCollection(ctx, "plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	upsert(t, plain, docs...)

	first, err := plain.Search(ctx, quarry.SearchRequest{Query: "granite quarry", K: quarry.RerankDepth})
	if err != nil || len(first.Results) != quarry.RerankDepth {
		t.Fatalf("first stage: %d hits, %v", len(first.Results), err)
	}
	ce, err := rerank.Load(ceDir)
	if err != nil {
		t.Fatal(err)
	}
	defer ce.Close()
	scores, err := ce.Scores(ctx, "granite quarry", first.Results)
	if err != nil {
		t.Fatal(err)
	}
	// What the engine must return: the first stage's 50 candidates ordered
	// by the cross-encoder, cut to K, even though K alone would have read
	// only 5 candidates.
	type cand struct {
		id    string
		score float32
	}
	want := make([]cand, len(scores))
	for i := range scores {
		want[i] = cand{first.Results[i].ChunkID, scores[i]}
	}
	sort.SliceStable(want, func(i, j int) bool { return want[i].score > want[j].score })
	got, err := col.Search(ctx, quarry.SearchRequest{Query: "granite quarry", K: 5, NoText: true})
	if err != nil || len(got.Results) != 5 {
		t.Fatalf("reranked: %+v, %v", got, err)
	}
	for i, h := range got.Results {
		if h.ChunkID != want[i].id || math.Abs(h.Score-float64(want[i].score)) > 1e-6 {
			t.Fatalf("rank %d: got %s (%.5f), want %s (%.5f)", i, h.ChunkID, h.Score, want[i].id, want[i].score)
		}
	}
	if _, _, err := eng.CreateCollection(ctx, "bad", &quarry.CollectionConfig{Reranker: t.TempDir()}); !errors.Is(err, quarry.ErrInvalid) {
		t.Fatalf("a folder without a model: %v", err)
	}
}
