package embed_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/quarry-rag/quarry/internal/embed"
)

// A text-embeddings-inference server answers POST /embed with one vector
// per input; this one gives every text the vector [len(text), 1, 0].
func ExampleNewTEI() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Inputs []string `json:"inputs"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		out := make([][]float32, len(req.Inputs))
		for i, s := range req.Inputs {
			out[i] = []float32{float32(len(s)), 1, 0}
		}
		json.NewEncoder(w).Encode(out)
	}))
	defer srv.Close()

	emb, err := embed.NewTEI(srv.URL, "bge-small-en-v1.5", embed.HTTPOptions{
		QueryPrefix: "Represent this sentence for searching relevant passages: ",
	})
	if err != nil {
		panic(err)
	}
	defer emb.Close()
	vecs, err := emb.Embed(context.Background(), []string{"short", "a longer passage"}, embed.Passage)
	if err != nil {
		panic(err)
	}
	fmt.Println(emb.Name(), emb.Dim(), vecs)
	q, _ := emb.Embed(context.Background(), []string{"short"}, embed.Query)
	fmt.Println(q[0][0])
	// Output:
	// tei:bge-small-en-v1.5 3 [[5 1 0] [16 1 0]]
	// 62
}
