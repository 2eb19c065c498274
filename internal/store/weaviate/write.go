package weaviate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/store"
)

// Upsert implements store.Backend. Chunks go first, in parallel batches;
// then stale chunks of shorter new versions are deleted; then the document
// objects, which commit the documents. A document whose chunks Weaviate
// rejects is not committed, and the returned error names it; the others
// are.
func (b *Backend) Upsert(ctx context.Context, docs []store.DocChunks) error {
	if len(docs) == 0 {
		return nil
	}
	if err := b.checkOpen(); err != nil {
		return err
	}
	for i := range docs {
		if err := store.CheckDocChunks(&docs[i]); err != nil {
			return err
		}
	}
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	oldDim := int(b.dim.Load())
	dim, err := store.CheckVectors(docs, oldDim)
	if err != nil {
		return err
	}
	need := map[string]base.Kind{}
	for i := range docs {
		for k, v := range docs[i].Doc.Metadata {
			if v.Kind != base.KindNull {
				need[metaProp(k, v.Kind)] = v.Kind
			}
		}
	}
	if err := b.ensureMetaProps(ctx, need); err != nil {
		return err
	}
	ids := make([]string, len(docs))
	for i := range docs {
		ids[i] = docs[i].Doc.ID
	}
	old, err := b.docRecords(ctx, ids, false)
	if err != nil {
		return err
	}
	var objs []object
	owner := []int{} // objs[i] belongs to docs[owner[i]]
	for i := range docs {
		d := &docs[i]
		for j := range d.Chunks {
			o := object{Class: b.chunks, ID: b.chunkUUID(d.Chunks[j].ID), Properties: b.chunkProperties(&d.Doc, &d.Chunks[j])}
			if d.Vectors != nil {
				o.Vector = d.Vectors[j]
			}
			objs = append(objs, o)
			owner = append(owner, i)
		}
	}
	failed := make(map[int]error)
	for i, err := range b.importObjects(ctx, objs) {
		if _, seen := failed[owner[i]]; !seen {
			failed[owner[i]] = fmt.Errorf("weaviate: document %q chunk %s: %w", docs[owner[i]].Doc.ID, objs[i].Properties["chunkId"], err)
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var records []object
	for i := range docs {
		if failed[i] != nil {
			continue
		}
		d := &docs[i]
		if r, ok := old[d.Doc.ID]; ok && int(r.NumChunks) > len(d.Chunks) {
			w := and(eqText("docId", d.Doc.ID), intCmp("ordinal", "GreaterThanEqual", len(d.Chunks)))
			if err := b.deleteWhere(ctx, b.chunks, w); err != nil {
				failed[i] = fmt.Errorf("weaviate: document %q: deleting its old chunks: %w", d.Doc.ID, err)
				continue
			}
		}
		records = append(records, object{Class: b.docs, ID: b.docUUID(d.Doc.ID), Properties: docProperties(&d.Doc, len(d.Chunks))})
	}
	for i, err := range b.importObjects(ctx, records) {
		id, _ := records[i].Properties["docId"].(string)
		failed[slices.Index(ids, id)] = fmt.Errorf("weaviate: document %q: %w", id, err)
	}
	// A new document that failed may have some chunks written: remove
	// them (best effort) so that searches do not find a document that
	// does not exist. A failed update keeps its old document object; a
	// retry rewrites its chunks.
	for i := range failed {
		if _, existed := old[docs[i].Doc.ID]; !existed && ctx.Err() == nil {
			b.deleteWhere(ctx, b.chunks, eqText("docId", docs[i].Doc.ID))
		}
	}
	var errs []error
	if err := b.bump(ctx, dim); err != nil {
		errs = append(errs, err)
	}
	keys := make([]int, 0, len(failed))
	for i := range failed {
		keys = append(keys, i)
	}
	slices.Sort(keys)
	for _, i := range keys {
		errs = append(errs, failed[i])
	}
	return errors.Join(errs...)
}

func (b *Backend) chunkProperties(d *base.Document, c *base.Chunk) map[string]any {
	acl := slices.Clone(d.ACL)
	slices.Sort(acl)
	acl = slices.Compact(acl)
	keys := []string{}
	for f, v := range map[string]string{"language": d.Language, "source": d.Source, "title": d.Title} {
		if v != "" {
			keys = append(keys, "f:"+f)
		}
	}
	p := map[string]any{
		"docId": d.ID, "chunkId": c.ID, "ordinal": c.Ordinal, "text": c.Text, "title": d.Title, "section": c.Section, "chunkLanguage": c.Language,
		"byteStart": c.Start, "byteEnd": c.End, "runeStart": c.RuneStart, "tokens": c.Tokens,
		"language": d.Language, "source": d.Source, "tenantKey": "t:" + d.Tenant,
		"restricted": len(acl) > 0, "terms": b.chunkTerms(d, c),
	}
	if len(acl) > 0 {
		p["acl"] = acl
	}
	for k, v := range d.Metadata {
		switch v.Kind {
		case base.KindString:
			p[metaProp(k, v.Kind)] = v.Str
			if v.Str == "" {
				keys = append(keys, "e:"+k)
			}
		case base.KindNumber:
			p[metaProp(k, v.Kind)] = v.Num
		case base.KindBool:
			p[metaProp(k, v.Kind)] = v.Bool
		default:
			continue
		}
		keys = append(keys, metaKeyTag(k, v.Kind))
	}
	slices.Sort(keys)
	p["metaKeys"] = keys
	return p
}

func docProperties(d *base.Document, n int) map[string]any {
	js := func(v any) string {
		b, _ := json.Marshal(v)
		return string(b)
	}
	return map[string]any{
		"docId": d.ID, "text": d.Text, "title": d.Title, "source": d.Source, "language": d.Language,
		"tenant": d.Tenant, "acl": js(d.ACL), "metadata": js(d.Metadata), "sections": js(d.Sections),
		"hash": d.Hash, "version": strconv.FormatUint(d.Version, 10),
		"created": d.Created.Format(time.RFC3339Nano), "updated": d.Updated.Format(time.RFC3339Nano),
		"numChunks": n,
	}
}

type batchResult struct {
	ID     string `json:"id"`
	Result struct {
		Errors *struct {
			Error []struct {
				Message string `json:"message"`
			} `json:"error"`
		} `json:"errors"`
	} `json:"result"`
}

// importObjects writes objs in batches of BatchSize, BatchWorkers at once,
// and returns the error of each object that failed (by index). A batch
// request that fails as a whole (after the client's retries) fails each of
// its objects.
func (b *Backend) importObjects(ctx context.Context, objs []object) map[int]error {
	failed := make(map[int]error)
	if len(objs) == 0 {
		return failed
	}
	var mu sync.Mutex
	sem := make(chan struct{}, b.cfg.BatchWorkers)
	var wg sync.WaitGroup
	for lo := 0; lo < len(objs); lo += b.cfg.BatchSize {
		hi := min(lo+b.cfg.BatchSize, len(objs))
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			mu.Lock()
			for i := lo; i < len(objs); i++ {
				failed[i] = ctx.Err()
			}
			mu.Unlock()
			wg.Wait()
			return failed
		}
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			defer func() { <-sem }()
			errs := b.importBatch(ctx, objs[lo:hi])
			mu.Lock()
			for i, err := range errs {
				failed[lo+i] = err
			}
			mu.Unlock()
		}(lo, hi)
	}
	wg.Wait()
	return failed
}

