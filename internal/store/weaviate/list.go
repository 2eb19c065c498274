package weaviate

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/quarry-rag/quarry/internal/store"
)

var (
	_ store.Lister  = (*Backend)(nil)
	_ store.Dropper = (*Backend)(nil)
)

// List implements store.Lister with Weaviate's object cursor over the
// document class. The order is that of the objects' UUIDs (derived from
// the ids), not of the ids, and the cursor is the last object's UUID;
// documents outside the scope are skipped on this side, reading further
// pages until the page is full.
func (b *Backend) List(ctx context.Context, q store.ListQuery) (store.ListPage, error) {
	if q.Limit < 1 || q.Limit > store.MaxListLimit {
		return store.ListPage{}, fmt.Errorf("store: list limit %d outside 1..%d", q.Limit, store.MaxListLimit)
	}
	var page store.ListPage
	after := q.After
	for {
		v := url.Values{"class": {b.docs}, "limit": {strconv.Itoa(q.Limit)}}
		if after != "" {
			v.Set("after", after)
		}
		var out struct {
			Objects []struct {
				ID         string    `json:"id"`
				Properties docRecord `json:"properties"`
			} `json:"objects"`
		}
		if err := b.c.do(ctx, http.MethodGet, "/v1/objects?"+v.Encode(), nil, &out); err != nil {
			if isStatus(err, http.StatusNotFound) || isStatus(err, http.StatusUnprocessableEntity) {
				return page, nil // the class does not exist yet: no documents
			}
			return store.ListPage{}, fmt.Errorf("weaviate: collection %q: listing documents: %w", b.name, err)
		}
		for i, o := range out.Objects {
			d, err := o.Properties.document()
			if err != nil {
				return store.ListPage{}, err
			}
			if !store.InScope(&d, q.Scope) {
				continue
			}
			page.Docs = append(page.Docs, d)
			if len(page.Docs) == q.Limit {
				if i < len(out.Objects)-1 || len(out.Objects) == q.Limit {
					page.Next = o.ID
				}
				return page, nil
			}
		}
		if len(out.Objects) < q.Limit {
			return page, nil
		}
		after = out.Objects[len(out.Objects)-1].ID
	}
}
