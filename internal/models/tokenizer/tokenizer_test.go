package tokenizer

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func mustLoad(t testing.TB, name string) *Tokenizer {
	t.Helper()
	tk, err := Load(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// Expected values come from the Python `tokenizers` package (0.23.3) on the
// same files; offsets are in code points.
func TestEncodeSmall(t *testing.T) {
	type off = [2]int
	cases := []struct {
		file, text string
		ids        []int32
		tokens     []string
		offsets    []off
	}{
		{"wordpiece_small.json", "Hello, world!", []int32{2, 5, 11, 6, 10, 3},
			[]string{"[CLS]", "hello", ",", "world", "!", "[SEP]"}, []off{{0, 0}, {0, 5}, {5, 6}, {7, 12}, {12, 13}, {0, 0}}},
		{"wordpiece_small.json", "unaffable", []int32{2, 7, 8, 9, 3},
			[]string{"[CLS]", "un", "##aff", "##able", "[SEP]"}, []off{{0, 0}, {0, 2}, {2, 5}, {5, 9}, {0, 0}}},
		{"wordpiece_small.json", "Café  中国x", []int32{2, 16, 17, 18, 21, 3},
			[]string{"[CLS]", "cafe", "中", "国", "x", "[SEP]"}, []off{{0, 0}, {0, 4}, {6, 7}, {7, 8}, {8, 9}, {0, 0}}},
		{"wordpiece_small.json", "İx", []int32{2, 19, 22, 3},
			[]string{"[CLS]", "i", "##x", "[SEP]"}, []off{{0, 0}, {0, 1}, {1, 2}, {0, 0}}},
		{"wordpiece_small.json", "[CLS]hello[SEP]", []int32{2, 2, 5, 3, 3},
			[]string{"[CLS]", "[CLS]", "hello", "[SEP]", "[SEP]"}, []off{{0, 0}, {0, 5}, {5, 10}, {10, 15}, {0, 0}}},
		{"wordpiece_small.json", "toolongwordxx", []int32{2, 1, 3},
			[]string{"[CLS]", "[UNK]", "[SEP]"}, []off{{0, 0}, {0, 13}, {0, 0}}},
		{"wordpiece_small.json", "hello\u200bworld\x00", []int32{2, 1, 3},
			[]string{"[CLS]", "[UNK]", "[SEP]"}, []off{{0, 0}, {0, 11}, {0, 0}}},
		{"wordpiece_small.json", "", []int32{2, 3}, []string{"[CLS]", "[SEP]"}, []off{{0, 0}, {0, 0}}},
		{"unigram_small.json", "hello world", []int32{0, 5, 6, 2},
			[]string{"<s>", "▁hello", "▁world", "</s>"}, []off{{0, 0}, {0, 5}, {5, 11}, {0, 0}}},
		{"unigram_small.json", "  hello   world ", []int32{0, 5, 6, 4, 2},
			[]string{"<s>", "▁hello", "▁world", "▁", "</s>"}, []off{{0, 0}, {1, 7}, {9, 15}, {15, 16}, {0, 0}}},
		{"unigram_small.json", "hellq", []int32{0, 7, 11, 11, 3, 2},
			[]string{"<s>", "▁he", "l", "l", "q", "</s>"}, []off{{0, 0}, {0, 2}, {2, 3}, {3, 4}, {4, 5}, {0, 0}}},
		{"unigram_small.json", "ｈｅｌｌｏ", []int32{0, 5, 2}, []string{"<s>", "▁hello", "</s>"}, []off{{0, 0}, {0, 5}, {0, 0}}},
		{"unigram_small.json", "hello <mask>", []int32{0, 5, 18, 2},
			[]string{"<s>", "▁hello", " <mask>", "</s>"}, []off{{0, 0}, {0, 5}, {5, 12}, {0, 0}}},
		{"unigram_small.json", "qqq w", []int32{0, 4, 3, 16, 2},
			[]string{"<s>", "▁", "qqq", "▁w", "</s>"}, []off{{0, 0}, {0, 1}, {0, 3}, {3, 5}, {0, 0}}},
		{"unigram_small.json", "", []int32{0, 2}, []string{"<s>", "</s>"}, []off{{0, 0}, {0, 0}}},
	}
	for _, c := range cases {
		tk := mustLoad(t, c.file)
		e := tk.Encode(c.text)
		var offs []off
		for _, o := range e.Offsets {
			offs = append(offs, charOffsets(c.text, o))
		}
		if !slices.Equal(e.IDs, c.ids) || !slices.Equal(e.Tokens, c.tokens) || !slices.Equal(offs, c.offsets) {
			t.Errorf("%s %q:\n got  %v %q %v\n want %v %q %v", c.file, c.text, e.IDs, e.Tokens, offs, c.ids, c.tokens, c.offsets)
		}
	}
}

func TestEncodePairAndTruncation(t *testing.T) {
	tk := mustLoad(t, "wordpiece_small.json")
	e := tk.EncodePair("hello world", "the cafe")
	if want := []int32{2, 5, 6, 3, 12, 16, 3}; !slices.Equal(e.IDs, want) {
		t.Fatalf("pair ids %v, want %v", e.IDs, want)
	}
	if want := []int32{0, 0, 0, 0, 1, 1, 1}; !slices.Equal(e.TypeIDs, want) {
		t.Fatalf("type ids %v, want %v", e.TypeIDs, want)
	}
	if want := []int8{-1, 0, 0, -1, 1, 1, -1}; !slices.Equal(e.SequenceIDs, want) {
		t.Fatalf("sequence ids %v, want %v", e.SequenceIDs, want)
	}
	// Budget 1 for a 2+2 pair: the first (tie) gives way; budget < specials: no truncation.
	for _, c := range []struct {
		max  int
		want []int32
	}{
		{4, []int32{2, 3, 12, 3}},
		{5, []int32{2, 5, 3, 12, 3}},
		{2, []int32{2, 5, 6, 3, 12, 16, 3}},
		{3, []int32{2, 3, 3}},
	} {
		got := tk.EncodePairWith("hello world", "the cafe", &EncodeOpts{MaxLen: c.max}).IDs
		if !slices.Equal(got, c.want) {
			t.Errorf("MaxLen %d: %v, want %v", c.max, got, c.want)
		}
	}
	if got := tk.EncodeWith("hello world the", &EncodeOpts{MaxLen: 3}).IDs; !slices.Equal(got, []int32{2, 5, 3}) {
		t.Errorf("single truncation: %v", got)
	}
	if got := tk.EncodeWith("hello world", &EncodeOpts{NoSpecialTokens: true}).IDs; !slices.Equal(got, []int32{5, 6}) {
		t.Errorf("no special tokens: %v", got)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	base, err := os.ReadFile(filepath.Join("testdata", "wordpiece_small.json"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, content string
		want          error
		mention       string
	}{
		{"bpe", `{"model":{"type":"BPE","vocab":{},"merges":[]}}`, ErrUnsupported, "BPE"},
		{"bpe-untyped", `{"model":{"vocab":{"a":0},"merges":["a b"]}}`, ErrUnsupported, "BPE"},
		{"wordlevel", `{"model":{"type":"WordLevel","vocab":{"a":0},"unk_token":"a"}}`, ErrUnsupported, "WordLevel"},
		{"normalizer", strings.Replace(string(base), `"BertNormalizer"`, `"Nmt"`, 1), ErrUnsupported, "Nmt"},
		{"pretok", strings.Replace(string(base), `"BertPreTokenizer"`, `"ByteLevel"`, 1), ErrUnsupported, "ByteLevel"},
		{"post", strings.Replace(string(base), `"BertProcessing"`, `"ByteLevel"`, 1), ErrUnsupported, "ByteLevel"},
		{"truncated", string(base[:len(base)/2]), ErrInvalid, ""},
		{"empty", ``, ErrInvalid, ""},
		{"nomodel", `{"normalizer":null}`, ErrInvalid, "no model"},
		{"unk-missing", `{"model":{"type":"WordPiece","unk_token":"[UNK]","vocab":{"a":0}}}`, ErrInvalid, "unk_token"},
		{"unigram-vocab", `{"model":{"type":"Unigram","unk_id":0,"vocab":[["a","x"]]}}`, ErrInvalid, "vocab"},
		{"unigram-unk", `{"model":{"type":"Unigram","unk_id":5,"vocab":[["a",-1.0]]}}`, ErrInvalid, "unk_id"},
		{"charsmap-b64", `{"normalizer":{"type":"Precompiled","precompiled_charsmap":"!!"},"model":{"type":"Unigram","unk_id":0,"vocab":[["a",-1.0]]}}`, ErrInvalid, "charsmap"},
		{"charsmap-size", `{"normalizer":{"type":"Precompiled","precompiled_charsmap":"/////wAAAAA="},"model":{"type":"Unigram","unk_id":0,"vocab":[["a",-1.0]]}}`, ErrInvalid, "trie size"},
		{"template", `{"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"X","type_id":0}}],"pair":[],"special_tokens":{}},"model":{"type":"Unigram","unk_id":0,"vocab":[["a",-1.0]]}}`, ErrInvalid, "X"},
	}
	for _, c := range cases {
		p := filepath.Join(dir, c.name+".json")
		if err := os.WriteFile(p, []byte(c.content), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(p)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.mention) {
			t.Errorf("%s: err = %v, want %v mentioning %q", c.name, err, c.want, c.mention)
		}
	}
	if _, err := Load(filepath.Join(dir, "missing.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestCharsmap checks the double-array trie against mappings of
// SentencePiece's nmt_nfkc table (shipped by the hub package).
func TestCharsmap(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "hub", "nmt_nfkc.charsmap.gz"))
	if err != nil {
		t.Skipf("charsmap not available: %v", err)
	}
	raw := gunzip(t, b)
	m, err := parseCharsmap(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ in, want string }{
		{"ｶ", "カ"}, {"①", "1"}, {"\t", " "}, {"ﬁ", "fi"}, {"™", "TM"}, {"Ａ", "A"}, {"㍿", "株式会社"},
		{"\u3000", " "}, {"e\u0301", "é"},
	} {
		got, ok := m.firstMatch([]byte(c.in))
		if !ok || string(got) != c.want {
			t.Errorf("firstMatch(%q) = %q, %v; want %q", c.in, got, ok, c.want)
		}
	}
	for _, in := range []string{"a", "z", "中", "é"} {
		if got, ok := m.firstMatch([]byte(in)); ok {
			t.Errorf("firstMatch(%q) = %q, want no mapping", in, got)
		}
	}
}
