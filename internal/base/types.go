package base

import (
	"time"
	"unicode/utf8"
)

// Document is one source document as the caller sees it. ID is the caller's
// identifier and is unique within a collection.
type Document struct {
	ID       string    `json:"id"`
	Title    string    `json:"title,omitempty"`
	Text     string    `json:"text"`
	Source   string    `json:"source,omitempty"`
	Language string    `json:"language,omitempty"` // ISO 639-1, "" when unknown
	Tenant   string    `json:"tenant,omitempty"`   // "" means the shared tenant
	ACL      []string  `json:"acl,omitempty"`      // principals allowed to read; empty means everyone in the tenant
	Metadata Metadata  `json:"metadata,omitempty"`
	Sections []Section `json:"sections,omitempty"` // headings found by the loader, in text order

	Hash    string    `json:"hash,omitempty"`    // hex sha256 of the content fields, set by the engine
	Version uint64    `json:"version,omitempty"` // 1 on first write, +1 on each content change
	Created time.Time `json:"created,omitempty"`
	Updated time.Time `json:"updated,omitempty"`
}

// Section is a heading and the byte range of Document.Text it covers.
// Chunkers never let a chunk cross a section boundary.
type Section struct {
	Title string `json:"title"`
	Level int    `json:"level,omitempty"`
	Start int    `json:"start"`
	End   int    `json:"end"`
}

// Chunk is the unit of retrieval: a contiguous span of a document's text.
type Chunk struct {
	ID      string `json:"id"` // DocID + "#" + ordinal, see ChunkID
	DocID   string `json:"doc_id"`
	Ordinal int    `json:"ordinal"`
	Text    string `json:"text"`
	Start   int    `json:"start"` // byte offset into Document.Text
	End     int    `json:"end"`   // exclusive byte offset
	// RuneStart is Start counted in Unicode code points; the engine fills it
	// so that citations can report character offsets without re-reading the
	// whole document.
	RuneStart int    `json:"rune_start"`
	Tokens    int    `json:"tokens"`
	Section   string `json:"section,omitempty"`
	Language  string `json:"language,omitempty"`
	// Injection is the chunk's prompt-injection score in [0, 1], computed
	// once at ingest (internal/guard); nil when it was not scored (older
	// data, a backend that does not store it, the guard off).
	Injection *float64 `json:"injection,omitempty"`
}

// Hit is one retrieved chunk with its score. Higher scores are better;
// scores are comparable only within one result list.
type Hit struct {
	ChunkID string  `json:"chunk_id"`
	DocID   string  `json:"doc_id"`
	Ordinal int     `json:"ordinal"`
	Score   float64 `json:"score"`
	Title   string  `json:"title,omitempty"`
	Section string  `json:"section,omitempty"`
	Text    string  `json:"text"`
	Start   int     `json:"start"` // byte offset of the chunk in its document
	End     int     `json:"end"`
	// RuneStart is Start in Unicode code points.
	RuneStart int `json:"rune_start"`
	// Injection is the chunk's stored prompt-injection score (Chunk.Injection),
	// nil when it was not scored.
	Injection *float64 `json:"injection,omitempty"`
	// Vector is the chunk's embedding, filled only when the query asked for
	// it (store.LexicalQuery/DenseQuery.WithVectors), e.g. for MMR.
	Vector []float32 `json:"-"`
}

// RuneOffset converts a byte offset in s to a Unicode code point offset.
// Offsets past the end are clamped.
func RuneOffset(s string, byteOff int) int {
	if byteOff > len(s) {
		byteOff = len(s)
	}
	if byteOff < 0 {
		return 0
	}
	return utf8.RuneCountInString(s[:byteOff])
}
