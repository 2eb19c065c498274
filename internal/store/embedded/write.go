package embedded

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"

	bolt "go.etcd.io/bbolt"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/index/bm25"
	"github.com/quarry-rag/quarry/internal/store"
)

// termScratch is one analysing goroutine's reused buffers: a chunk's
// terms are listed in them and kept only counted (bm25.Counts), so a
// batch's terms cost 24 bytes a distinct term of each chunk until they are
// indexed rather than 16 bytes a token.
type termScratch struct {
	title, body []string
	counter     bm25.Counter
}

// analyzeChunk returns the counted terms of chunk j of dc.
func (b *Backend) analyzeChunk(dc *store.DocChunks, j int, s *termScratch) bm25.Counts {
	c := &dc.Chunks[j]
	lang := c.Language
	if lang == "" {
		lang = dc.Doc.Language
	}
	an := b.an.Get(lang)
	title := dc.Doc.Title
	if c.Section != "" && c.Section != title {
		title += "\n" + c.Section
	}
	s.title = an.AppendTerms(s.title[:0], title)
	s.body = an.AppendTerms(s.body[:0], c.Text)
	return s.counter.Count(s.title, s.body)
}

// analyzeAll runs analyzeChunk over every chunk of docs on every core:
// chunk by chunk, not document by document, so that a batch of a few
// large documents (an upload's 768 KiB) keeps every core busy.
func (b *Backend) analyzeAll(ctx context.Context, docs []store.DocChunks) ([][]bm25.Counts, error) {
	out := make([][]bm25.Counts, len(docs))
	type ref struct{ doc, chunk int32 }
	var refs []ref
	for i := range docs {
		out[i] = make([]bm25.Counts, len(docs[i].Chunks))
		for j := range docs[i].Chunks {
			refs = append(refs, ref{int32(i), int32(j)})
		}
	}
	workers := min(runtime.GOMAXPROCS(0), len(refs))
	if workers <= 1 {
		var s termScratch
		for _, r := range refs {
			out[r.doc][r.chunk] = b.analyzeChunk(&docs[r.doc], int(r.chunk), &s)
		}
		return out, ctx.Err()
	}
	var wg sync.WaitGroup
	next := make(chan ref, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var s termScratch
			for r := range next {
				out[r.doc][r.chunk] = b.analyzeChunk(&docs[r.doc], int(r.chunk), &s)
			}
		}()
	}
	for _, r := range refs {
		if ctx.Err() != nil {
			break
		}
		next <- r
	}
	close(next)
	wg.Wait()
	return out, ctx.Err()
}

