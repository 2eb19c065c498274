package embedded

import (
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/index/vector"
	"github.com/quarry-rag/quarry/internal/kernels"
	"github.com/quarry-rag/quarry/internal/store"
)

// Verify checks that the store is whole and that the index agrees with it:
// every document has all its chunks, each chunk's text is the stated slice
// of its document, no chunk is orphaned, the index holds exactly the
// stored chunks, and the vector index holds one vector per stored one. It reads everything; use it in tests and `quarry check`.
func (b *Backend) Verify(ctx context.Context) error {
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.mu.closed {
		return store.ErrClosed
	}
	docs, chunks, texts := 0, 0, 0
	err := b.db.View(func(tx *bolt.Tx) error {
		err := tx.Bucket(bucketDocs).ForEach(func(k, v []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			var d storedDoc
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("%w: document %q: %v", store.ErrCorrupt, k, err)
			}
			if err := loadText(tx, &d); err != nil {
				return err
			}
			texts += d.TextLen
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
				if flat := vector.FlatOf(b.mu.vix); flat != nil {
					for j, id := range e.ids {
						if v := flat.Get(id); len(v) != b.dim || v[0] != vs[j][0] {
							return fmt.Errorf("store: chunk %q: stored vector and in-memory vector disagree", base.ChunkID(d.ID, j))
						}
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
		stored := 0
		if err := tx.Bucket(bucketText).ForEach(func(_, v []byte) error { stored += len(v); return nil }); err != nil {
			return err
		}
		if stored != texts {
			return fmt.Errorf("%w: %d bytes of stored text for %d bytes of live documents' text", store.ErrCorrupt, stored, texts)
		}
		if b.dim > 0 {
			if n := tx.Bucket(bucketVectors).Stats().KeyN; n != chunks {
				return fmt.Errorf("%w: %d stored vectors for %d chunks of live documents", store.ErrCorrupt, n, chunks)
			}
			if n := b.numVectorsLocked(); n != chunks {
				return fmt.Errorf("store: the vector index holds %d vectors, the store %d", n, chunks)
			}
			if err := b.spotCheckVectorsLocked(tx, chunks); err != nil {
				return err
			}
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

// spotCheckVectorsLocked searches the vector index for up to 64 stored
// vectors, each restricted to its own chunk: the index must return that
// chunk with the stored vector's self-similarity (int8 codes: the chunk
// only). A vector filed under the wrong chunk id fails it.
func (b *Backend) spotCheckVectorsLocked(tx *bolt.Tx, chunks int) error {
	if chunks == 0 || b.mu.vix == nil {
		return nil
	}
	step := max(1, chunks/64)
	seen := 0
	for i := range b.mu.cat.docs {
		e := &b.mu.cat.docs[i]
		if !e.live {
			continue
		}
		for j, id := range e.ids {
			seen++
			if seen%step != 0 {
				continue
			}
			vs, err := readVectors(tx, e.attrs.ID, len(e.ids), b.dim)
			if err != nil {
				return err
			}
			v := vs[j]
			res, err := b.mu.vix.Search(v, 1, 0, func(x uint32) bool { return x == id })
			if err != nil {
				return err
			}
			if len(res) != 1 || res[0].ID != id {
				return fmt.Errorf("store: vector index does not find chunk %q by its own vector", base.ChunkID(e.attrs.ID, j))
			}
			if q := b.cfg.Vector.Quantization; q == "" || q == vector.QuantSQ8 { // exact scores
				want := kernels.Dot(v, v)
				if d := res[0].Score - want; d > 1e-3*want+1e-6 || d < -1e-3*want-1e-6 {
					return fmt.Errorf("store: chunk %q: the vector index holds another vector than the store (self-similarity %v, want %v)", base.ChunkID(e.attrs.ID, j), res[0].Score, want)
				}
			}
		}
	}
	return nil
}
