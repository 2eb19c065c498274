package tokenizer

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

func gunzip(t testing.TB, b []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkEncoding asserts the invariants every encoding must satisfy.
func checkEncoding(t *testing.T, tk *Tokenizer, a, b string, e Encoding) {
	t.Helper()
	n := len(e.IDs)
	if len(e.Tokens) != n || len(e.Offsets) != n || len(e.TypeIDs) != n || len(e.SpecialMask) != n || len(e.SequenceIDs) != n {
		t.Fatalf("inconsistent lengths in %+v", e)
	}
	for i, o := range e.Offsets {
		src := a
		if e.SequenceIDs[i] == 1 {
			src = b
		}
		if o[0] < 0 || o[0] > o[1] || o[1] > len(src) {
			t.Fatalf("token %d %q: offsets %v out of range for %d bytes", i, e.Tokens[i], o, len(src))
		}
		if e.IDs[i] < 0 {
			t.Fatalf("negative id")
		}
	}
}

func fuzzTokenizers(f *testing.F) []*Tokenizer {
	var tks []*Tokenizer
	for _, n := range []string{"wordpiece_small.json", "unigram_small.json"} {
		tk, err := Load(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		tks = append(tks, tk)
	}
	// The real models when cached (`make models`).
	for _, n := range []string{"all-MiniLM-L6-v2", "multilingual-e5-small"} {
		if tk, err := Load(filepath.Join(modelsDir(), n, "tokenizer.json")); err == nil {
			tks = append(tks, tk)
		}
	}
	return tks
}

func FuzzEncode(f *testing.F) {
	for _, s := range []string{"", " ", "Hello, world!", "Café 中国", "👨‍👩‍👧", "e\u0301", "\x00\xff\xfe", "[CLS] <mask>", "㍿ ™ ﬁ", "  a  "} {
		f.Add(s, "pair", 0)
	}
	tks := fuzzTokenizers(f)
	f.Fuzz(func(t *testing.T, a, b string, maxLen int) {
		if maxLen < 0 || maxLen > 1<<16 {
			maxLen = 0
		}
		for _, tk := range tks {
			e := tk.EncodeWith(a, &EncodeOpts{MaxLen: maxLen})
			checkEncoding(t, tk, a, "", e)
			if maxLen >= tk.NumSpecialTokens(false) && maxLen > 0 && e.Len() > maxLen {
				t.Fatalf("MaxLen %d: got %d tokens", maxLen, e.Len())
			}
			p := tk.EncodePairWith(a, b, &EncodeOpts{MaxLen: maxLen})
			checkEncoding(t, tk, a, b, p)
			if utf8.ValidString(a) && maxLen == 0 {
				// Deterministic and independent of pooled scratch state.
				if e2 := tk.Encode(a); len(e2.IDs) != len(e.IDs) {
					t.Fatalf("encoding not deterministic")
				}
			}
		}
	})
}

func FuzzParse(f *testing.F) {
	for _, n := range []string{"wordpiece_small.json", "unigram_small.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"model":{"type":"Unigram","unk_id":0,"vocab":[["",0.0],["a",-1]]}}`))
	f.Add([]byte(`{"normalizer":{"type":"Precompiled","precompiled_charsmap":"CAAAAAEAAAACAAAA"},"model":{"type":"Unigram","vocab":[["a",-1]]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tk, err := Parse(data)
		if err != nil {
			return
		}
		for _, s := range []string{"", "hello world", "Ａé中 \t\x00", "<s>[CLS]"} {
			checkEncoding(t, tk, s, "x", tk.EncodePair(s, "x"))
		}
	})
}

func FuzzCharsmap(f *testing.F) {
	f.Add([]byte{8, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 'x', 0}, []byte("a"))
	if b, err := os.ReadFile(filepath.Join("..", "hub", "nmt_nfkc.charsmap.gz")); err == nil {
		raw := gunzip(f, b)
		f.Add(raw[:4096], []byte("ｶ"))
	}
	f.Fuzz(func(t *testing.T, data, key []byte) {
		m, err := parseCharsmap(data)
		if err != nil {
			return
		}
		m.firstMatch(key)
		n := &normalized{}
		resetNormalized(n, string(key), 0)
		(&precompiledNormalizer{m: m}).normalize(n, &transformer{})
		if len(n.s) != len(n.align) {
			t.Fatalf("alignment length %d for %d bytes", len(n.align), len(n.s))
		}
	})
}
