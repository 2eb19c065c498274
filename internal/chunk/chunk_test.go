package chunk

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/text"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

func mustNew(t testing.TB, cfg Config) Chunker {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestConfig(t *testing.T) {
	var c Config
	c.EnsureDefaults()
	if c != (Config{Strategy: StrategyRecursive, Size: 256, Overlap: 0}) {
		t.Errorf("recursive defaults = %+v", c)
	}
	f := Config{Strategy: StrategyFixed}
	f.EnsureDefaults()
	if f != (Config{Strategy: StrategyFixed, Size: 256, Overlap: 32}) {
		t.Errorf("fixed defaults = %+v", f)
	}
	f.EnsureDefaults()
	if f.Overlap != 32 {
		t.Errorf("EnsureDefaults not idempotent: %+v", f)
	}
	n := Config{Strategy: StrategyFixed, Overlap: NoOverlap}
	n.EnsureDefaults()
	if n.Overlap != NoOverlap {
		t.Errorf("NoOverlap replaced: %+v", n)
	}

	bad := []struct {
		cfg   Config
		field string
	}{
		{Config{Strategy: "semantic"}, "strategy"},
		{Config{Strategy: "Fixed"}, "strategy"},
		{Config{Size: -1}, "size"},
		{Config{Size: MaxSize + 1}, "size"},
		{Config{Overlap: -2}, "overlap"},
		{Config{Size: 10, Overlap: 10}, "overlap"},
		{Config{Strategy: StrategyFixed, Size: 1}, ""}, // default overlap 0 < 1: valid
	}
	for _, tt := range bad {
		err := tt.cfg.Validate()
		if tt.field == "" {
			if err != nil {
				t.Errorf("Validate(%+v) = %v, want nil", tt.cfg, err)
			}
			continue
		}
		if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tt.field+":") {
			t.Errorf("Validate(%+v) = %v, want ErrInvalidConfig naming %q", tt.cfg, err, tt.field)
		}
		if _, err := New(tt.cfg); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("New(%+v) = %v, want ErrInvalidConfig", tt.cfg, err)
		}
	}
}

func chunkTexts(cs []base.Chunk) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Text)
	}
	return out
}

func words(from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		if i > from {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "w%d", i)
	}
	return b.String()
}

func TestFixedWindows(t *testing.T) {
	doc := &base.Document{ID: "d", Text: "  " + words(0, 25) + ".  ", Language: "en"}
	got := mustNew(t, Config{Strategy: StrategyFixed, Size: 10, Overlap: 2}).Chunk(doc)
	want := []string{words(0, 10), words(8, 18), words(16, 25) + "."}
	if !slices.Equal(chunkTexts(got), want) {
		t.Fatalf("chunks = %q, want %q", chunkTexts(got), want)
	}
	for i, c := range got {
		if c.ID != fmt.Sprintf("d#%d", i) || c.Ordinal != i || c.DocID != "d" || c.Language != "en" {
			t.Errorf("chunk %d identity = %q %d %q %q", i, c.ID, c.Ordinal, c.DocID, c.Language)
		}
	}
	if got[0].Tokens != 10 || got[2].Tokens != 9 {
		t.Errorf("tokens = %d, %d", got[0].Tokens, got[2].Tokens)
	}
	noOverlap := mustNew(t, Config{Strategy: StrategyFixed, Size: 10, Overlap: NoOverlap}).Chunk(doc)
	want = []string{words(0, 10), words(10, 20), words(20, 25) + "."}
	if !slices.Equal(chunkTexts(noOverlap), want) {
		t.Fatalf("no-overlap chunks = %q, want %q", chunkTexts(noOverlap), want)
	}
	// CJK characters are tokens one by one.
	cjk := &base.Document{ID: "z", Text: "一二三四五六七"}
	if got := chunkTexts(mustNew(t, Config{Strategy: StrategyFixed, Size: 3, Overlap: 1}).Chunk(cjk)); !slices.Equal(got, []string{"一二三", "三四五", "五六七"}) {
		t.Fatalf("CJK windows = %q", got)
	}
}

