package vector_test

import (
	"fmt"

	"github.com/quarry-rag/quarry/internal/index/vector"
)

func Example() {
	h, err := vector.New(vector.Config{Dim: 3, Metric: vector.Cosine, Seed: 1})
	if err != nil {
		panic(err)
	}
	_ = h.Add(1, []float32{1, 0, 0})
	_ = h.Add(2, []float32{0, 1, 0})
	_ = h.Add(3, []float32{1, 1, 0})
	hits, _ := h.Search([]float32{1, 0.1, 0}, 2, 0, nil)
	for _, x := range hits {
		fmt.Printf("%d %.3f\n", x.ID, x.Score)
	}
	// Only even ids:
	hits, _ = h.Search([]float32{1, 0.1, 0}, 1, 0, func(id uint32) bool { return id%2 == 0 })
	fmt.Println(hits[0].ID)
	// Output:
	// 1 0.995
	// 3 0.774
	// 2
}
