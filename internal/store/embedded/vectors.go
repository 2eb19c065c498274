package embedded

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"

	bolt "go.etcd.io/bbolt"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/index/vector"
	"github.com/quarry-rag/quarry/internal/store"
)

// Vectors live in the bbolt bucket "vectors" (chunk id → little-endian
// float32s), the source of truth, and in a vector index in memory keyed by
// the chunk's internal id (see vindex.go): an HNSW graph by default, or a
// flat table searched exactly. The HNSW is snapshotted to vectors.snap with
// the BM25 snapshot (see vsnap.go).

var (
	bucketVectors = []byte("vectors")
	keyDim        = []byte("dim")
)

func encodeVector(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func decodeVector(b []byte, dim int) ([]float32, error) {
	v := make([]float32, dim)
	if err := decodeVectorInto(v, b); err != nil {
		return nil, err
	}
	return v, nil
}

// decodeVectorInto decodes b into v, which must have b's dimension.
func decodeVectorInto(v []float32, b []byte) error {
	if len(b) != 4*len(v) {
		return fmt.Errorf("%w: vector of %d bytes, want %d", store.ErrCorrupt, len(b), 4*len(v))
	}
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return nil
}

// vecBatch collects the vectors of one write, added to the index together
// (HNSW inserts them on every core).
type vecBatch struct {
	ids  []uint32
	vecs [][]float32
}

// ensureIndexLocked creates the vector index when the collection's first
// vector arrives. b.mu must be held for writing.
func (b *Backend) ensureIndexLocked() {
	if b.mu.vix != nil || b.dim == 0 {
		return
	}
	ix, err := newIndex(b.cfg.Vector, b.dim, b.fullVectors)
	if err != nil {
		// The configuration was validated by Open and the dimension by
		// checkVectors: reaching this is a bug.
		panic(fmt.Sprintf("store: new vector index: %v", err))
	}
	b.mu.vix = ix
}

// flushVectorsLocked indexes the batch's vectors and trains the IVF if that
// is due, all under b.mu (for Open's rebuild and replay, before any search).
func (b *Backend) flushVectorsLocked(vb *vecBatch) {
	b.addVectorsLocked(vb)
	if x := b.ivfLocked(); x != nil && x.TrainDue() {
		ivf, err := x.Trained()
		if err != nil {
			panic(fmt.Sprintf("store: training the IVF: %v", err)) // sizes were checked: a bug
		}
		x.Install(ivf)
	}
}

// addVectorsLocked indexes the batch's vectors of chunks still catalogued
// (a document written twice in one batch drops its first chunks' ids).
// b.mu must be held for writing.
func (b *Backend) addVectorsLocked(vb *vecBatch) {
	if len(vb.ids) == 0 {
		return
	}
	b.ensureIndexLocked()
	w := 0
	for i, id := range vb.ids {
		if int(id) < len(b.mu.cat.byID) && b.mu.cat.byID[id] >= 0 {
			vb.ids[w], vb.vecs[w] = id, vb.vecs[i]
			w++
		}
	}
	if err := b.mu.vix.AddBatch(vb.ids[:w], vb.vecs[:w]); err != nil {
		// Vectors were validated by checkVectors (or decoded from the
		// store, which only holds validated ones): reaching this is a bug.
		panic(fmt.Sprintf("store: vector index add: %v", err))
	}
	vb.ids, vb.vecs = vb.ids[:0], vb.vecs[:0]
}

// flushSlice is how many vectors flushVectors inserts per hold of b.mu.
const flushSlice = 16

// flushVectors indexes vb in slices of flushSlice vectors, taking b.mu for
// each, so that searches run between slices instead of waiting for a whole
// batch's inserts: with one hold per 500-document batch, dense-search p99
// during ingestion was 100 ms (0.15 ms quiet); with slices of 16, 3–4 ms,
// ingest 3,900 instead of 5,400 chunks/s while searches run
// (BenchmarkSearchDuringIngest) — far above what embedding produces. Until its slice is in, a chunk is found
// by BM25 but not yet by dense search; the generation moves only after the
// last slice, so no answer cached meanwhile outlives the write. b.writeMu
// must be held (no other write interleaves) and b.mu must not be.
func (b *Backend) flushVectors(vb *vecBatch) {
	for lo := 0; lo < len(vb.ids); lo += flushSlice {
		hi := min(lo+flushSlice, len(vb.ids))
		part := vecBatch{ids: vb.ids[lo:hi:hi], vecs: vb.vecs[lo:hi:hi]}
		b.mu.Lock()
		b.addVectorsLocked(&part)
		x := b.ivfLocked()
		b.mu.Unlock()
		if x != nil && x.TrainDue() {
			// k-means with the lock released: searches keep using the
			// buffer's exact scan; writeMu keeps the buffer still.
			ivf, err := x.Trained()
			if err != nil {
				panic(fmt.Sprintf("store: training the IVF: %v", err)) // sizes were checked: a bug
			}
			b.mu.Lock()
			x.Install(ivf)
			b.mu.Unlock()
		}
	}
}

// ivfLocked returns the IVF index, or nil when the index is another kind.
func (b *Backend) ivfLocked() *vector.AutoIVF {
	if b.mu.vix == nil {
		return nil
	}
	return vector.AutoIVFOf(b.mu.vix)
}

// fullVectors reads the stored vectors of internal ids (noID and unknown
// ids stay nil), for an int8 index to rescore its candidates: one read
// transaction for the whole batch, and the vectors are decoded into one
// allocation. The index calls it from Search, which runs with b.mu held.
func (b *Backend) fullVectors(ids []uint32, dst [][]float32) {
	buf := make([]float32, len(ids)*b.dim)
	b.db.View(func(tx *bolt.Tx) error {
		bk := tx.Bucket(bucketVectors)
		for i, id := range ids {
			if id == noID {
				continue
			}
			key := b.mu.ix.Key(id)
			if key == "" {
				continue
			}
			raw := bk.Get([]byte(key))
			if raw == nil {
				continue
			}
			v := buf[i*b.dim : (i+1)*b.dim : (i+1)*b.dim]
			if decodeVectorInto(v, raw) == nil {
				dst[i] = v
			}
		}
		return nil
	})
}

// deleteVectorLocked removes the vector of internal id, if any.
func (b *Backend) deleteVectorLocked(id uint32) {
	if b.mu.vix != nil {
		b.mu.vix.Delete(id)
	}
}

// numVectorsLocked is the number of indexed vectors.
func (b *Backend) numVectorsLocked() int {
	if b.mu.vix == nil {
		return 0
	}
	return b.mu.vix.Len()
}

// readVectors reads the stored vectors of a document's chunks.
func readVectors(tx *bolt.Tx, docID string, n, dim int) ([][]float32, error) {
	if dim == 0 {
		return nil, nil
	}
	vb := tx.Bucket(bucketVectors)
	out := make([][]float32, n)
	for i := range out {
		raw := vb.Get([]byte(base.ChunkID(docID, i)))
		if raw == nil {
			return nil, fmt.Errorf("%w: chunk %q has no vector", store.ErrCorrupt, base.ChunkID(docID, i))
		}
		v, err := decodeVector(raw, dim)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// rebuildVectorsLocked builds the vector index from the stored vectors of
// every catalogued chunk.
func (b *Backend) rebuildVectorsLocked(ctx context.Context) error {
	b.mu.vix = nil
	if b.dim == 0 {
		return nil
	}
	b.ensureIndexLocked()
	var vb vecBatch
	return b.db.View(func(tx *bolt.Tx) error {
		for i := range b.mu.cat.docs {
			e := &b.mu.cat.docs[i]
			if !e.live {
				continue
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			if !sameChunkCount(tx, e.attrs.ID, len(e.ids)) {
				// Changed or deleted after the snapshot the catalog comes
				// from: the log replay that follows re-indexes it.
				continue
			}
			vs, err := readVectors(tx, e.attrs.ID, len(e.ids), b.dim)
			if err != nil {
				return err
			}
			vb.ids = append(vb.ids, e.ids...)
			vb.vecs = append(vb.vecs, vs...)
			if len(vb.ids) >= 4096 {
				b.flushVectorsLocked(&vb)
			}
		}
		b.flushVectorsLocked(&vb)
		return nil
	})
}

// sameChunkCount reports whether the store holds exactly n chunks of
// document docID (Upsert deletes a shorter new version's surplus chunks).
func sameChunkCount(tx *bolt.Tx, docID string, n int) bool {
	cb := tx.Bucket(bucketChunks)
	if n > 0 && cb.Get([]byte(base.ChunkID(docID, n-1))) == nil {
		return false
	}
	return cb.Get([]byte(base.ChunkID(docID, n))) == nil
}

// Dense implements store.Backend: an approximate search in the vector index
// (an exact one with the flat index or q.Exact). The scope is applied inside
// the search, so the K results are the best K visible ones.
func (b *Backend) Dense(ctx context.Context, q store.DenseQuery) ([]base.Hit, error) {
	if q.K <= 0 {
		return nil, nil
	}
	if q.Ef < 0 || q.Ef > maxEf {
		return nil, fmt.Errorf("store: ef must be between 0 and %d, got %d", maxEf, q.Ef)
	}
	b.mu.RLock()
	if b.mu.closed {
		b.mu.RUnlock()
		return nil, store.ErrClosed
	}
	if b.dim == 0 || b.numVectorsLocked() == 0 {
		b.mu.RUnlock()
		return nil, nil
	}
	if len(q.Vector) != b.dim {
		b.mu.RUnlock()
		return nil, fmt.Errorf("%w: query has %d dimensions, the collection %d", store.ErrDimension, len(q.Vector), b.dim)
	}
	accept := b.mu.cat.acceptFunc(q.Scope)
	var res []vector.Result
	var err error
	if q.Exact && vector.FlatOf(b.mu.vix) == nil {
		// Not the index's own exact fallback: an int8 index would rank by
		// approximate scores.
		res, err = b.exactScanLocked(ctx, q.Vector, q.K, accept)
	} else {
		ef := q.Ef
		if ef == 0 {
			ef = b.cfg.Vector.DefaultEffort() // 0 = the index's own default
		}
		res, err = b.mu.vix.Search(q.Vector, q.K, ef, accept)
	}
	if err != nil {
		b.mu.RUnlock()
		return nil, fmt.Errorf("store: dense search: %w", err)
	}
	hits := make([]base.Hit, 0, len(res))
	for _, r := range res {
		key := b.mu.ix.Key(r.ID)
		if key == "" || int(r.ID) >= len(b.mu.cat.byID) || b.mu.cat.byID[r.ID] < 0 {
			continue // cannot happen: vectors join the index after their chunk joins the catalog and leave with it
		}
		docID, ord, _ := base.ParseChunkID(key)
		a := &b.mu.cat.docs[b.mu.cat.byID[r.ID]].attrs
		hits = append(hits, base.Hit{ChunkID: key, DocID: docID, Ordinal: ord, Score: float64(r.Score), Title: a.Title})
	}
	b.mu.RUnlock()
	return hits, b.fillHits(hits, !q.NoText, q.WithVectors)
}

// maxEf bounds DenseQuery.Ef.
const maxEf = 4096

// exactScanLocked is an exhaustive search over the stored vectors, for an
// index that does not keep full-precision vectors in memory. b.mu must be
// held.
func (b *Backend) exactScanLocked(ctx context.Context, q []float32, k int, accept func(uint32) bool) ([]vector.Result, error) {
	var res []vector.Result
	err := b.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketVectors).Cursor()
		buf := make([]float32, b.dim)
		var derr error
		res = vector.TopK(k, func(yield func(id uint32, v []float32)) {
			for key, raw := c.First(); key != nil; key, raw = c.Next() {
				id, ok := b.mu.ix.ID(string(key))
				if !ok || (accept != nil && !accept(id)) {
					continue
				}
				if len(raw) != 4*b.dim {
					derr = fmt.Errorf("%w: vector of chunk %q has %d bytes", store.ErrCorrupt, key, len(raw))
					return
				}
				for i := range buf {
					buf[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
				}
				yield(id, buf)
			}
		}, q)
		if derr == nil {
			derr = ctx.Err()
		}
		return derr
	})
	return res, err
}
