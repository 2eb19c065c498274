package tokenizer

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"unicode/utf8"
)

// modelsDir is where `make models` puts models: ${QUARRY_HOME:-~/.cache/quarry}/models.
func modelsDir() string {
	home := os.Getenv("QUARRY_HOME")
	if home == "" {
		h, _ := os.UserHomeDir()
		home = filepath.Join(h, ".cache", "quarry")
	}
	return filepath.Join(home, "models")
}

type fixtureRec struct {
	Text    string   `json:"text"`
	Pair    *string  `json:"pair"`
	MaxLen  int      `json:"max_len"`
	IDs     []int32  `json:"ids"`
	TypeIDs []int32  `json:"type_ids"`
	Offsets [][2]int `json:"offsets"`
}

func readFixture(t testing.TB, name string) []fixtureRec {
	f, err := os.Open(filepath.Join("testdata", "fixture_"+name+".jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<26)
	var recs []fixtureRec
	first := true
	for sc.Scan() {
		if first { // header
			first = false
			continue
		}
		var r fixtureRec
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return recs
}

func loadModelTokenizer(t testing.TB, name string) *Tokenizer {
	path := filepath.Join(modelsDir(), name, "tokenizer.json")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("model %s is not cached (%s missing): run `make models` first", name, path)
	}
	tk, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// charOffsets converts byte offsets into s to code point offsets, as the
// Python binding reports them.
func charOffsets(s string, off [2]int) [2]int {
	return [2]int{utf8.RuneCountInString(s[:off[0]]), utf8.RuneCountInString(s[:off[1]])}
}

func TestParity(t *testing.T) {
	for _, name := range []string{"all-MiniLM-L6-v2", "multilingual-e5-small"} {
		t.Run(name, func(t *testing.T) {
			recs := readFixture(t, name)
			tk := loadModelTokenizer(t, name)
			if len(recs) < 1000 {
				t.Errorf("fixture has %d records, want >= 1000", len(recs))
			}
			idFail, offFail := 0, 0
			for i, r := range recs {
				opts := &EncodeOpts{MaxLen: r.MaxLen}
				var enc Encoding
				if r.Pair != nil {
					enc = tk.EncodePairWith(r.Text, *r.Pair, opts)
				} else {
					enc = tk.EncodeWith(r.Text, opts)
				}
				if !slices.Equal(enc.IDs, r.IDs) || !slices.Equal(enc.TypeIDs, r.TypeIDs) {
					idFail++
					if idFail <= 5 {
						t.Errorf("record %d (max_len %d, pair %v) %q: ids\n got  %v\n want %v\n tokens %q", i, r.MaxLen, r.Pair != nil, clip(r.Text), clip32(enc.IDs), clip32(r.IDs), clipS(enc.Tokens))
					}
					continue
				}
				for k, o := range enc.Offsets {
					src := r.Text
					if enc.SequenceIDs[k] == 1 {
						src = *r.Pair
					}
					if got := charOffsets(src, o); got != r.Offsets[k] {
						offFail++
						if offFail <= 5 {
							t.Errorf("record %d %q: token %d (%q) offsets %v, want %v", i, clip(r.Text), k, enc.Tokens[k], got, r.Offsets[k])
						}
						break
					}
				}
			}
			t.Logf("%s: %d strings, ids identical for %d, offsets identical for %d", name, len(recs), len(recs)-idFail, len(recs)-idFail-offFail)
			if idFail > 0 || offFail > 0 {
				t.Errorf("%d id mismatches, %d offset mismatches", idFail, offFail)
			}
		})
	}
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

func clip32(v []int32) string {
	if len(v) > 40 {
		return fmt.Sprint(v[:40]) + "…"
	}
	return fmt.Sprint(v)
}

func clipS(v []string) []string {
	if len(v) > 40 {
		return v[:40]
	}
	return v
}
