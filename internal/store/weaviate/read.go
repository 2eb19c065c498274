package weaviate

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/store"
)

// docRecord is a document object as GraphQL returns it.
type docRecord struct {
	DocID     string  `json:"docId"`
	Text      string  `json:"text"`
	Title     string  `json:"title"`
	Source    string  `json:"source"`
	Language  string  `json:"language"`
	Tenant    string  `json:"tenant"`
	ACL       string  `json:"acl"`
	Metadata  string  `json:"metadata"`
	Sections  string  `json:"sections"`
	Hash      string  `json:"hash"`
	Version   string  `json:"version"`
	Created   string  `json:"created"`
	Updated   string  `json:"updated"`
	NumChunks float64 `json:"numChunks"`
}

const recordFields = "docId hash version created numChunks"

func (r *docRecord) version() store.Version {
	v, _ := strconv.ParseUint(r.Version, 10, 64)
	t, _ := time.Parse(time.RFC3339Nano, r.Created)
	return store.Version{Hash: r.Hash, Version: v, Created: t}
}

func (r *docRecord) document() (base.Document, error) {
	d := base.Document{ID: r.DocID, Text: r.Text, Title: r.Title, Source: r.Source, Language: r.Language, Tenant: r.Tenant, Hash: r.Hash}
	d.Version, _ = strconv.ParseUint(r.Version, 10, 64)
	d.Created, _ = time.Parse(time.RFC3339Nano, r.Created)
	d.Updated, _ = time.Parse(time.RFC3339Nano, r.Updated)
	for field, dst := range map[string]any{"acl": &d.ACL, "metadata": &d.Metadata, "sections": &d.Sections} {
		src := map[string]string{"acl": r.ACL, "metadata": r.Metadata, "sections": r.Sections}[field]
		if src == "" || src == "null" {
			continue
		}
		if err := json.Unmarshal([]byte(src), dst); err != nil {
			return d, fmt.Errorf("%w: document %q: %s: %v", store.ErrCorrupt, r.DocID, field, err)
		}
	}
	return d, nil
}

// docRecords reads the document objects of ids (those that exist).
func (b *Backend) docRecords(ctx context.Context, ids []string, full bool) (map[string]docRecord, error) {
	out := make(map[string]docRecord, len(ids))
	fields := recordFields
	if full {
		fields = "docId text title source language tenant acl metadata sections hash version created updated numChunks"
	}
	const per = 200
	for lo := 0; lo < len(ids); lo += per {
		part := ids[lo:min(lo+per, len(ids))]
		q := fmt.Sprintf("{Get{%s(where:%s,limit:%d%s){%s}}}", b.docs, anyText("docId", part).gql(), len(part)+1, b.gqlCL(), fields)
		var data struct {
			Get map[string][]docRecord `json:"Get"`
		}
		if err := b.c.graphqlRetry(ctx, q, &data); err != nil {
			return nil, fmt.Errorf("weaviate: collection %q: reading documents: %w", b.name, err)
		}
		for _, r := range data.Get[b.docs] {
			out[r.DocID] = r
		}
	}
	return out, nil
}

// Versions implements store.Backend.
func (b *Backend) Versions(ctx context.Context, ids []string) (map[string]store.Version, error) {
	if err := b.checkOpen(); err != nil {
		return nil, err
	}
	recs, err := b.docRecords(ctx, ids, false)
	if err != nil {
		return nil, err
	}
	out := make(map[string]store.Version, len(recs))
	for id, r := range recs {
		out[id] = r.version()
	}
	return out, nil
}

