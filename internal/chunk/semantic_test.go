package chunk

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"unicode"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/text"
)

// fakeTopicEmbed is a test fake for an embedding model: the vector of a
// text counts its words naming each topic, so texts on one topic point
// the same way and a topic change is a drop in similarity.
var topicWords = map[string]int{"cat": 0, "stock": 1, "rain": 2}

func fakeTopicEmbed(_ context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v := make([]float32, len(topicWords))
		for _, w := range strings.FieldsFunc(strings.ToLower(t), func(r rune) bool { return !unicode.IsLetter(r) }) {
			if k, ok := topicWords[w]; ok {
				v[k]++
			}
		}
		out[i] = v
	}
	return out, nil
}

// fakeRandomEmbed is a test fake that gives every text a pseudo-random
// vector of dimension 8 seeded by the text, so equal texts get equal
// vectors whatever the order of the calls.
func fakeRandomEmbed(_ context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		h := fnv.New64a()
		h.Write([]byte(t))
		rng := rand.New(rand.NewSource(int64(h.Sum64())))
		v := make([]float32, 8)
		for j := range v {
			v[j] = float32(rng.NormFloat64())
		}
		out[i] = v
	}
	return out, nil
}

// recorder counts the calls of an embedder and keeps the texts of the last.
type recorder struct {
	f     EmbedFunc
	calls atomic.Int64
	texts []string
}

func (r *recorder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	r.calls.Add(1)
	r.texts = slices.Clone(texts)
	return r.f(ctx, texts)
}

// topicSentences returns n sentences, each naming topic once.
func topicSentences(topic string, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "The %s note %d has six words.", topic, i)
	}
	return b.String()
}

func TestSemanticTopicBoundaries(t *testing.T) {
	cats, stocks, rain := topicSentences("cat", 5), topicSentences("stock", 6), topicSentences("rain", 4)
	tests := []struct {
		name   string
		blocks []string
		sep    string
	}{
		{"three topics, one line", []string{cats, stocks, rain}, " "},
		{"three topics, line breaks", []string{cats, stocks, rain}, "\n"},
		{"back to the first topic", []string{cats, stocks, topicSentences("cat", 4)}, " "},
		{"two topics", []string{topicSentences("cat", 8), topicSentences("rain", 8)}, " "},
	}
	for _, tt := range tests {
		for _, window := range []int{NoWindow, 1, 2} {
			t.Run(fmt.Sprintf("%s/window=%d", tt.name, window), func(t *testing.T) {
				doc := &base.Document{ID: "t", Text: strings.Join(tt.blocks, tt.sep), Language: "en"}
				rec := &recorder{f: fakeTopicEmbed}
				cfg := Config{Strategy: StrategySemantic, Size: 64, Embed: rec, Window: window}
				cs, err := mustNew(t, cfg).(ContextChunker).ChunkContext(context.Background(), doc)
				if err != nil {
					t.Fatal(err)
				}
				if got := chunkTexts(cs); !slices.Equal(got, tt.blocks) {
					t.Errorf("chunks = %q\nwant %q", got, tt.blocks)
				}
				cfg.EnsureDefaults()
				checkChunks(t, doc, cs, cfg)
				var sents []string
				for _, s := range text.Sentences(doc.Text) {
					sents = append(sents, doc.Text[s.Start:s.End])
				}
				if rec.calls.Load() != 1 || !slices.Equal(rec.texts, sents) {
					t.Errorf("%d embed calls, last with %q; want 1 call with the sentences %q", rec.calls.Load(), rec.texts, sents)
				}
			})
		}
	}
}

func TestSemanticSections(t *testing.T) {
	// One topic throughout: only the sections cut it.
	txt := "Intro. The cat naps.\n# One\nThe cat eats. The cat runs. The cat sits.\n# Two\nThe cat purrs. The cat hides."
	at := func(s string) int { return strings.Index(txt, s) }
	doc := &base.Document{ID: "s", Text: txt, Sections: []base.Section{
		{Title: "One", Level: 1, Start: at("# One"), End: at("# Two")},
		{Title: "Two", Level: 1, Start: at("# Two"), End: len(txt)},
	}}
	rec := &recorder{f: fakeTopicEmbed}
	cfg := Config{Strategy: StrategySemantic, Size: 100, Embed: rec, Window: 3}
	cs, err := mustNew(t, cfg).(ContextChunker).ChunkContext(context.Background(), doc)
	if err != nil {
		t.Fatal(err)
	}
	var desc []string
	for _, c := range cs {
		desc = append(desc, c.Section+"|"+c.Text)
	}
	want := []string{"|Intro. The cat naps.", "One|# One\nThe cat eats. The cat runs. The cat sits.", "Two|# Two\nThe cat purrs. The cat hides."}
	if !slices.Equal(desc, want) {
		t.Errorf("chunks = %q\nwant %q", desc, want)
	}
	cfg.EnsureDefaults()
	checkChunks(t, doc, cs, cfg)
	// One call with the sentences of the regions with two or more.
	want = []string{"Intro.", "The cat naps.", "# One", "The cat eats.", "The cat runs.", "The cat sits.", "# Two", "The cat purrs.", "The cat hides."}
	if !slices.Equal(rec.texts, want) || rec.calls.Load() != 1 {
		t.Errorf("%d calls, embedded %q\nwant %q", rec.calls.Load(), rec.texts, want)
	}
}

