package quarry_test

import (
	"context"
	"fmt"
	"os"

	"github.com/quarry-rag/quarry"
)

func Example() {
	dir, _ := os.MkdirTemp("", "quarry-example")
	defer os.RemoveAll(dir)
	eng, err := quarry.Open(dir, nil)
	if err != nil {
		panic(err)
	}
	defer eng.Close()
	ctx := context.Background()
	col, _ := eng.EnsureCollection(ctx, "default")
	res, _ := col.Upsert(ctx, []quarry.Document{
		{ID: "granite", Title: "Granite", Text: "Granite forms from slowly cooling magma. It is rich in quartz."},
		{ID: "basalt", Title: "Basalt", Text: "Basalt forms from lava that cools quickly at the surface."},
	}, nil)
	fmt.Println(res[0].Status, res[1].Status)

	hits, _ := col.Search(ctx, quarry.SearchRequest{Query: "quartz", K: 1})
	fmt.Println(hits.Results[0].DocID)

	ans, _ := col.Ask(ctx, quarry.AskRequest{Question: "How does basalt form?", MaxSentences: 1})
	fmt.Println(ans.Answer)
	c := ans.Citations[0]
	fmt.Println(c.DocID, c.Start, c.End)
	// Output:
	// created created
	// granite
	// Basalt forms from lava that cools quickly at the surface. [1]
	// basalt 0 57
}
