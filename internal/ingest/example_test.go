package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/quarry-rag/quarry/internal/base"
	"github.com/quarry-rag/quarry/internal/ingest"
)

func ExampleStreamJSONL() {
	input := `{"id":"a","title":"Alpha","text":"First document.","year":2020}
{"id":"b","text":""}
{"_id":"c","text":"Third, BEIR style."}
`
	opts := &ingest.Options{
		OnError: ingest.Skip,
		OnSkip:  func(err error) { fmt.Println("skipped:", err) },
	}
	err := ingest.StreamJSONL(context.Background(), strings.NewReader(input), "docs.jsonl", opts,
		func(d base.Document) error {
			fmt.Printf("%s %q %v\n", d.ID, d.Text, d.Metadata)
			return nil
		})
	fmt.Println("err:", err)

	// With the default Abort policy the bad line ends the stream.
	err = ingest.StreamJSONL(context.Background(), strings.NewReader(input), "docs.jsonl", nil,
		func(base.Document) error { return nil })
	var le *ingest.LineError
	fmt.Println(errors.As(err, &le), le.Line, errors.Is(err, ingest.ErrEmpty))
	// Output:
	// a "First document." map[year:2020]
	// skipped: docs.jsonl:2: ingest: empty document: document "b" has blank text
	// c "Third, BEIR style." map[]
	// err: <nil>
	// true 2 true
}
