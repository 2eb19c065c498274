package transformer

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/quarry-rag/quarry/internal/models/weights"
)

func loadMiniLM(t testing.TB, opts *Options) (*Encoder, []fixtureRec) {
	dir := modelDir(t, "all-MiniLM-L6-v2")
	enc, err := Load(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { enc.Close() })
	return enc, readFixture(t, "all-MiniLM-L6-v2")
}

func TestTruncation(t *testing.T) {
	enc, recs := loadMiniLM(t, nil)
	var long fixtureRec
	for _, r := range recs {
		if len(r.IDs) == enc.MaxLen() {
			long = r
			break
		}
	}
	if long.IDs == nil {
		t.Fatal("fixture has no text truncated at MaxLen")
	}
	// Re-grow the sequence past MaxLen: truncation must give back the
	// Hugging Face-truncated ids (first MaxLen-1 and the closing [SEP]).
	n := len(long.IDs)
	grown := slices.Concat(long.IDs[:n-1], long.IDs[1:n-1], long.IDs[n-1:])
	got, err := enc.Embed(context.Background(), [][]int32{grown, long.IDs})
	if err != nil {
		t.Fatal(err)
	}
	if c := cosine(got[0], got[1]); c < 0.9999999 {
		t.Fatalf("truncated embedding differs: cosine %v", c)
	}
	if c := cosine(got[0], long.Emb); c < 0.9999 {
		t.Fatalf("cosine with reference %v", c)
	}
	if want := truncate(grown, 5); !slices.Equal(want, []int32{grown[0], grown[1], grown[2], grown[3], grown[len(grown)-1]}) {
		t.Fatalf("truncate: %v", want)
	}
}