func TestRecursivePacking(t *testing.T) {
	p1 := "Alpha beta gamma. Delta epsilon."      // 5 tokens
	p2 := "Zeta eta theta iota kappa."            // 5 tokens
	p3 := "Lambda mu nu xi omicron pi rho sigma." // 8 tokens
	tests := []struct {
		name string
		cfg  Config
		text string
		want []string
	}{
		{"paragraphs packed", Config{Size: 10}, p1 + "\n\n" + p2 + "\n\n" + p3,
			[]string{p1 + "\n\n" + p2, p3}},
		{"everything fits", Config{Size: 100}, p1 + "\n\n" + p2,
			[]string{p1 + "\n\n" + p2}},
		{"big paragraph split into sentences", Config{Size: 4}, p1,
			[]string{"Alpha beta gamma.", "Delta epsilon."}},
		{"paragraph that fits alone starts a chunk", Config{Size: 7}, p1 + "\n\n" + "One two. Three four five six.",
			[]string{p1, "One two. Three four five six."}},
		{"sentences of a big paragraph fill the open chunk", Config{Size: 7}, p1 + "\n\n" + "One two. Three four five six seven eight.",
			[]string{p1 + "\n\n" + "One two.", "Three four five six seven eight."}},
		{"long sentence split into words", Config{Size: 3}, "One two three four five six seven, eight.",
			[]string{"One two three", "four five six", "seven, eight."}},
		{"overlap by whole sentences", Config{Size: 8, Overlap: 4}, "A b c. D e f. G h i. J k l.",
			[]string{"A b c. D e f.", "D e f. G h i.", "G h i. J k l."}},
		{"overlap never repeats a whole chunk", Config{Size: 6, Overlap: 5}, "A b c d. E f g h. I j.",
			[]string{"A b c d.", "E f g h. I j."}},
		{"overlap dropped when the next piece needs the room", Config{Size: 8, Overlap: 3}, "A b c. D e f g h i.",
			[]string{"A b c.", "D e f g h i."}},
		{"punctuation-only text is kept", Config{Size: 5}, "-----\n\n* * *",
			[]string{"-----\n\n* * *"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := &base.Document{ID: "d", Text: tt.text}
			got := mustNew(t, tt.cfg).Chunk(doc)
			if !slices.Equal(chunkTexts(got), tt.want) {
				t.Errorf("chunks = %q\nwant %q", chunkTexts(got), tt.want)
			}
			cfg := tt.cfg
			cfg.EnsureDefaults()
			checkChunks(t, doc, got, cfg)
		})
	}
}

func TestSections(t *testing.T) {
	txt := "Preface text here.\n# One\nFirst body.\n## One.A\nNested body.\nBack in one.\n# Two\nSecond body."
	at := func(s string) int { return strings.Index(txt, s) }
	doc := &base.Document{ID: "s", Text: txt, Sections: []base.Section{
		{Title: "One", Level: 1, Start: at("# One"), End: at("# Two")},
		{Title: "One.A", Level: 2, Start: at("## One.A"), End: at("Back in one.")},
		{Title: "Two", Level: 1, Start: at("# Two"), End: len(txt)},
	}}
	for _, strategy := range []string{StrategyRecursive, StrategyFixed} {
		got := mustNew(t, Config{Strategy: strategy, Size: 100}).Chunk(doc)
		var desc []string
		for _, c := range got {
			desc = append(desc, c.Section+"|"+c.Text)
		}
		want := []string{
			"|Preface text here.",
			"One|# One\nFirst body.",
			"One.A|## One.A\nNested body.",
			"One|Back in one.",
			"Two|# Two\nSecond body.",
		}
		if !slices.Equal(desc, want) {
			t.Errorf("%s: chunks = %q\nwant %q", strategy, desc, want)
		}
		checkChunks(t, doc, got, Config{Strategy: strategy, Size: 100})
	}
}