// Upsert implements store.Backend. All documents are committed in one
// transaction (one fsync); each is replaced entirely.
func (b *Backend) Upsert(ctx context.Context, docs []store.DocChunks) error {
	if len(docs) == 0 {
		return nil
	}
	for i := range docs {
		if err := store.CheckDocChunks(&docs[i]); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	if err := b.checkOpen(); err != nil {
		return err
	}
	dim, err := store.CheckVectors(docs, b.dim)
	if err != nil {
		return err
	}
	seq := b.seq.Load()
	// The text is analysed while the commit runs: a commit spends most of
	// its time waiting for the disk (two fdatasyncs, 3-7 ms on this
	// project's test machine whatever the batch's size), time in which the
	// analysis has the cores. Its terms are applied only once the commit
	// has succeeded. The write is acknowledged once durable, so a cancelled
	// ctx does not stop the analysis.
	var terms [][]bm25.Counts
	analysed := make(chan struct{})
	go func() {
		defer close(analysed)
		terms, _ = b.analyzeAll(context.WithoutCancel(ctx), docs)
	}()
	err = b.db.Update(func(tx *bolt.Tx) error {
		dbk, cbk, lbk, vbk, tbk := tx.Bucket(bucketDocs), tx.Bucket(bucketChunks), tx.Bucket(bucketLog), tx.Bucket(bucketVectors), tx.Bucket(bucketText)
		piece := textPieceSize(b.db.Info().PageSize)
		if dim != b.dim {
			if err := tx.Bucket(bucketMeta).Put(keyDim, u64(uint64(dim))); err != nil {
				return err
			}
		}
		for i := range docs {
			d := &docs[i]
			key := []byte(d.Doc.ID)
			oldN := 0
			if v := dbk.Get(key); v != nil {
				var old storedDoc
				if err := json.Unmarshal(v, &old); err != nil {
					return fmt.Errorf("%w: document %q: %v", store.ErrCorrupt, d.Doc.ID, err)
				}
				oldN = old.NumChunks
				if old.TextSeq != 0 {
					if err := deleteText(tbk, old.TextSeq); err != nil {
						return err
					}
				}
			}
			for j := len(d.Chunks); j < oldN; j++ {
				k := []byte(base.ChunkID(d.Doc.ID, j))
				if err := cbk.Delete(k); err != nil {
					return err
				}
				if err := vbk.Delete(k); err != nil {
					return err
				}
			}
			for j := range d.Chunks {
				v, err := json.Marshal(&d.Chunks[j])
				if err != nil {
					return err
				}
				if err := cbk.Put([]byte(d.Chunks[j].ID), v); err != nil {
					return err
				}
				if d.Vectors != nil {
					if err := vbk.Put([]byte(d.Chunks[j].ID), encodeVector(d.Vectors[j])); err != nil {
						return err
					}
				}
			}
			seq++
			rec := storedDoc{Document: d.Doc, NumChunks: len(d.Chunks)}
			if rec.Text != "" {
				if err := putText(tbk, seq, rec.Text, piece); err != nil {
					return err
				}
				rec.Text, rec.TextSeq, rec.TextLen = "", seq, len(d.Doc.Text)
			}
			v, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			if err := dbk.Put(key, v); err != nil {
				return err
			}
			if err := lbk.Put(u64(seq), key); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySeq, u64(seq))
	})
	<-analysed
	if err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	// Durable; now make it searchable: text and catalog at once, vectors in
	// slices (see flushVectors).
	b.mu.Lock()
	b.dim = dim
	var vb vecBatch
	for i := range docs {
		b.applyPutLocked(&docs[i], terms[i], &vb)
		terms[i] = nil // the index holds what it needs
	}
	b.mu.Unlock()
	b.flushVectors(&vb)
	b.mu.Lock()
	b.maybeCompactLocked() // every id of this write is in; see compact.go
	b.mu.Unlock()
	b.seq.Store(seq)
	err = b.maybeSnapshotLocked()
	b.releaseMappedLocked()
	return err
}

// applyPutLocked replaces a document's chunks in the index and catalog; its
// vectors join vb, for flushVectorsLocked. b.mu must be held for writing.
func (b *Backend) applyPutLocked(dc *store.DocChunks, terms []bm25.Counts, vb *vecBatch) {
	b.applyDeleteLocked(dc.Doc.ID)
	ids := make([]uint32, len(dc.Chunks))
	for j := range dc.Chunks {
		id, err := b.mu.ix.AddCounts(dc.Chunks[j].ID, &terms[j])
		if err != nil {
			// Keys are unique because the old chunks were removed above;
			// reaching this is a bug, not bad input.
			panic(fmt.Sprintf("store: index add %q: %v", dc.Chunks[j].ID, err))
		}
		ids[j] = id
		if dc.Vectors != nil {
			vb.ids = append(vb.ids, id)
			vb.vecs = append(vb.vecs, dc.Vectors[j])
		}
	}
	b.mu.cat.put(attrsOf(&dc.Doc, len(dc.Chunks)), ids)
}

// applyDeleteLocked removes a document from the index and catalog.
func (b *Backend) applyDeleteLocked(docID string) {
	for _, id := range b.mu.cat.remove(docID) {
		b.mu.ix.Delete(b.mu.ix.Key(id))
		b.deleteVectorLocked(id)
	}
}

// Delete implements store.Backend.
func (b *Backend) Delete(ctx context.Context, id string) (bool, error) {
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	if err := b.checkOpen(); err != nil {
		return false, err
	}
	seq := b.seq.Load()
	found := false
	err := b.db.Update(func(tx *bolt.Tx) error {
		dbk, cbk := tx.Bucket(bucketDocs), tx.Bucket(bucketChunks)
		v := dbk.Get([]byte(id))
		if v == nil {
			return nil
		}
		found = true
		var old storedDoc
		if err := json.Unmarshal(v, &old); err != nil {
			return fmt.Errorf("%w: document %q: %v", store.ErrCorrupt, id, err)
		}
		if old.TextSeq != 0 {
			if err := deleteText(tx.Bucket(bucketText), old.TextSeq); err != nil {
				return err
			}
		}
		for j := 0; j < old.NumChunks; j++ {
			k := []byte(base.ChunkID(id, j))
			if err := cbk.Delete(k); err != nil {
				return err
			}
			if err := tx.Bucket(bucketVectors).Delete(k); err != nil {
				return err
			}
		}
		if err := dbk.Delete([]byte(id)); err != nil {
			return err
		}
		seq++
		if err := tx.Bucket(bucketLog).Put(u64(seq), []byte(id)); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keySeq, u64(seq))
	})
	if err != nil || !found {
		return false, err
	}
	b.mu.Lock()
	b.applyDeleteLocked(id)
	b.maybeCompactLocked()
	b.mu.Unlock()
	b.seq.Store(seq)
	err = b.maybeSnapshotLocked()
	b.releaseMappedLocked() // the delete decoded the whole stored document
	return true, err
}

func (b *Backend) maybeSnapshotLocked() error {
	if b.cfg.SnapshotEvery < 0 {
		return nil
	}
	if b.seq.Load()-b.snapSeq.Load() < uint64(b.cfg.SnapshotEvery) {
		return nil
	}
	return b.snapshotLocked()
}

func seqOf(k []byte) uint64 { return binary.BigEndian.Uint64(k) }