func TestSemanticSizes(t *testing.T) {
	catsLong := topicSentences("cat", 30) // 7 tokens a sentence
	short := "The stock fell."            // 3 tokens
	tests := []struct {
		name string
		size int
		text string
		want []string
	}{
		// No drop in similarity: the one segment is split by the recursive
		// strategy.
		{"long segment split", 20, catsLong, nil},
		// A lone sentence on another topic is too small (3 < 40/8) and
		// joins a neighbour (the earlier on a tie).
		{"small segment merged", 40, topicSentences("cat", 5) + " " + short + " " + topicSentences("rain", 5),
			[]string{topicSentences("cat", 5) + " " + short, topicSentences("rain", 5)}},
		// It joins the neighbour across the smaller drop.
		{"small segment merged with the nearer topic", 40, topicSentences("cat", 5) + " The stock of rain fell. " + topicSentences("rain", 5),
			[]string{topicSentences("cat", 5), "The stock of rain fell. " + topicSentences("rain", 5)}},
		// Neither neighbour has room for it: it stays alone.
		{"small segment alone", 36, topicSentences("cat", 5) + " " + short + " " + topicSentences("rain", 5),
			[]string{topicSentences("cat", 5), short, topicSentences("rain", 5)}},
		// Small segments merge with each other and keep merging.
		{"small segments chain", 48, "The cat a. The stock b. The rain c. The cat d. " + topicSentences("stock", 6),
			[]string{"The cat a. The stock b. The rain c. The cat d.", topicSentences("stock", 6)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := &base.Document{ID: "z", Text: tt.text}
			cfg := Config{Strategy: StrategySemantic, Size: tt.size, Embed: EmbedFunc(fakeTopicEmbed), Window: NoWindow}
			cs := mustNew(t, cfg).Chunk(doc)
			cfg.EnsureDefaults()
			checkChunks(t, doc, cs, cfg)
			if tt.want == nil {
				want := mustNew(t, Config{Size: tt.size}).Chunk(doc)
				if !slices.Equal(chunkTexts(cs), chunkTexts(want)) || len(cs) < 2 {
					t.Errorf("chunks = %q\nwant the recursive chunks %q", chunkTexts(cs), chunkTexts(want))
				}
				return
			}
			if got := chunkTexts(cs); !slices.Equal(got, tt.want) {
				t.Errorf("chunks = %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestSemanticErrors(t *testing.T) {
	doc := &base.Document{ID: "e", Text: topicSentences("cat", 4) + "\n\n" + topicSentences("stock", 4)}
	errDown := errors.New("model is down")
	bad := func(vecs [][]float32, err error) EmbedFunc {
		return func(context.Context, []string) ([][]float32, error) { return vecs, err }
	}
	tests := []struct {
		name  string
		embed EmbedFunc
		want  error
	}{
		{"embedder error", bad(nil, errDown), errDown},
		{"too few vectors", bad([][]float32{{1}}, nil), ErrEmbedding},
		{"dimensions differ", func(ctx context.Context, texts []string) ([][]float32, error) {
			v, _ := fakeTopicEmbed(ctx, texts)
			v[3] = v[3][:2]
			return v, nil
		}, ErrEmbedding},
		{"NaN", func(ctx context.Context, texts []string) ([][]float32, error) {
			v, _ := fakeTopicEmbed(ctx, texts)
			v[5][1] = float32(math.NaN())
			return v, nil
		}, ErrEmbedding},
		{"empty vectors", func(_ context.Context, texts []string) ([][]float32, error) {
			return make([][]float32, len(texts)), nil
		}, ErrEmbedding},
	}
	recursive := chunkTexts(mustNew(t, Config{Size: 64}).Chunk(doc))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := mustNew(t, Config{Strategy: StrategySemantic, Size: 64, Embed: tt.embed})
			cs, err := c.(ContextChunker).ChunkContext(context.Background(), doc)
			if !errors.Is(err, tt.want) || cs != nil {
				t.Fatalf("ChunkContext = %d chunks, %v; want none and %v", len(cs), err, tt.want)
			}
			if !strings.Contains(err.Error(), `"e"`) {
				t.Errorf("error %q does not name the document", err)
			}
			// Chunk falls back to the recursive strategy.
			if got := chunkTexts(c.Chunk(doc)); !slices.Equal(got, recursive) {
				t.Errorf("Chunk after an error = %q, want the recursive chunks %q", got, recursive)
			}
		})
	}

	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		for _, cfg := range []Config{{Strategy: StrategySemantic, Embed: &recorder{f: fakeTopicEmbed}}, {Strategy: StrategyFixed}, {}} {
			if _, err := mustNew(t, cfg).(ContextChunker).ChunkContext(ctx, doc); !errors.Is(err, context.Canceled) {
				t.Errorf("%s: ChunkContext with a cancelled context = %v", cfg.Strategy, err)
			}
			if r, ok := cfg.Embed.(*recorder); ok && r.calls.Load() != 0 {
				t.Errorf("embedder called with a cancelled context")
			}
		}
	})

	t.Run("nothing to compare", func(t *testing.T) {
		rec := &recorder{f: bad(nil, errDown)}
		c := mustNew(t, Config{Strategy: StrategySemantic, Embed: rec}).(ContextChunker)
		for _, s := range []string{"", " \n\n ", "One sentence only.", "# Title\n\nA sentence."} {
			doc := &base.Document{ID: "n", Text: s}
			if s == "# Title\n\nA sentence." {
				doc.Sections = []base.Section{{Title: "Title", Start: 0, End: len(s) - len("A sentence.")}}
			}
			cs, err := c.ChunkContext(context.Background(), doc)
			if err != nil || len(cs) != len(mustNew(t, Config{}).Chunk(doc)) {
				t.Errorf("%q: %d chunks, %v", s, len(cs), err)
			}
		}
		if rec.calls.Load() != 0 {
			t.Errorf("embedder called %d times for documents with no region of two sentences", rec.calls.Load())
		}
	})
}

