package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/store"
)

// RunList checks a store.Lister: pages of every size cover every document
// exactly once, whole (text included); the scope and filter apply; a
// deleted document disappears; the last page has no cursor.
func RunList(t *testing.T, open Opener) {
	b := open(t)
	t.Cleanup(func() { b.Close() })
	l, ok := b.(store.Lister)
	if !ok {
		t.Fatalf("%T does not implement store.Lister", b)
	}
	var docs []store.DocChunks
	for i := range 23 {
		d := Doc(fmt.Sprintf("doc-%02d", i), E(i, 0.1), fmt.Sprintf("text of document %d", i))
		d.Doc.Metadata = base.Metadata{"even": base.Bool(i%2 == 0)}
		if i == 5 {
			d.Doc.Tenant = "acme"
		}
		docs = append(docs, d)
	}
	upsert(t, b, docs...)
	list := func(limit int, sc store.Scope) []string {
		t.Helper()
		var ids []string
		after := ""
		for pages := 0; ; pages++ {
			if pages > 100 {
				t.Fatal("the cursor does not advance")
			}
			p, err := l.List(ctx(), store.ListQuery{After: after, Limit: limit, Scope: sc})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Docs) > limit {
				t.Fatalf("page of %d, limit %d", len(p.Docs), limit)
			}
			for _, d := range p.Docs {
				if d.Text == "" {
					t.Fatalf("%s listed without text", d.ID)
				}
				ids = append(ids, d.ID)
			}
			if p.Next == "" {
				return ids
			}
			after = p.Next
		}
	}
	var all []string
	for i := range 23 {
		if i != 5 {
			all = append(all, fmt.Sprintf("doc-%02d", i))
		}
	}
	for _, limit := range []int{1, 5, 22, 23, 1000} {
		got := list(limit, store.Scope{})
		slices.Sort(got)
		if !slices.Equal(got, all) {
			t.Errorf("limit %d: listed %v", limit, got)
		}
	}
	if got := list(3, store.Scope{Tenant: "acme"}); !slices.Equal(got, []string{"doc-05"}) {
		t.Errorf("tenant scope: %v", got)
	}
	got := list(4, store.Scope{Filter: base.Filter{Op: base.OpEq, Field: "even", Value: base.Bool(true)}})
	if len(got) != 12 {
		t.Errorf("filter even: %v", got)
	}
	if _, err := b.Delete(ctx(), "doc-03"); err != nil {
		t.Fatal(err)
	}
	if got := list(7, store.Scope{}); len(got) != 21 || slices.Contains(got, "doc-03") {
		t.Errorf("after delete: %v", got)
	}
	if _, err := l.List(ctx(), store.ListQuery{Limit: 0}); err == nil {
		t.Errorf("limit 0 accepted")
	}
}