// Get implements store.Backend.
func (b *Backend) Get(ctx context.Context, id string) (base.Document, error) {
	if err := b.checkOpen(); err != nil {
		return base.Document{}, err
	}
	var o struct {
		Properties docRecord `json:"properties"`
	}
	err := b.c.do(ctx, http.MethodGet, "/v1/objects/"+b.docs+"/"+b.docUUID(id)+"?"+b.cl(), nil, &o)
	if isStatus(err, http.StatusNotFound) {
		return base.Document{}, fmt.Errorf("document %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return base.Document{}, err
	}
	return o.Properties.document()
}

// chunkRecord is a chunk object as GraphQL returns it.
type chunkRecord struct {
	DocID         string   `json:"docId"`
	ChunkID       string   `json:"chunkId"`
	Ordinal       float64  `json:"ordinal"`
	Text          string   `json:"text"`
	Title         string   `json:"title"`
	Section       string   `json:"section"`
	ByteStart     float64  `json:"byteStart"`
	ByteEnd       float64  `json:"byteEnd"`
	RuneStart     float64  `json:"runeStart"`
	Tokens        float64  `json:"tokens"`
	ChunkLanguage string   `json:"chunkLanguage"`
	Additional    addition `json:"_additional"`
}

type addition struct {
	ID       string    `json:"id"`
	Score    string    `json:"score"`
	Distance *float64  `json:"distance"`
	Vector   []float32 `json:"vector"`
}

// Chunks implements store.Backend.
func (b *Backend) Chunks(ctx context.Context, docID string) ([]base.Chunk, error) {
	if err := b.checkOpen(); err != nil {
		return nil, err
	}
	recs, err := b.docRecords(ctx, []string{docID}, false)
	if err != nil {
		return nil, err
	}
	r, ok := recs[docID]
	if !ok {
		return nil, fmt.Errorf("document %q: %w", docID, store.ErrNotFound)
	}
	n := int(r.NumChunks)
	if n == 0 {
		return []base.Chunk{}, nil
	}
	q := fmt.Sprintf(`{Get{%s(where:%s,limit:%d,sort:[{path:["ordinal"],order:asc}]%s){docId chunkId ordinal text section byteStart byteEnd runeStart tokens chunkLanguage}}}`,
		b.chunks, and(eqText("docId", docID), intCmp("ordinal", "LessThan", n)).gql(), n, b.gqlCL())
	var data struct {
		Get map[string][]chunkRecord `json:"Get"`
	}
	if err := b.c.graphqlRetry(ctx, q, &data); err != nil {
		return nil, fmt.Errorf("weaviate: collection %q: reading the chunks of %q: %w", b.name, docID, err)
	}
	out := make([]base.Chunk, 0, n)
	for _, c := range data.Get[b.chunks] {
		out = append(out, base.Chunk{ID: c.ChunkID, DocID: c.DocID, Ordinal: int(c.Ordinal), Text: c.Text, Start: int(c.ByteStart), End: int(c.ByteEnd),
			RuneStart: int(c.RuneStart), Tokens: int(c.Tokens), Section: c.Section, Language: c.ChunkLanguage})
	}
	if len(out) != n {
		return out, fmt.Errorf("%w: document %q has %d chunks in Weaviate, its record says %d", store.ErrCorrupt, docID, len(out), n)
	}
	return out, nil
}

// Stats implements store.Backend from Weaviate aggregates. Terms,
// Postings, IndexBytes and DiskBytes are not known and stay 0.
func (b *Backend) Stats(ctx context.Context) (store.Stats, error) {
	if err := b.checkOpen(); err != nil {
		return store.Stats{}, err
	}
	q := fmt.Sprintf(`{Aggregate{c:%s{meta{count}} d:%s{meta{count}} l:%s(groupBy:["language"]){meta{count} groupedBy{value}}}}`,
		b.chunks, b.docs, b.docs)
	var data struct {
		Aggregate struct {
			C []struct {
				Meta struct{ Count int } `json:"meta"`
			} `json:"c"`
			D []struct {
				Meta struct{ Count int } `json:"meta"`
			} `json:"d"`
			L []struct {
				Meta      struct{ Count int }    `json:"meta"`
				GroupedBy struct{ Value string } `json:"groupedBy"`
			} `json:"l"`
		} `json:"Aggregate"`
	}
	if err := b.c.graphqlRetry(ctx, q, &data); err != nil {
		return store.Stats{}, fmt.Errorf("weaviate: collection %q: stats: %w", b.name, err)
	}
	var s store.Stats
	if len(data.Aggregate.C) > 0 {
		s.Chunks = data.Aggregate.C[0].Meta.Count
	}
	if len(data.Aggregate.D) > 0 {
		s.Documents = data.Aggregate.D[0].Meta.Count
	}
	for _, g := range data.Aggregate.L {
		if g.GroupedBy.Value == "" {
			continue
		}
		if s.Languages == nil {
			s.Languages = map[string]int{}
		}
		s.Languages[g.GroupedBy.Value] = g.Meta.Count
	}
	s.Generation = b.gen.Load()
	if d := int(b.dim.Load()); d > 0 {
		s.Dimension = d
		s.Vectors = s.Chunks
		s.VectorBytes = int64(s.Vectors) * int64(d) * 4
	}
	return s, nil
}