func TestRegionsOddSections(t *testing.T) {
	txt := "héllo wörld and more text"
	doc := &base.Document{ID: "o", Text: txt, Sections: []base.Section{
		{Title: "neg", Start: -5, End: 2},       // clamped; 2 is inside "é": moved back to 1
		{Title: "empty", Start: 7, End: 7},      // ignored
		{Title: "reversed", Start: 20, End: 10}, // ignored
		{Title: "past end", Start: 17, End: 1000},
	}}
	got := mustNew(t, Config{Size: 50}).Chunk(doc)
	var desc []string
	for _, c := range got {
		desc = append(desc, c.Section+"|"+c.Text)
	}
	want := []string{"neg|h", "|éllo wörld and", "past end|more text"}
	if !slices.Equal(desc, want) {
		t.Errorf("chunks = %q, want %q", desc, want)
	}
}

func TestBlankDocuments(t *testing.T) {
	for _, s := range []string{"", " ", "\n\n\t \u00a0\u3000"} {
		for _, strategy := range []string{StrategyRecursive, StrategyFixed} {
			if got := mustNew(t, Config{Strategy: strategy}).Chunk(&base.Document{ID: "b", Text: s}); len(got) != 0 {
				t.Errorf("%s on %q: %d chunks", strategy, s, len(got))
			}
		}
	}
}

// checkChunks asserts the package guarantees for doc's chunks.
func checkChunks(t testing.TB, doc *base.Document, cs []base.Chunk, cfg Config) {
	t.Helper()
	regs := regions(doc.Text, doc.Sections)
	covered := 0 // every non-space byte before this offset is covered
	prevStart := -1
	for i, c := range cs {
		if c.Start < 0 || c.End > len(doc.Text) || c.Start >= c.End {
			t.Fatalf("chunk %d: bad span [%d,%d) of %d", i, c.Start, c.End, len(doc.Text))
		}
		if c.Text != doc.Text[c.Start:c.End] {
			t.Fatalf("chunk %d: Text differs from doc.Text[%d:%d]", i, c.Start, c.End)
		}
		if s, e := text.TrimSpan(c.Text, 0, len(c.Text)); s != 0 || e != len(c.Text) {
			t.Fatalf("chunk %d: %q not trimmed", i, c.Text)
		}
		if c.Start <= prevStart {
			t.Fatalf("chunk %d: start %d not after previous start %d", i, c.Start, prevStart)
		}
		prevStart = c.Start
		if c.ID != base.ChunkID(doc.ID, i) || c.Ordinal != i || c.DocID != doc.ID || c.Language != doc.Language {
			t.Fatalf("chunk %d: identity %q/%d/%q/%q", i, c.ID, c.Ordinal, c.DocID, c.Language)
		}
		if n := text.CountTokens(c.Text); c.Tokens != n {
			t.Fatalf("chunk %d: Tokens %d, CountTokens %d", i, c.Tokens, n)
		}
		if c.Tokens > cfg.Size {
			t.Fatalf("chunk %d: %d tokens > size %d: %q", i, c.Tokens, cfg.Size, c.Text)
		}
		inRegion := false
		for _, r := range regs {
			if c.Start >= r.start && c.End <= r.end {
				inRegion = true
				if c.Section != r.title {
					t.Fatalf("chunk %d: section %q, want %q", i, c.Section, r.title)
				}
			}
		}
		if !inRegion {
			t.Fatalf("chunk %d [%d,%d) crosses a section boundary", i, c.Start, c.End)
		}
		if c.Start > covered {
			if gap := doc.Text[covered:c.Start]; !blank(gap) {
				t.Fatalf("text %q before chunk %d is in no chunk", gap, i)
			}
		}
		covered = max(covered, c.End)
	}
	if rest := doc.Text[min(covered, len(doc.Text)):]; !blank(rest) {
		t.Fatalf("trailing text %q is in no chunk", rest)
	}
}

