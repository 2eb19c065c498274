package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/quarry-rag/quarry/internal/base"
)

func TestJSONLGood(t *testing.T) {
	docs, err := LoadFile(context.Background(), "testdata/jsonl/good.jsonl", nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []base.Document{
		{
			ID: "d1", Title: "First", Text: "Hello\nworld", Tenant: "acme", ACL: []string{"bob", "alice"},
			Source: "crm", Language: "en",
			Metadata: base.Metadata{"year": base.Number(2020), "draft": base.Bool(true), "kind": base.String("memo")},
		},
		{
			ID: "d2", Text: "BEIR style", Source: "testdata/jsonl/good.jsonl",
			Metadata: base.Metadata{"year": base.Number(1999), "lang": base.String("de"), "flag": base.Bool(false)},
		},
		{
			// the "metadata" object wins over a top-level key of the same name
			ID: "42", Text: "numeric id", Source: "testdata/jsonl/good.jsonl",
			Metadata: base.Metadata{"lang": base.String("fr")},
		},
	}
	if !reflect.DeepEqual(docs, want) {
		t.Fatalf("got\n%#v\nwant\n%#v", docs, want)
	}
}

// malformedLines are the bad lines of testdata/jsonl/malformed.jsonl.
var malformedLines = []struct {
	line int
	err  error
	msg  string
}{
	{2, ErrInvalidJSON, "unexpected end of JSON input"},
	{3, ErrInvalidJSON, `missing "id"`},
	{4, ErrInvalidJSON, `missing "text"`},
	{5, ErrInvalidJSON, `metadata "tags"`},
	{6, ErrInvalidJSON, `field "tags"`},
	{7, ErrEmpty, "blank text"},
	{8, ErrInvalidJSON, "cannot unmarshal array"},
}

func TestJSONLAbort(t *testing.T) {
	docs, err := LoadFile(context.Background(), "testdata/jsonl/malformed.jsonl", nil)
	if docs != nil {
		t.Fatalf("Abort returned %d documents", len(docs))
	}
	var le *LineError
	if !errors.As(err, &le) || le.Line != 2 || le.File != "testdata/jsonl/malformed.jsonl" || !errors.Is(err, ErrInvalidJSON) {
		t.Fatalf("err = %v, want a LineError for line 2", err)
	}
	if !strings.HasPrefix(err.Error(), "testdata/jsonl/malformed.jsonl:2: ") {
		t.Fatalf("message %q does not name file and line", err)
	}
}

func TestJSONLSkip(t *testing.T) {
	var skipped []error
	docs, err := LoadFile(context.Background(), "testdata/jsonl/malformed.jsonl",
		&Options{OnError: Skip, OnSkip: func(err error) { skipped = append(skipped, err) }})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 2 || docs[0].ID != "ok1" || docs[1].ID != "ok2" {
		t.Fatalf("docs = %+v", docs)
	}
	if len(skipped) != len(malformedLines) {
		t.Fatalf("skipped %d lines, want %d: %v", len(skipped), len(malformedLines), skipped)
	}
	for i, w := range malformedLines {
		var le *LineError
		if !errors.As(skipped[i], &le) || le.Line != w.line || !errors.Is(skipped[i], w.err) ||
			!strings.Contains(skipped[i].Error(), w.msg) {
			t.Errorf("skip %d = %v; want line %d, %v, %q", i, skipped[i], w.line, w.err, w.msg)
		}
	}
}

func TestJSONLInvalidUTF8(t *testing.T) {
	// Lossy does not apply to JSONL.
	_, err := LoadFile(context.Background(), "testdata/jsonl/badutf8.jsonl", &Options{Lossy: true})
	var le *LineError
	if !errors.As(err, &le) || le.Line != 2 || !errors.Is(err, ErrInvalidUTF8) || !strings.Contains(err.Error(), "byte offset 23 of the line") {
		t.Fatalf("err = %v", err)
	}
}

func TestJSONLRecords(t *testing.T) {
	tests := []struct {
		line string
		want error // nil: valid
	}{
		{`{"id":"a","text":"t","acl":"bob"}`, ErrInvalidJSON},
		{`{"id":"a","text":"t","acl":[1]}`, ErrInvalidJSON},
		{`{"id":"a","text":5}`, ErrInvalidJSON},
		{`{"id":"a","text":null}`, ErrInvalidJSON},
		{`{"id":1.5,"text":"t"}`, ErrInvalidJSON},
		{`{"id":true,"text":"t"}`, ErrInvalidJSON},
		{`{"id":"","text":"t"}`, ErrInvalidJSON},
		{`{"id":"a","_id":"b","text":"t"}`, ErrInvalidJSON},
		{`{"id":"a","_id":"a","text":"t"}`, nil},
		{`{"id":"a","text":"t","metadata":[]}`, ErrInvalidJSON},
		{`{"id":"a","text":"t","metadata":{"x":{"y":1}}}`, ErrInvalidJSON},
		{`{"id":"a","text":"t","title":["x"]}`, ErrInvalidJSON},
		{`{"id":"a","text":"t"} {"id":"b"}`, ErrInvalidJSON},
		{`null`, ErrInvalidJSON},
		{`"str"`, ErrInvalidJSON},
		{`{"id":"a","text":"\u0000ok","metadata":null,"title":null}`, nil},
		{`{"id":"a","text":"\ufeff"}`, ErrEmpty},
	}
	for _, tt := range tests {
		err := StreamJSONL(context.Background(), strings.NewReader(tt.line), "t.jsonl", nil, func(base.Document) error { return nil })
		if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.line, err, tt.want)
		}
	}
}

