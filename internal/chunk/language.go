package chunk

import (
	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/text"
)

// DetectLanguages sets the Language of each chunk of doc from the chunk's
// own text, so that a document mixing languages (an English report with a
// German appendix, a bilingual contract) gets each part's analyzer. A
// chunk whose language cannot be told with confidence (text.MinConfidence)
// keeps doc.Language, the answer on the larger text; a chunk that holds
// nearly all of the document keeps it too, without a second detection.
//
// Call it only when doc.Language was itself detected: a language given by
// the caller, or pinned for the collection, must not be second-guessed.
func DetectLanguages(doc *base.Document, chunks []base.Chunk) {
	for i := range chunks {
		DetectLanguage(doc, &chunks[i])
	}
}

// DetectLanguage sets one chunk's Language as DetectLanguages does, so that
// the chunks of a batch can be detected in parallel across documents.
func DetectLanguage(doc *base.Document, c *base.Chunk) {
	if 10*len(c.Text) >= 9*len(doc.Text) {
		c.Language = doc.Language
		return
	}
	if l := text.ConfidentLanguage(c.Text); l != "" {
		c.Language = l
	} else {
		c.Language = doc.Language
	}
}
