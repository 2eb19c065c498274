package quarry

import "github.com/quarry-rag/quarry/internal/base"

// Vocabulary types, defined in internal/base and re-exported here.
type (
	// Document is a source document; ID is unique within a collection.
	Document = base.Document
	// Section is a heading and the byte range it covers.
	Section = base.Section
	// Chunk is the unit of retrieval.
	Chunk = base.Chunk
	// Hit is a retrieved chunk with its score.
	Hit = base.Hit
	// Filter is a typed metadata predicate.
	Filter = base.Filter
	// Value is a typed metadata value.
	Value = base.Value
	// Metadata maps keys to typed values.
	Metadata = base.Metadata
)
