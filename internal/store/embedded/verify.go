package embedded

import (
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/store"
)

// Verify checks that the store is whole and that the index agrees with it:
// every document has all its chunks, each chunk's text is the stated slice
// of its document, no chunk is orphaned, and the index holds exactly the
// stored chunks. It reads everything; use it in tests and `quarry check`.
func (b *Backend) Verify(ctx context.Context) error {
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.mu.closed {
		return store.ErrClosed
	}
	docs, chunks := 0, 0
	err := b.db.View(func(tx *bolt.Tx) error {
		err := tx.Bucket(bucketDocs).ForEach(func(k, v []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			var d storedDoc
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("%w: document %q: %v", store.ErrCorrupt, k, err)
			}
			cs, err := readChunks(tx, d.ID, d.NumChunks)
			if err != nil {
				return err
			}
			for _, c := range cs {
				if c.Start < 0 || c.End > len(d.Text) || c.Start > c.End || d.Text[c.Start:c.End] != c.Text {
					return fmt.Errorf("%w: chunk %q text does not match its document", store.ErrCorrupt, c.ID)
				}
				if _, ok := b.mu.ix.ID(c.ID); !ok {
					return fmt.Errorf("store: chunk %q is stored but not indexed", c.ID)
				}
			}
			e, ok := b.mu.cat.lookup(d.ID)
			if !ok || len(e.ids) != d.NumChunks {
				return fmt.Errorf("store: document %q is stored but the catalog disagrees", d.ID)
			}
			if b.dim > 0 {
				vs, err := readVectors(tx, d.ID, d.NumChunks, b.dim)
				if err != nil {
					return err
				}
				for j, id := range e.ids {
					if int(id) >= len(b.mu.vecs) || len(b.mu.vecs[id]) != b.dim || b.mu.vecs[id][0] != vs[j][0] {
						return fmt.Errorf("store: chunk %q: stored vector and in-memory vector disagree", base.ChunkID(d.ID, j))
					}
				}
			}
			docs++
			chunks += d.NumChunks
			return nil
		})
		if err != nil {
			return err
		}
		if n := tx.Bucket(bucketChunks).Stats().KeyN; n != chunks {
			return fmt.Errorf("%w: %d chunk records for %d chunks of live documents", store.ErrCorrupt, n, chunks)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if b.mu.cat.live != docs || b.mu.ix.Len() != chunks {
		return fmt.Errorf("store: index has %d documents and %d chunks, store %d and %d", b.mu.cat.live, b.mu.ix.Len(), docs, chunks)
	}
	return nil
}
