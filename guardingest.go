package quarry

import (
	"context"
	"fmt"

	"github.com/quarry-rag/quarry/internal/store"
)

// scoreChunks scores every chunk of writes for prompt injection, once, and
// stores the score with the chunk (base.Chunk.Injection: a JSON field of
// the stored chunk in the embedded backend; the Weaviate backend does not
// keep it, and its chunks are scored at query time instead).
func (c *Collection) scoreChunks(ctx context.Context, writes []store.DocChunks) error {
	if c.guard == nil {
		return nil
	}
	// ScoreIngest scores only with a vector for every chunk (the dense
	// index's; it never runs an encoder itself) and returns nil otherwise:
	// without them, the passage texts — a copy of the batch's text — are
	// not built at all.
	var vecs [][]float32
	n := 0
	for i := range writes {
		w := &writes[i]
		n += len(w.Chunks)
		if len(w.Vectors) == len(w.Chunks) {
			vecs = append(vecs, w.Vectors...)
		}
	}
	if n == 0 || len(vecs) != n {
		return nil
	}
	texts := make([]string, 0, n)
	sizes := make([]int, len(writes))
	for i := range writes {
		w := &writes[i]
		sizes[i] = len(w.Chunks)
		for j := range w.Chunks {
			texts = append(texts, passageText(&w.Doc, &w.Chunks[j]))
		}
	}
	scores, err := c.guard.ScoreIngest(ctx, texts, vecs, sizes)
	if err != nil {
		return fmt.Errorf("quarry: collection %q: scoring chunks for prompt injection: %w", c.name, err)
	}
	if scores == nil {
		return nil
	}
	k := 0
	for i := range writes {
		for j := range writes[i].Chunks {
			s := scores[k]
			writes[i].Chunks[j].Injection = &s
			k++
		}
	}
	return nil
}
