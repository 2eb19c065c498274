package kernels_test

import (
	"fmt"

	"github.com/quarry-rag/quarry/internal/kernels"
)

func ExampleMatMul() {
	p := kernels.NewPool(0)
	defer p.Close()
	a := []float32{1, 2, 3, 4, 5, 6} // 2×3
	w := []float32{1, 0, 0, 0, 1, 1} // 2×3, a Linear weight [out, in]
	c := make([]float32, 4)          // 2×2
	kernels.MatMul(p, c, a, w, 2, 2, 3)
	fmt.Println(c)
	x := []float32{1, 2, 3}
	kernels.Softmax(x)
	fmt.Printf("%.4f\n", x)
	// Output:
	// [1 5 4 11]
	// [0.0900 0.2447 0.6652]
}
