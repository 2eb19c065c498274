package embedded

import (
	"fmt"
	"slices"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/index/bm25"
	"github.com/quarry-rag/quarry/internal/store"
)

// docAttrs are the attributes of a document that searches filter on and
// that hits carry. They are kept in memory for every live document.
type docAttrs struct {
	ID        string        `json:"id"`
	Title     string        `json:"title,omitempty"`
	Tenant    string        `json:"tenant,omitempty"`
	ACL       []string      `json:"acl,omitempty"`
	Language  string        `json:"language,omitempty"`
	Source    string        `json:"source,omitempty"`
	Metadata  base.Metadata `json:"metadata,omitempty"`
	NumChunks int           `json:"num_chunks"`
}

func attrsOf(d *base.Document, numChunks int) docAttrs {
	acl := slices.Clone(d.ACL)
	slices.Sort(acl)
	return docAttrs{
		ID: d.ID, Title: d.Title, Tenant: d.Tenant, ACL: slices.Compact(acl),
		Language: d.Language, Source: d.Source, Metadata: d.Metadata.Clone(), NumChunks: numChunks,
	}
}

// get looks up a filter field: built-in fields first, then metadata.
func (a *docAttrs) get(field string) (base.Value, bool) {
	switch field {
	case "language":
		return base.String(a.Language), a.Language != ""
	case "source":
		return base.String(a.Source), a.Source != ""
	case "doc_id":
		return base.String(a.ID), true
	case "title":
		return base.String(a.Title), a.Title != ""
	}
	v, ok := a.Metadata[field]
	return v, ok
}

type docEntry struct {
	attrs docAttrs
	ids   []uint32 // BM25 internal ids of the document's chunks, by ordinal
	live  bool
}

// catalog maps documents to the index's internal chunk ids and back. It is
// protected by Backend.mu.
type catalog struct {
	docs []docEntry
	// titles[s] is docs[s].attrs.Title: a search's hits read it for
	// documents at random, and 16 bytes a slot stay in cache where
	// the whole entries (≈150 bytes) do not.
	titles []string
	slots  map[string]int32
	free   []int32
	byID   []int32 // internal chunk id → doc slot, -1 when none
	live   int
	// restricted counts live documents with a tenant or an ACL; while it is
	// zero and a query has no filter, searches skip the per-hit check.
	restricted int
	langs      map[string]int
	// tenantLangs counts document languages per tenant: a query falls back
	// to its own tenant's dominant language, so one tenant's documents do
	// not change how another tenant's queries are analysed.
	tenantLangs map[string]map[string]int
}

func newCatalog() *catalog {
	return &catalog{slots: make(map[string]int32), langs: make(map[string]int), tenantLangs: make(map[string]map[string]int)}
}

func (c *catalog) lookup(id string) (*docEntry, bool) {
	s, ok := c.slots[id]
	if !ok {
		return nil, false
	}
	return &c.docs[s], true
}

// put records a document and its chunk ids, replacing any previous entry.
func (c *catalog) put(a docAttrs, ids []uint32) {
	c.remove(a.ID)
	var s int32
	if n := len(c.free); n > 0 {
		s = c.free[n-1]
		c.free = c.free[:n-1]
	} else {
		s = int32(len(c.docs))
		c.docs = append(c.docs, docEntry{})
		c.titles = append(c.titles, "")
	}
	c.docs[s] = docEntry{attrs: a, ids: ids, live: true}
	c.titles[s] = a.Title
	c.slots[a.ID] = s
	for _, id := range ids {
		c.setID(id, s)
	}
	c.live++
	if a.Tenant != "" || len(a.ACL) > 0 {
		c.restricted++
	}
	c.langs[a.Language]++
	tl := c.tenantLangs[a.Tenant]
	if tl == nil {
		tl = make(map[string]int)
		c.tenantLangs[a.Tenant] = tl
	}
	tl[a.Language]++
}

func (c *catalog) setID(id uint32, s int32) {
	for int(id) >= len(c.byID) {
		c.byID = append(c.byID, -1)
	}
	c.byID[id] = s
}

// remove forgets a document and returns its chunk ids.
func (c *catalog) remove(docID string) []uint32 {
	s, ok := c.slots[docID]
	if !ok {
		return nil
	}
	e := &c.docs[s]
	ids := e.ids
	for _, id := range ids {
		if int(id) < len(c.byID) {
			c.byID[id] = -1
		}
	}
	c.live--
	if e.attrs.Tenant != "" || len(e.attrs.ACL) > 0 {
		c.restricted--
	}
	if c.langs[e.attrs.Language]--; c.langs[e.attrs.Language] <= 0 {
		delete(c.langs, e.attrs.Language)
	}
	if tl := c.tenantLangs[e.attrs.Tenant]; tl != nil {
		if tl[e.attrs.Language]--; tl[e.attrs.Language] <= 0 {
			delete(tl, e.attrs.Language)
		}
		if len(tl) == 0 {
			delete(c.tenantLangs, e.attrs.Tenant)
		}
	}
	*e = docEntry{}
	c.titles[s] = ""
	delete(c.slots, docID)
	c.free = append(c.free, s)
	return ids
}

// renumber applies a BM25 compaction's old → new id table (n live ids
// after it) to every document's chunk ids and rebuilds byID at the new
// size. The slot map is rebuilt too, so that a run of distinct document
// ids written and deleted cannot keep a map grown for all of them.
func (c *catalog) renumber(remap []uint32, n int) {
	byID := make([]int32, n)
	for i := range byID {
		byID[i] = -1
	}
	for s := range c.docs {
		e := &c.docs[s]
		if !e.live {
			continue
		}
		for j, id := range e.ids {
			nid := uint32(bm25.NoID)
			if int(id) < len(remap) {
				nid = remap[id]
			}
			if nid == bm25.NoID || int(nid) >= n {
				// The catalog holds only live chunks: a bug, not bad input.
				panic(fmt.Sprintf("store: chunk %d of %q has no id after compaction", j, e.attrs.ID))
			}
			e.ids[j] = nid
			byID[nid] = int32(s)
		}
	}
	c.byID = byID
	slots := make(map[string]int32, len(c.slots))
	for k, s := range c.slots {
		slots[k] = s
	}
	c.slots = slots
}

func (c *catalog) languages() map[string]int {
	out := make(map[string]int, len(c.langs))
	for k, v := range c.langs {
		if k == "" {
			k = "und"
		}
		out[k] += v
	}
	return out
}

// dominantLanguage returns the most common language of a tenant's
// documents.
func (c *catalog) dominantLanguage(tenant string) string {
	best, n := "", 0
	for l, k := range c.tenantLangs[tenant] {
		if k > n || (k == n && l < best) {
			best, n = l, k
		}
	}
	return best
}

// acceptFunc returns the in-traversal predicate for scope, or nil when every
// live chunk is visible.
func (c *catalog) acceptFunc(sc store.Scope) func(id uint32) bool {
	if c.restricted == 0 && sc.Tenant == "" && sc.Filter.IsZero() {
		return nil
	}
	principals := sc.Principals
	filter := sc.Filter
	return func(id uint32) bool {
		if int(id) >= len(c.byID) {
			return false
		}
		s := c.byID[id]
		if s < 0 {
			return false
		}
		a := &c.docs[s].attrs
		return visible(a, sc.Tenant, principals) && filter.Match(a.get)
	}
}

// visible applies base.Visible to a catalog entry.
func visible(a *docAttrs, tenant string, principals []string) bool {
	return base.Visible(a.Tenant, a.ACL, tenant, principals)
}