func blank(s string) bool {
	a, b := text.TrimSpan(s, 0, len(s))
	return a == b
}

// readDocs reads a BEIR-style corpus.jsonl under QUARRY_DATASETS.
func readDocs(tb testing.TB, rel string, limit int) []string {
	tb.Helper()
	root := os.Getenv("QUARRY_DATASETS")
	if root == "" {
		root = filepath.Join("..", "..", "..", "shared", "datasets")
	}
	f, err := os.Open(filepath.Join(root, rel))
	if os.IsNotExist(err) {
		tb.Skipf("dataset %s not present (set QUARRY_DATASETS)", rel)
	}
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var docs []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() && len(docs) < limit {
		var d struct{ Text string }
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			tb.Fatal(err)
		}
		docs = append(docs, d.Text)
	}
	return docs
}

// TestInvariantsOnCorpora builds multi-section documents from the XQuAD
// paragraphs of several languages and checks every guarantee under a grid
// of configurations.
func TestInvariantsOnCorpora(t *testing.T) {
	for _, lang := range []string{"en", "de", "zh", "hi", "ar", "ru"} {
		paras := readDocs(t, filepath.Join("xquad", lang, "corpus.jsonl"), 60)
		var b strings.Builder
		var secs []base.Section
		b.WriteString(paras[0] + "\n\n")
		for i := 1; i < len(paras); i += 3 {
			start := b.Len()
			fmt.Fprintf(&b, "## Part %d\n\n", i)
			for _, p := range paras[i:min(i+3, len(paras))] {
				b.WriteString(p + "\n\n")
			}
			secs = append(secs, base.Section{Title: fmt.Sprintf("Part %d", i), Level: 2, Start: start, End: b.Len()})
		}
		doc := &base.Document{ID: "x-" + lang, Text: b.String(), Language: lang, Sections: secs}
		for _, cfg := range []Config{
			{}, {Size: 64}, {Size: 16, Overlap: 8}, {Size: 3}, {Size: 1},
			{Strategy: StrategyFixed}, {Strategy: StrategyFixed, Size: 50, Overlap: 49}, {Strategy: StrategyFixed, Size: 1},
		} {
			cs := mustNew(t, cfg).Chunk(doc)
			cfg.EnsureDefaults()
			if len(cs) == 0 {
				t.Fatalf("%s %+v: no chunks", lang, cfg)
			}
			checkChunks(t, doc, cs, cfg)
		}
	}
}

// goldenDoc is a markdown-like document with sections, as a loader would
// produce it.
func goldenDoc() *base.Document {
	txt := `Quarry is a retrieval engine. It stores documents, chunks them and answers questions.

# Installation

Download the binary. Dr. Smith et al. recommend version 1.2.3 or later, e.g. 1.3.

1. Unpack the archive.
2. Run the installer.

## Configuration

Set QUARRY_HOME to a writable directory. The default is ~/.cache/quarry on Linux
and macOS. A very long sentence follows that goes on and on about the many options that exist, listing chunk sizes, overlaps, strategies, analyzers, stemmers, stopword lists and language detection settings without ever stopping for breath.

# 使用方法

文書を追加して検索します。東京の研究者が開発しました。

# Appendix

Nothing else.`
	at := func(s string) int { return strings.Index(txt, s) }
	return &base.Document{ID: "guide", Language: "en", Text: txt, Sections: []base.Section{
		{Title: "Installation", Level: 1, Start: at("# Installation"), End: at("# 使用方法")},
		{Title: "Configuration", Level: 2, Start: at("## Configuration"), End: at("# 使用方法")},
		{Title: "使用方法", Level: 1, Start: at("# 使用方法"), End: at("# Appendix")},
		{Title: "Appendix", Level: 1, Start: at("# Appendix"), End: len(txt)},
	}}
}