// TestBatchingInvariance: an embedding does not depend on which texts share
// its batch (padding and attention masks are right) nor on the batch size.
func TestBatchingInvariance(t *testing.T) {
	enc, recs := loadMiniLM(t, &Options{BatchSize: 7, MaxBatchTokens: 600})
	ids := [][]int32{}
	for i := 0; i < len(recs); i += 9 {
		ids = append(ids, recs[i].IDs)
	}
	all, err := enc.Embed(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range ids {
		one, err := enc.Embed(context.Background(), [][]int32{s})
		if err != nil {
			t.Fatal(err)
		}
		if c := cosine(one[0], all[i]); c < 0.9999999 {
			t.Fatalf("text %d (%d tokens): alone vs batched cosine %v", i, len(s), c)
		}
	}
}

func TestEmbedErrors(t *testing.T) {
	enc, recs := loadMiniLM(t, nil)
	ctx := context.Background()
	if _, err := enc.Embed(ctx, [][]int32{recs[0].IDs, {}}); !errors.Is(err, ErrInput) {
		t.Errorf("empty sequence: %v", err)
	}
	if _, err := enc.Embed(ctx, [][]int32{{101, 1 << 30, 102}}); !errors.Is(err, ErrInput) {
		t.Errorf("id outside vocabulary: %v", err)
	}
	if out, err := enc.Embed(ctx, nil); err != nil || len(out) != 0 {
		t.Errorf("no input: %v %v", out, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := enc.Embed(cctx, [][]int32{recs[0].IDs}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestAttentionDoesNotAllocate: after a warm-up, a forward pass at T=256
// allocates a small constant per layer (task closures), independent of the
// number of sequences and heads: attention reuses its scratch.
func TestAttentionDoesNotAllocate(t *testing.T) {
	enc, recs := loadMiniLM(t, nil)
	var long []int32
	for _, r := range recs {
		if len(r.IDs) == 256 {
			long = r.IDs
			break
		}
	}
	ctx := context.Background()
	measure := func(B int) float64 {
		bt := new(batch)
		seqs := make([][]int32, B)
		for b := range seqs {
			seqs[b] = long
		}
		bt.pack(seqs, nil)
		ws := new(workspace)
		if err := enc.m.forward(ctx, enc.pool, bt, ws); err != nil {
			t.Fatal(err)
		}
		return testing.AllocsPerRun(2, func() {
			if err := enc.m.forward(ctx, enc.pool, bt, ws); err != nil {
				t.Fatal(err)
			}
		})
	}
	a1, a4 := measure(1), measure(4)
	extraHeads := 3 * enc.cfg.NumAttentionHeads * enc.cfg.NumHiddenLayers
	t.Logf("forward T=256: %.0f allocations at B=1, %.0f at B=4 (%d more head-layers)", a1, a4, extraHeads)
	if a4-a1 >= float64(extraHeads)/4 {
		t.Fatalf("allocations grow with the number of heads: %.0f → %.0f", a1, a4)
	}
}

// writeSafetensors writes float32 tensors in the safetensors layout.
func writeSafetensors(t testing.TB, path string, tensors map[string][]float32, shapes map[string][]int) {
	hdr := map[string]any{}
	var data []byte
	names := make([]string, 0, len(tensors))
	for n := range tensors {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		begin := len(data)
		for _, v := range tensors[n] {
			data = binary.LittleEndian.AppendUint32(data, math.Float32bits(v))
		}
		hdr[n] = map[string]any{"dtype": "F32", "shape": shapes[n], "data_offsets": []int{begin, len(data)}}
	}
	h, _ := json.Marshal(hdr)
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	out = append(append(out, h...), data...)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCrossEncoderSyntheticHead: no cross-encoder weights can be had here, so
// the head is tested on all-MiniLM-L6-v2's encoder with a seeded random
// BertForSequenceClassification head (bert.pooler.dense + classifier),
// against the same head computed in float64 from the encoder's [CLS] state.
func TestCrossEncoderSyntheticHead(t *testing.T) {
	src := modelDir(t, "all-MiniLM-L6-v2")
	base, recs := loadMiniLM(t, nil)
	st, err := weights.OpenSafetensors(filepath.Join(src, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	H := base.Dim()
	tensors, shapes := map[string][]float32{}, map[string][]int{}
	for _, n := range st.Names() {
		v, err := st.Float32(n)
		if errors.Is(err, weights.ErrDType) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		info, _ := st.Info(n)
		tensors["bert."+n], shapes["bert."+n] = v, info.Shape
	}
	r := rand.New(rand.NewPCG(11, 12))
	randn := func(n int, s float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64() * s)
		}
		return v
	}
	const labels = 2
	tensors["bert.pooler.dense.weight"], shapes["bert.pooler.dense.weight"] = randn(H*H, 0.05), []int{H, H}
	tensors["bert.pooler.dense.bias"], shapes["bert.pooler.dense.bias"] = randn(H, 0.05), []int{H}
	tensors["classifier.weight"], shapes["classifier.weight"] = randn(labels*H, 0.2), []int{labels, H}
	tensors["classifier.bias"], shapes["classifier.bias"] = randn(labels, 0.2), []int{labels}
	dir := t.TempDir()
	writeSafetensors(t, filepath.Join(dir, "model.safetensors"), tensors, shapes)
	var cfg map[string]any
	b, _ := os.ReadFile(filepath.Join(src, "config.json"))
	json.Unmarshal(b, &cfg)
	cfg["architectures"] = []string{"BertForSequenceClassification"}
	b, _ = json.Marshal(cfg)
	os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644)

	ce, err := LoadCrossEncoder(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ce.Close()
	if ce.Labels() != labels {
		t.Fatalf("labels %d", ce.Labels())
	}
	// Pairs: query ids + passage ids without its [CLS], segment 1 on the passage.
	var pairs []Input
	for i := 0; i < 6; i++ {
		q, p := recs[170+i].IDs, recs[i].IDs[1:min(len(recs[i].IDs), 60)]
		types := make([]int32, len(q)+len(p))
		for j := len(q); j < len(types); j++ {
			types[j] = 1
		}
		pairs = append(pairs, Input{IDs: slices.Concat(q, p), TypeIDs: types})
	}
	got, err := ce.Logits(context.Background(), pairs)
	if err != nil {
		t.Fatal(err)
	}
	cls := rows(len(pairs), H)
	err = base.run(context.Background(), pairs, func(ws *workspace, bt *batch, b, i int) {
		copy(cls[i], ws.x[bt.start[b]*H:bt.start[b]*H+H])
	})
	if err != nil {
		t.Fatal(err)
	}
	dw, db := tensors["bert.pooler.dense.weight"], tensors["bert.pooler.dense.bias"]
	cw, cb := tensors["classifier.weight"], tensors["classifier.bias"]
	for i := range pairs {
		pooled := make([]float64, H)
		for j := range pooled {
			s := float64(db[j])
			for k := 0; k < H; k++ {
				s += float64(dw[j*H+k]) * float64(cls[i][k])
			}
			pooled[j] = math.Tanh(s)
		}
		for l := 0; l < labels; l++ {
			want := float64(cb[l])
			for k := 0; k < H; k++ {
				want += float64(cw[l*H+k]) * pooled[k]
			}
			if math.Abs(float64(got[i][l])-want) > 1e-4 {
				t.Fatalf("pair %d label %d: logit %v want %v", i, l, got[i][l], want)
			}
		}
	}
	// Segment ids matter: the same ids with all-zero types score differently.
	flat := []Input{{IDs: pairs[0].IDs}}
	l2, err := ce.Logits(context.Background(), flat)
	if err != nil {
		t.Fatal(err)
	}
	if l2[0][0] == got[0][0] {
		t.Fatal("token type ids ignored")
	}
	sc, err := ce.Score(context.Background(), pairs[:1])
	if err != nil || sc[0] <= 0 || sc[0] >= 1 {
		t.Fatalf("two-label score must be a probability: %v %v", sc, err)
	}
}

func writeJSON(t testing.TB, path string, v any) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	b, _ := json.Marshal(v)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSTConfigAndPrompts(t *testing.T) {
	modules := []map[string]string{
		{"path": "", "type": "sentence_transformers.models.Transformer"},
		{"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
	}
	cases := []struct {
		name      string
		setup     func(dir string)
		pooling   Pooling
		normalize bool
		maxLen    int
		prompts   *Prompts
		err       error
	}{
		{"defaults", func(string) {}, PoolMean, true, 0, nil, nil},
		{"bge cls", func(d string) {
			writeJSON(t, filepath.Join(d, "modules.json"), append(modules, map[string]string{"path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}))
			writeJSON(t, filepath.Join(d, "1_Pooling", "config.json"), map[string]bool{"pooling_mode_cls_token": true})
			writeJSON(t, filepath.Join(d, "sentence_bert_config.json"), map[string]int{"max_seq_length": 512})
		}, PoolCLS, true, 512, nil, nil},
		{"no normalize", func(d string) {
			writeJSON(t, filepath.Join(d, "modules.json"), modules)
			writeJSON(t, filepath.Join(d, "1_Pooling", "config.json"), map[string]bool{"pooling_mode_mean_tokens": true})
		}, PoolMean, false, 0, nil, nil},
		{"prompts", func(d string) {
			writeJSON(t, filepath.Join(d, "config_sentence_transformers.json"),
				map[string]any{"prompts": map[string]string{"query": "q: ", "document": "d: "}})
		}, PoolMean, true, 0, &Prompts{Query: "q: ", Passage: "d: "}, nil},
		{"max pooling", func(d string) {
			writeJSON(t, filepath.Join(d, "modules.json"), modules)
			writeJSON(t, filepath.Join(d, "1_Pooling", "config.json"), map[string]bool{"pooling_mode_max_tokens": true})
		}, PoolMean, false, 0, nil, ErrConfig},
		{"bad json", func(d string) { os.WriteFile(filepath.Join(d, "modules.json"), []byte("[{"), 0o644) },
			PoolMean, true, 0, nil, ErrConfig},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			c.setup(dir)
			sc, err := readSTConfig(dir)
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("want %v, got %v", c.err, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if sc.pooling != c.pooling || sc.normalize != c.normalize || sc.maxSeqLen != c.maxLen {
				t.Fatalf("got %+v", sc)
			}
			if (sc.prompts == nil) != (c.prompts == nil) || (c.prompts != nil && *sc.prompts != *c.prompts) {
				t.Fatalf("prompts %+v", sc.prompts)
			}
		})
	}
	if p := promptsFor("bge-small-en-v1.5"); p.Query != "Represent this sentence for searching relevant passages: " || p.Passage != "" {
		t.Errorf("bge prompts %+v", p)
	}
	if p := promptsFor("x", "intfloat/multilingual-e5-small"); p.Query != "query: " || p.Passage != "passage: " {
		t.Errorf("e5 prompts %+v", p)
	}
	if p := promptsFor("all-MiniLM-L6-v2"); p != (Prompts{}) {
		t.Errorf("minilm prompts %+v", p)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(dir, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("empty folder: %v", err)
	}
	writeJSON(t, filepath.Join(dir, "config.json"), map[string]any{"model_type": "gpt2", "hidden_size": 8, "num_attention_heads": 2})
	os.WriteFile(filepath.Join(dir, "model.safetensors"), []byte{}, 0o644)
	if _, err := Load(dir, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("gpt2: %v", err)
	}
	writeJSON(t, filepath.Join(dir, "config.json"), map[string]any{"model_type": "bert", "hidden_size": 8,
		"num_attention_heads": 2, "num_hidden_layers": 1, "intermediate_size": 16, "max_position_embeddings": 8})
	if _, err := Load(dir, nil); !errors.Is(err, weights.ErrCorrupt) {
		t.Errorf("empty safetensors: %v", err)
	}
	writeSafetensors(t, filepath.Join(dir, "model.safetensors"),
		map[string][]float32{"embeddings.word_embeddings.weight": make([]float32, 8*4)},
		map[string][]int{"embeddings.word_embeddings.weight": {4, 8}})
	_, err := Load(dir, nil)
	if !errors.Is(err, weights.ErrNotFound) {
		t.Errorf("missing tensors: %v", err)
	}
	t.Log(err)
}

// TestTokenStatesPoolToEmbed: the token states, mean-pooled (or their
// first row for CLS pooling) and normalised as Embed does, are Embed's
// vector to 1e-6, for every fixture text (long ones truncated alike), in
// mixed batches; and each sequence has one state per token it kept.
func TestTokenStatesPoolToEmbed(t *testing.T) {
	for _, name := range []string{"all-MiniLM-L6-v2", "multilingual-e5-small"} {
		t.Run(name, func(t *testing.T) {
			enc, err := Load(modelDir(t, name), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer enc.Close()
			recs := readFixture(t, name)
			var ids [][]int32
			for _, r := range recs {
				if r.IDs != nil && len(ids) < 48 {
					ids = append(ids, r.IDs)
				}
			}
			ctx := context.Background()
			want, err := enc.Embed(ctx, ids)
			if err != nil {
				t.Fatal(err)
			}
			got, err := enc.TokenStates(ctx, ids)
			if err != nil {
				t.Fatal(err)
			}
			H := enc.Dim()
			for i, st := range got {
				if n := min(len(ids[i]), enc.MaxLen()); len(st) != n*H {
					t.Fatalf("text %d: %d floats, want %d tokens × %d", i, len(st), n, H)
				}
				v := make([]float32, H)
				n := len(st) / H
				if enc.Pooling() == PoolCLS {
					n = 1
				}
				for k := range n {
					for j := range v {
						v[j] += st[k*H+j]
					}
				}
				for j := range v {
					v[j] /= float32(n)
				}
				if enc.Normalized() {
					l2normalize(v)
				}
				for j := range v {
					if d := math.Abs(float64(v[j] - want[i][j])); d > 1e-6 {
						t.Fatalf("text %d component %d: pooled token states %v, Embed %v", i, j, v[j], want[i][j])
					}
				}
			}
			if _, err := enc.TokenStates(ctx, [][]int32{{}}); !errors.Is(err, ErrInput) {
				t.Fatalf("empty sequence: %v", err)
			}
		})
	}
}