func TestSemanticConfig(t *testing.T) {
	emb := EmbedFunc(fakeTopicEmbed)
	c := Config{Strategy: StrategySemantic, Embed: emb}
	c.EnsureDefaults()
	if c.Size != DefaultSize || c.Overlap != 0 || c.BreakPercentile != 90 || c.Window != 1 {
		t.Errorf("semantic defaults = %+v", c)
	}
	n := Config{Strategy: StrategySemantic, Embed: emb, Window: NoWindow, BreakPercentile: 50}
	n.EnsureDefaults()
	if n.Window != NoWindow || n.BreakPercentile != 50 {
		t.Errorf("explicit values replaced: %+v", n)
	}
	r := Config{}
	r.EnsureDefaults()
	if r.BreakPercentile != 0 || r.Window != 0 {
		t.Errorf("recursive defaults set semantic fields: %+v", r)
	}
	bad := []struct {
		cfg   Config
		field string
	}{
		{Config{Strategy: StrategySemantic}, "strategy"},
		{Config{Strategy: StrategySemantic, Embed: emb, BreakPercentile: -1}, "break percentile"},
		{Config{Strategy: StrategySemantic, Embed: emb, BreakPercentile: 100.5}, "break percentile"},
		{Config{Strategy: StrategySemantic, Embed: emb, BreakPercentile: math.NaN()}, "break percentile"},
		{Config{Strategy: StrategySemantic, Embed: emb, Window: -2}, "window"},
		{Config{Strategy: StrategySemantic, Embed: emb, Size: 8, Overlap: 8}, "overlap"},
		{Config{Strategy: StrategySemantic, Embed: emb, BreakPercentile: 100, Window: 5}, ""},
		{Config{Strategy: StrategyRecursive, Window: -5, BreakPercentile: -3}, ""}, // ignored
	}
	for _, tt := range bad {
		_, err := New(tt.cfg)
		if tt.field == "" {
			if err != nil {
				t.Errorf("New(%+v) = %v, want nil", tt.cfg, err)
			}
			continue
		}
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.field+":") {
			t.Errorf("New(%+v) = %v, want ErrInvalidConfig naming %q", tt.cfg, err, tt.field)
		}
	}
	// Every strategy is a ContextChunker, and for the pure ones
	// ChunkContext is Chunk.
	doc := goldenDoc()
	for _, cfg := range []Config{{}, {Strategy: StrategyFixed, Size: 10}, {Strategy: StrategySemantic, Embed: emb}} {
		ch := mustNew(t, cfg)
		cc, ok := ch.(ContextChunker)
		if !ok {
			t.Fatalf("%s chunker is not a ContextChunker", cfg.Strategy)
		}
		cs, err := cc.ChunkContext(context.Background(), doc)
		if err != nil || !slices.Equal(chunkTexts(cs), chunkTexts(ch.Chunk(doc))) {
			t.Errorf("%s: ChunkContext differs from Chunk (err %v)", cfg.Strategy, err)
		}
	}
}

