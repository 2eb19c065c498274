package embedded

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/quarry-rag/quarry/internal/store"
)

var _ store.Lister = (*Backend)(nil)

// List implements store.Lister: a cursor over the docs bucket, whose keys
// are the document ids, in one read transaction per page.
func (b *Backend) List(ctx context.Context, q store.ListQuery) (store.ListPage, error) {
	if q.Limit < 1 || q.Limit > store.MaxListLimit {
		return store.ListPage{}, fmt.Errorf("store: list limit %d outside 1..%d", q.Limit, store.MaxListLimit)
	}
	if err := b.checkOpen(); err != nil {
		return store.ListPage{}, err
	}
	var page store.ListPage
	err := b.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketDocs).Cursor()
		k, v := c.First()
		if q.After != "" {
			k, v = c.Seek([]byte(q.After))
			if k != nil && bytes.Equal(k, []byte(q.After)) {
				k, v = c.Next()
			}
		}
		for n := 0; k != nil; k, v = c.Next() {
			if n%256 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			n++
			var d storedDoc
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("%w: document %q: %v", store.ErrCorrupt, k, err)
			}
			if !store.InScope(&d.Document, q.Scope) {
				continue
			}
			if len(page.Docs) == q.Limit {
				page.Next = page.Docs[len(page.Docs)-1].ID
				return nil
			}
			if err := loadText(tx, &d); err != nil {
				return err
			}
			page.Docs = append(page.Docs, d.Document)
		}
		return nil
	})
	return page, err
}
