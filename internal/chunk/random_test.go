package chunk

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/quarry-rag/quarry/internal/base"
)

// TestRandomizedInvariants mutates a few seed documents with tricky
// fragments (terminators, abbreviations, CJK, invalid UTF-8, blank lines)
// and random sections, and checks every guarantee for both strategies.
func TestRandomizedInvariants(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	seeds := []string{goldenDoc().Text, "A b c. D e f.\n\nG h i.", "一二三。四五\n\n\n六", "x\xffy z. \u00a0Ω."}
	alphabet := []string{"a", "B", ".", " ", "\n", "\n\n", "一", "。", "\xff", "é", "1", "(", ")", "\"", "!", "?", "e.g.", "Dr.", "\u00a0", "\r"}
	for range 5000 {
		s := seeds[rng.Intn(len(seeds))]
		b := []byte(s)
		for k := rng.Intn(20); k > 0; k-- {
			pos := rng.Intn(len(b) + 1)
			ins := alphabet[rng.Intn(len(alphabet))]
			if rng.Intn(2) == 0 && len(b) > 0 {
				end := min(len(b), pos+rng.Intn(30))
				b = append(b[:pos:pos], b[end:]...)
			} else {
				b = append(b[:pos:pos], append([]byte(ins), b[pos:]...)...)
			}
		}
		s = string(b)
		size := rng.Intn(64) + 1
		ov := rng.Intn(size)
		fixed := rng.Intn(2) == 0
		var secs []base.Section
		for k := rng.Intn(4); k > 0 && len(s) > 0; k-- {
			secs = append(secs, base.Section{Title: fmt.Sprint(k), Start: rng.Intn(len(s)), End: rng.Intn(len(s) + 1)})
		}
		cfg := Config{Size: size, Overlap: ov}
		if fixed {
			cfg.Strategy = StrategyFixed
		}
		doc := &base.Document{ID: "f", Text: s, Sections: secs}
		cs := mustNew(t, cfg).Chunk(doc)
		cfg.EnsureDefaults()
		checkChunks(t, doc, cs, cfg)
	}
}
