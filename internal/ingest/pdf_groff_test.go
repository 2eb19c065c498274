package ingest

import (
	"context"
	"strings"
	"testing"
)

// TestPDFGroff reads PDFs made by groff's PDF device (testdata/pdf/groff,
// gen.sh): justified text whose runs are positioned with gaps of up to an
// em inside words, fi/fl/ffi ligature glyphs, end-of-line hyphenation and
// a two-column page. The text must read as typed: no words split at
// kerning gaps, ligatures spelled out, hyphenated words joined, the left
// column before the right one and neither interleaved.
func TestPDFGroff(t *testing.T) {
	load := func(name string) string {
		t.Helper()
		docs, err := LoadFile(context.Background(), "testdata/pdf/"+name, nil)
		if err != nil {
			t.Fatal(err)
		}
		checkDoc(t, docs[0])
		return docs[0].Text
	}
	if got, want := load("ligatures.pdf"), "The official firefly flew to the offshore office; efficient fluffy waffles baffled the staff."; got != want {
		t.Errorf("ligatures:\n%q\nwant\n%q", got, want)
	}
	layout := load("layout.pdf")
	for _, s := range []string{"Field Notes on Granite\n\nA. Geologist", "1. Formation\nGranite forms when magma cools slowly deep underground, which lets large crystals",
		"2. Uses\nBuilders use granite for countertops"} {
		if !strings.Contains(layout, s) {
			t.Errorf("layout lacks %q:\n%s", s, layout)
		}
	}
	two := load("twocolumn.pdf")
	words := strings.Fields(strings.NewReplacer(".", " ", ",", " ", ";", " ").Replace(two))
	source := "Left column begins here Basalt is a dark volcanic rock formed from rapidly cooling lava It covers most of the ocean floor and forms the great plateaus of India and the Columbia River"
	if got := strings.Join(words[2:2+len(strings.Fields(source))], " "); got != source {
		t.Errorf("left column reads\n%q\nwant\n%q", got, source)
	}
	for _, s := range []string{"aggregate", "reinforces", "millions", "clusters", "brown", "surface", "mid-ocean"} {
		if !strings.Contains(two, s) {
			t.Errorf("two columns: %q split or missing", s)
		}
	}
	left, right := strings.Index(two, "pillow lavas"), strings.Index(two, "Right column starts")
	if left < 0 || right < left || strings.Contains(two[:right], "Obsidian is") {
		t.Errorf("columns out of order or interleaved:\n%s", two)
	}
}