func TestPercentile(t *testing.T) {
	tests := []struct {
		xs   []float64
		p    float64
		want float64
	}{ // values from numpy.percentile
		{[]float64{1, 2, 3, 4}, 90, 3.7},
		{[]float64{1, 2, 3, 4}, 50, 2.5},
		{[]float64{1, 2, 3, 4}, 100, 4},
		{[]float64{1, 2, 3, 4}, 0, 1},
		{[]float64{5}, 90, 5},
		{[]float64{0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1}, 90, 1},
		{[]float64{0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.1, 1.2, 1.3}, 95, 1.235},
	}
	for _, tt := range tests {
		if got := percentile(tt.xs, tt.p); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("percentile(%v, %v) = %v, want %v", tt.xs, tt.p, got, tt.want)
		}
	}
}

func TestCosineDistance(t *testing.T) {
	tests := []struct {
		a, b []float64
		want float64
	}{
		{[]float64{1, 0}, []float64{1, 0}, 0},
		{[]float64{3, 0}, []float64{0.5, 0}, 0}, // not normalised
		{[]float64{1, 0}, []float64{0, 2}, 1},
		{[]float64{1, 1}, []float64{-1, -1}, 2},
		{[]float64{1, 0}, []float64{1, 1}, 1 - 1/math.Sqrt2},
		{[]float64{0, 0}, []float64{1, 1}, 1},
	}
	for _, tt := range tests {
		if got := cosineDistance(tt.a, tt.b); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("cosineDistance(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestSemanticGaps checks the block distances against a direct
// computation: the mean unit vectors of up to window+1 sentences on each
// side of every gap, for random vectors of differing lengths.
func TestSemanticGaps(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	for range 200 {
		sizes := []int{rng.Intn(6) + 1, rng.Intn(6) + 1, rng.Intn(3)}
		n := 0
		var parts []part
		for _, m := range sizes {
			parts = append(parts, part{sents: make([]text.Span, m)})
			if m > 1 {
				n += m
			}
		}
		dim := rng.Intn(5) + 1
		vecs := make([][]float32, n)
		for i := range vecs {
			vecs[i] = make([]float32, dim)
			for j := range vecs[i] {
				vecs[i][j] = float32(rng.NormFloat64() * 10)
			}
		}
		w := rng.Intn(4)
		c := &semantic{window: w}
		if err := c.setGaps(parts, vecs, n); err != nil {
			t.Fatal(err)
		}
		unitSum := func(lo, hi int) []float64 { // vecs[lo..hi]
			s := make([]float64, dim)
			for _, v := range vecs[lo : hi+1] {
				var nn float64
				for _, x := range v {
					nn += float64(x) * float64(x)
				}
				for j, x := range v {
					s[j] += float64(x) / math.Sqrt(nn)
				}
			}
			return s
		}
		k := 0
		for _, p := range parts {
			m := len(p.sents)
			if m < 2 {
				if p.gaps != nil {
					t.Fatalf("gaps for a part of %d sentences", m)
				}
				continue
			}
			for i, g := range p.gaps {
				want := cosineDistance(unitSum(k+max(i-w, 0), k+i), unitSum(k+i+1, k+min(i+1+w, m-1)))
				if math.Abs(g-want) > 1e-9 {
					t.Fatalf("window %d, part of %d, gap %d = %v, want %v", w, m, i, g, want)
				}
			}
			k += m
		}
	}
}

// TestSemanticRandomizedInvariants checks every package guarantee for the
// semantic strategy on mutated documents with random sections, sizes,
// percentiles and windows, with a seeded random-vector embedder.
func TestSemanticRandomizedInvariants(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	seeds := []string{goldenDoc().Text, topicSentences("cat", 6) + "\n\n" + topicSentences("stock", 9), "A b c. D e f.\n\nG h i.", "一二三。四五\n\n\n六", "x\xffy z. \u00a0Ω."}
	alphabet := []string{"a", "B", ".", " ", "\n", "\n\n", "一", "。", "\xff", "é", "1", "(", ")", "\"", "!", "?", "e.g.", "Dr.", "\u00a0", "\r", "The cat sat. "}
	for range 2000 {
		b := []byte(seeds[rng.Intn(len(seeds))])
		for k := rng.Intn(20); k > 0; k-- {
			pos := rng.Intn(len(b) + 1)
			if rng.Intn(2) == 0 && len(b) > 0 {
				end := min(len(b), pos+rng.Intn(30))
				b = append(b[:pos:pos], b[end:]...)
			} else {
				b = append(b[:pos:pos], append([]byte(alphabet[rng.Intn(len(alphabet))]), b[pos:]...)...)
			}
		}
		s := string(b)
		var secs []base.Section
		for k := rng.Intn(4); k > 0 && len(s) > 0; k-- {
			secs = append(secs, base.Section{Title: fmt.Sprint(k), Start: rng.Intn(len(s)), End: rng.Intn(len(s) + 1)})
		}
		size := rng.Intn(64) + 1
		cfg := Config{
			Strategy:        StrategySemantic,
			Size:            size,
			Overlap:         rng.Intn(size),
			Embed:           EmbedFunc(fakeRandomEmbed),
			BreakPercentile: float64(rng.Intn(101)),
			Window:          rng.Intn(4) - 1,
		}
		doc := &base.Document{ID: "r", Text: s, Sections: secs}
		cs, err := mustNew(t, cfg).(ContextChunker).ChunkContext(context.Background(), doc)
		if err != nil {
			t.Fatal(err)
		}
		cfg.EnsureDefaults()
		checkChunks(t, doc, cs, cfg)
	}
}

func FuzzSemantic(f *testing.F) {
	f.Add(goldenDoc().Text, uint16(24), uint8(90), int8(1), []byte{3, 40, 90, 200})
	f.Add(topicSentences("cat", 3)+" "+topicSentences("rain", 3), uint16(8), uint8(50), int8(-1), []byte{})
	f.Add("一二三。四五\n\n\n六", uint16(1), uint8(100), int8(0), []byte{1, 5})
	f.Fuzz(func(t *testing.T, s string, size uint16, pct uint8, window int8, secBytes []byte) {
		cfg := Config{
			Strategy:        StrategySemantic,
			Size:            int(size%64) + 1,
			BreakPercentile: float64(pct % 101),
			Window:          max(int(window)%4, NoWindow),
			Embed:           EmbedFunc(fakeRandomEmbed),
		}
		var secs []base.Section
		for i := 0; i+1 < len(secBytes) && len(s) > 0; i += 2 {
			secs = append(secs, base.Section{Title: fmt.Sprint(i), Level: i % 3,
				Start: int(secBytes[i]) * len(s) / 256, End: int(secBytes[i+1]) * len(s) / 256})
		}
		doc := &base.Document{ID: "f", Text: s, Sections: secs}
		cs, err := mustNew(t, cfg).(ContextChunker).ChunkContext(context.Background(), doc)
		if err != nil {
			t.Fatal(err)
		}
		cfg.EnsureDefaults()
		checkChunks(t, doc, cs, cfg)
	})
}

// BenchmarkSemantic20Sentences measures the chunker's own overhead on a
// 20-sentence document: the fake embedder costs little.
func BenchmarkSemantic20Sentences(b *testing.B) {
	doc := &base.Document{ID: "b", Text: topicSentences("cat", 7) + " " + topicSentences("stock", 7) + " " + topicSentences("rain", 6)}
	for _, window := range []int{NoWindow, 1} {
		b.Run(fmt.Sprintf("window=%d", window), func(b *testing.B) {
			c := mustNew(b, Config{Strategy: StrategySemantic, Size: 64, Embed: EmbedFunc(fakeTopicEmbed), Window: window})
			b.SetBytes(int64(len(doc.Text)))
			b.ReportAllocs()
			for b.Loop() {
				if n := len(c.Chunk(doc)); n != 3 {
					b.Fatalf("%d chunks, want 3", n)
				}
			}
		})
	}
}