func TestChunkGolden(t *testing.T) {
	doc := goldenDoc()
	var b strings.Builder
	for _, cfg := range []Config{
		{Strategy: StrategyRecursive, Size: 24},
		{Strategy: StrategyRecursive, Size: 24, Overlap: 10},
		{Strategy: StrategyFixed, Size: 24, Overlap: 6},
	} {
		cs := mustNew(t, cfg).Chunk(doc)
		checkChunks(t, doc, cs, cfg)
		fmt.Fprintf(&b, "=== %s size=%d overlap=%d\n", cfg.Strategy, cfg.Size, cfg.Overlap)
		for _, c := range cs {
			fmt.Fprintf(&b, "--- %s [%d,%d) tokens=%d section=%q\n%s\n", c.ID, c.Start, c.End, c.Tokens, c.Section, c.Text)
		}
	}
	path := filepath.Join("testdata", "chunks.golden")
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if b.String() != string(want) {
		t.Errorf("chunks differ from %s (run with -update if intended); got:\n%s", path, b.String())
	}
}

func FuzzChunk(f *testing.F) {
	f.Add(goldenDoc().Text, uint16(24), uint16(6), []byte{3, 40, 90, 200}, false)
	f.Add("A b c. D e f.\n\nG h i.", uint16(2), uint16(1), []byte{}, true)
	f.Add("一二三。四五\n\n\n六", uint16(1), uint16(0), []byte{1, 5}, false)
	f.Add("x\xffy z. \u00a0Ω.", uint16(3), uint16(2), []byte{2, 2, 9, 1}, true)
	f.Fuzz(func(t *testing.T, s string, size, overlap uint16, secBytes []byte, fixedStrategy bool) {
		cfg := Config{Size: int(size%64) + 1, Overlap: int(overlap % 64)}
		if cfg.Overlap >= cfg.Size {
			cfg.Overlap = cfg.Size - 1
		}
		if fixedStrategy {
			cfg.Strategy = StrategyFixed
			if cfg.Overlap == 0 {
				cfg.Overlap = NoOverlap
			}
		}
		// Sections from pairs of bytes, scaled to the text.
		var secs []base.Section
		for i := 0; i+1 < len(secBytes) && len(s) > 0; i += 2 {
			a := int(secBytes[i]) * len(s) / 256
			b := int(secBytes[i+1]) * len(s) / 256
			secs = append(secs, base.Section{Title: fmt.Sprint(i), Level: i % 3, Start: a, End: b})
		}
		doc := &base.Document{ID: "f", Text: s, Sections: secs}
		cs := mustNew(t, cfg).Chunk(doc)
		cfg.EnsureDefaults()
		checkChunks(t, doc, cs, cfg)
		if !utf8.ValidString(s) {
			return
		}
		for _, c := range cs {
			if !utf8.ValidString(c.Text) {
				t.Fatalf("chunk %q of valid text is not valid UTF-8", c.Text)
			}
		}
	})
}

// bigText returns about n bytes of English prose in paragraphs.
func bigText(tb testing.TB, n int) string {
	docs := readDocs(tb, filepath.Join("beir", "scifact", "corpus.jsonl"), 2000)
	var b strings.Builder
	for b.Len() < n {
		for _, d := range docs {
			b.WriteString(d)
			b.WriteString("\n\n")
			if b.Len() >= n {
				break
			}
		}
	}
	return b.String()[:n]
}

func BenchmarkChunk1MB(b *testing.B) {
	doc := &base.Document{ID: "big", Text: bigText(b, 1<<20)}
	for _, cfg := range []Config{{Strategy: StrategyRecursive}, {Strategy: StrategyRecursive, Overlap: 32}, {Strategy: StrategyFixed}} {
		b.Run(fmt.Sprintf("%s-overlap%d", cfg.Strategy, cfg.Overlap), func(b *testing.B) {
			c := mustNew(b, cfg)
			b.SetBytes(int64(len(doc.Text)))
			b.ReportAllocs()
			for b.Loop() {
				c.Chunk(doc)
			}
		})
	}
}
