package bm25_test

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/quarry-rag/quarry/internal/index/bm25"
)

func Example() {
	ix := bm25.New(bm25.DefaultParams())
	// Terms come from an analyzer; strings.Fields stands in for one here.
	ix.Add("doc1#0", strings.Fields("solar power"), strings.Fields("panels turn sunlight into power"))
	ix.Add("doc2#0", strings.Fields("wind power"), strings.Fields("turbines turn wind into power"))
	ix.Add("doc3#0", nil, strings.Fields("sunlight and wind are free"))
	ix.Delete("doc3#0")

	for _, r := range ix.Search(strings.Fields("sunlight power"), 10, nil) {
		fmt.Printf("%s %.4f\n", r.Key, r.Score)
	}

	// Persist and reopen.
	var buf bytes.Buffer
	if _, err := ix.WriteTo(&buf); err != nil {
		panic(err)
	}
	ix2, err := bm25.Read(&buf)
	if err != nil {
		panic(err)
	}
	fmt.Println(ix2.Len(), "live documents after reopening")
	// Output:
	// doc1#0 0.4906
	// doc2#0 0.1257
	// 2 live documents after reopening
}