// importBatch sends one batch; objects that fail for a transient reason
// (a replica down) are retried on their own, within the retry budget.
func (b *Backend) importBatch(ctx context.Context, objs []object) map[int]error {
	pending := make([]int, len(objs))
	for i := range pending {
		pending[i] = i
	}
	failed := make(map[int]error)
	wait := 200 * time.Millisecond
	for attempt := 0; attempt <= b.cfg.Retries && len(pending) > 0; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				for _, i := range pending {
					failed[i] = ctx.Err()
				}
				return failed
			case <-time.After(wait):
			}
			wait = min(wait*2, 5*time.Second)
		}
		send := make([]object, len(pending))
		for k, i := range pending {
			send[k] = objs[i]
		}
		var res []batchResult
		err := b.c.do(ctx, http.MethodPost, "/v1/batch/objects?"+b.cl(), map[string]any{"objects": send}, &res)
		if err != nil {
			for _, i := range pending {
				failed[i] = err
			}
			if errors.Is(err, ErrUnavailable) {
				continue
			}
			return failed
		}
		var retry []int
		for k, i := range pending {
			delete(failed, i)
			if k >= len(res) {
				failed[i] = errors.New("weaviate: batch answer is missing this object")
				retry = append(retry, i)
				continue
			}
			if e := res[k].Result.Errors; e != nil && len(e.Error) > 0 {
				msg := e.Error[0].Message
				failed[i] = errors.New(msg)
				if isTransient(msg) || isReplicaError(msg) {
					retry = append(retry, i)
				}
			}
		}
		pending = retry
	}
	return failed
}

// isReplicaError reports a batch object error caused by replication (a
// node down or a quorum not reached), which a retry may fix.
func isReplicaError(msg string) bool {
	for _, s := range []string{"replica", "quorum", "cannot achieve consistency", "timeout", "connection refused", "connection reset", "broken pipe"} {
		if strings.Contains(strings.ToLower(msg), s) {
			return true
		}
	}
	return false
}

// deleteWhere batch-deletes the objects of class matching w.
func (b *Backend) deleteWhere(ctx context.Context, class string, w where) error {
	var res struct {
		Results struct {
			Matches    int `json:"matches"`
			Successful int `json:"successful"`
			Failed     int `json:"failed"`
		} `json:"results"`
	}
	body := map[string]any{"match": map[string]any{"class": class, "where": w}, "output": "minimal"}
	if err := b.c.do(ctx, http.MethodDelete, "/v1/batch/objects?"+b.cl(), body, &res); err != nil {
		return err
	}
	if res.Results.Failed > 0 {
		return fmt.Errorf("weaviate: batch delete in %s: %d of %d objects failed", class, res.Results.Failed, res.Results.Matches)
	}
	return nil
}

// Delete implements store.Backend: the chunks go first, then the document
// object (the commit marker), then the generation moves.
func (b *Backend) Delete(ctx context.Context, id string) (bool, error) {
	if err := b.checkOpen(); err != nil {
		return false, err
	}
	b.writeMu.Lock()
	defer b.writeMu.Unlock()
	recs, err := b.docRecords(ctx, []string{id}, false)
	if err != nil {
		return false, err
	}
	_, found := recs[id]
	if err := b.deleteWhere(ctx, b.chunks, eqText("docId", id)); err != nil {
		return false, fmt.Errorf("weaviate: deleting the chunks of %q: %w", id, err)
	}
	if !found {
		return false, nil
	}
	err = b.c.do(ctx, http.MethodDelete, "/v1/objects/"+b.docs+"/"+b.docUUID(id)+"?"+b.cl(), nil, nil)
	if err != nil && !isStatus(err, http.StatusNotFound) {
		return false, fmt.Errorf("weaviate: deleting document %q: %w", id, err)
	}
	return true, b.bump(ctx, 0)
}
