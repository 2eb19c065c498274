package eval_test

import (
	"fmt"

	"github.com/quarry-rag/quarry/internal/eval"
)

func Example() {
	qrels := eval.Qrels{
		"q1": {"d1": 2, "d2": 1},
		"q2": {"d7": 1},
	}
	run := eval.Run{
		"q1": {"d1": 9.5, "d2": 7.0, "d3": 7.0}, // tie: d3 ranks above d2, so d2 is 3rd
		"q2": {"q2": 3.0, "d7": 1.5},            // q2 itself is ignored
	}
	rep := eval.Evaluate(qrels, run, eval.BEIR())
	for _, q := range rep.Queries {
		fmt.Printf("%s nDCG@10=%.4f Recall@100=%.2f MRR@10=%.2f MAP@100=%.2f\n", q.Query, q.NDCG, q.Recall, q.MRR, q.MAP)
	}
	fmt.Printf("mean nDCG@10=%.4f\n", rep.Mean.NDCG)
	// Output:
	// q1 nDCG@10=0.9502 Recall@100=1.00 MRR@10=1.00 MAP@100=0.83
	// q2 nDCG@10=1.0000 Recall@100=1.00 MRR@10=1.00 MAP@100=1.00
	// mean nDCG@10=0.9751
}
