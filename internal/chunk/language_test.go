package chunk

import (
	"strings"
	"testing"

	"github.com/quarry-rag/quarry/internal/base"
)

func TestDetectLanguagesPerChunk(t *testing.T) {
	en := "Granite forms from slowly cooling magma deep below the surface of the earth. " +
		"It is made mostly of quartz and feldspar, and it is used widely as a building stone."
	de := "Granit entsteht durch das langsame Abkühlen von Magma tief unter der Erdoberfläche. " +
		"Er besteht hauptsächlich aus Quarz und Feldspat und wird häufig als Baustein verwendet."
	th := "หินแกรนิตเกิดจากการเย็นตัวอย่างช้าๆ ของแมกมาใต้พื้นผิวโลก"
	short := "OK 42"
	parts := []string{en, de, th, short}
	doc := &base.Document{ID: "mixed", Text: strings.Join(parts, "\n\n"), Language: "en"}
	// One section per part, so that each is a chunk of its own.
	at := 0
	for i, p := range parts {
		doc.Sections = append(doc.Sections, base.Section{Title: string(rune('A' + i)), Start: at, End: at + len(p)})
		at += len(p) + 2
	}
	chunks := mustNew(t, Config{}).Chunk(doc)
	if len(chunks) != 4 {
		t.Fatalf("got %d chunks, want one per paragraph", len(chunks))
	}
	DetectLanguages(doc, chunks)
	want := []string{"en", "de", "th", "en"} // the last is too short: the document's language
	for i, c := range chunks {
		if c.Language != want[i] {
			t.Errorf("chunk %d %.30q: language %q, want %q", i, c.Text, c.Language, want[i])
		}
	}
}

func TestDetectLanguagesWholeDocumentChunk(t *testing.T) {
	// A chunk that is the whole document keeps the document's language
	// even if it would be detected otherwise: detection already ran on
	// this text.
	doc := &base.Document{ID: "d", Text: "Der Hund schläft im Garten unter dem alten Baum.", Language: "xx"}
	chunks := mustNew(t, Config{}).Chunk(doc)
	DetectLanguages(doc, chunks)
	if len(chunks) != 1 || chunks[0].Language != "xx" {
		t.Fatalf("got %+v", chunks)
	}
}

// TestChunkThaiAtSentences: Thai has no sentence punctuation; the
// recursive chunker must still cut a long paragraph between sentences
// (spaces the segmenter confirms), never inside one.
func TestChunkThaiAtSentences(t *testing.T) {
	sents := []string{
		"ประเทศไทยมีประชากรประมาณเจ็ดสิบล้านคน",
		"กรุงเทพมหานครเป็นเมืองหลวงของประเทศ และเป็นศูนย์กลางทางเศรษฐกิจ",
		"ภาษาไทยเป็นภาษาราชการของประเทศไทย",
		"อาหารไทยมีชื่อเสียงไปทั่วโลกเพราะรสชาติที่หลากหลาย",
		"นักท่องเที่ยวจำนวนมากเดินทางมาเที่ยวทะเลทางภาคใต้",
	}
	doc := &base.Document{ID: "th", Text: strings.Join(sents, " "), Language: "th"}
	chunks := mustNew(t, Config{Size: 15}).Chunk(doc)
	if len(chunks) < 2 {
		t.Fatalf("got %d chunks; the paragraph should not fit in one", len(chunks))
	}
	ends := map[int]bool{}
	at := 0
	for _, s := range sents {
		at += len(s)
		ends[at] = true
		at++ // the space
	}
	for _, c := range chunks {
		if !ends[c.End] {
			t.Errorf("chunk %q ends inside a sentence", c.Text)
		}
	}
}
