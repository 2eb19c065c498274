package server

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/quarry-rag/quarry"
)

// FuzzDecodeDocuments feeds arbitrary bodies to the document-write decoder:
// it must not panic, every error must be a client error (4xx) with a known
// code, and every accepted body must survive a round trip: re-encoding the
// decoded documents and decoding them again gives the same documents.
func FuzzDecodeDocuments(f *testing.F) {
	for _, seed := range []string{
		`{"id":"a","text":"t"}`,
		`{"id":"a","title":"T","text":"t","source":"s","language":"en","tenant":"x","acl":["p"],"metadata":{"y":2020,"k":"v","b":true}}`,
		`{"documents":[{"id":"a","text":"t"},{"id":"b","text":"u","metadata":{"n":1.5e3}}]}`,
		`{"documents":[]}`,
		`{"documents":null}`,
		`{"documents":[{"id":"a","colour":1}]}`,
		`{"id":"a","documents":[]}`,
		`{"metadata":{"a":[1]}}`,
		`{"metadata":{"a":null}}`,
		`{"text":"\ud800"}`,
		`{"id":1}`,
		`{"ID":"a","Text":"t"}`,
		`{"id":"a","text":"t"} x`,
		`[1,2]`,
		`null`,
		``,
		`{"documents":[{"documents":[]}]}`,
		"{\"id\":\"a\",\n\"text\":}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, single, err := decodeUpsert(data)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v (%T) is not an *apiError", err, err)
			}
			e, internal := toAPIError(err)
			if internal || e.status() < 400 || e.status() > 499 {
				t.Fatalf("decode error maps to %d (internal=%v): %v", e.status(), internal, err)
			}
			return
		}
		if len(docs) == 0 || (single && len(docs) != 1) {
			t.Fatalf("accepted %d documents (single=%v)", len(docs), single)
		}
		again := roundTrip(t, docs, single)
		if !reflect.DeepEqual(docs, again) {
			t.Fatalf("round trip changed the documents:\n%#v\n%#v", docs, again)
		}
	})
}

func roundTrip(t *testing.T, docs []quarry.Document, single bool) []quarry.Document {
	t.Helper()
	in := make([]documentIn, len(docs))
	for i, d := range docs {
		in[i] = documentIn{ID: d.ID, Title: d.Title, Text: d.Text, Source: d.Source, Language: d.Language,
			Tenant: d.Tenant, ACL: d.ACL, Metadata: metadataIn(d.Metadata)}
	}
	var body any = map[string]any{"documents": in}
	if single {
		body = in[0]
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	again, gotSingle, err := decodeUpsert(b)
	if err != nil || gotSingle != single {
		t.Fatalf("re-decoding %s: single=%v, %v", b, gotSingle, err)
	}
	return again
}