func TestJSONLTooLarge(t *testing.T) {
	long := fmt.Sprintf(`{"id":"big","text":"%s"}`, strings.Repeat("x", 200))
	input := `{"id":"a","text":"short"}` + "\n" + long + "\n" + `{"id":"b","text":"after"}` + "\r\n"
	var ids []string
	var skipped []error
	err := StreamJSONL(context.Background(), strings.NewReader(input), "big.jsonl",
		&Options{MaxDocBytes: 100, OnError: Skip, OnSkip: func(err error) { skipped = append(skipped, err) }},
		func(d base.Document) error { ids = append(ids, d.ID); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ids, []string{"a", "b"}) {
		t.Fatalf("ids = %v", ids)
	}
	var le *LineError
	if len(skipped) != 1 || !errors.As(skipped[0], &le) || le.Line != 2 || !errors.Is(le, ErrTooLarge) {
		t.Fatalf("skipped = %v", skipped)
	}
	// A line of exactly MaxDocBytes is fine, CRLF or not.
	exact := `{"id":"e","text":"` + strings.Repeat("y", 100-len(`{"id":"e","text":""}`)) + `"}`
	for _, end := range []string{"", "\n", "\r\n"} {
		n := 0
		err := StreamJSONL(context.Background(), strings.NewReader(exact+end), "e.jsonl", &Options{MaxDocBytes: 100},
			func(base.Document) error { n++; return nil })
		if err != nil || n != 1 {
			t.Errorf("exact-size line ending %q: n=%d err=%v", end, n, err)
		}
	}
}

func TestJSONLStreamStops(t *testing.T) {
	stop := errors.New("stop")
	input := strings.Repeat(`{"id":"a","text":"t"}`+"\n", 10)
	n := 0
	err := StreamJSONL(context.Background(), strings.NewReader(input), "s.jsonl", nil, func(base.Document) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if err != stop || n != 3 {
		t.Fatalf("err = %v after %d docs", err, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = StreamJSONL(ctx, strings.NewReader(input), "s.jsonl", nil, func(base.Document) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		r.n++
		return copy(p, `{"id":"a","text":"t"}`+"\n"), nil
	}
	return 0, io.ErrUnexpectedEOF
}

func TestJSONLReadError(t *testing.T) {
	var skipped int
	err := StreamJSONL(context.Background(), &failingReader{}, "r.jsonl",
		&Options{OnError: Skip, OnSkip: func(error) { skipped++ }}, func(base.Document) error { return nil })
	if !errors.Is(err, io.ErrUnexpectedEOF) || skipped != 0 || IsSkippable(err) {
		t.Fatalf("err = %v, skipped = %d", err, skipped)
	}
}

func TestJSONLBOMAndBlankLines(t *testing.T) {
	input := "\uFEFF{\"id\":\"a\",\"text\":\"t\"}\n\n   \n{\"id\":\"b\",\"text\":\"u\"}"
	var ids []string
	err := StreamJSONL(context.Background(), strings.NewReader(input), "b.jsonl", nil,
		func(d base.Document) error { ids = append(ids, d.ID); return nil })
	if err != nil || !reflect.DeepEqual(ids, []string{"a", "b"}) {
		t.Fatalf("ids = %v, err = %v", ids, err)
	}
}
