//go:build annivf

package main

import (
	"github.com/quarry-rag/quarry/internal/index/vector"
)

// trainPerList is how many base vectors (at most) train the IVF centroids,
// per list: the same rows are given to FAISS (peers.py), so both k-means
// runs see the same sample.
const trainPerList = 40

// buildIVF trains an IVF-Flat index of nlist cells on a sample of
// the base vectors (min(n, 40·nlist) rows at an even stride), then adds
// every vector. trainS is the CPU time of training (the caller times the
// whole build).
func buildIVF(base []float32, dim, nlist int) (s searcher, trainS float64, bytes int64, err error) {
	n := len(base) / dim
	x, err := vector.NewIVF(vector.IVFConfig{Dim: dim, Metric: vector.Dot, NList: nlist, NProbe: 1})
	if err != nil {
		return nil, 0, 0, err
	}
	row := func(i int) []float32 { return base[i*dim : (i+1)*dim] }
	var sample [][]float32
	for _, i := range sampleRows(n, min(n, trainPerList*nlist)) {
		sample = append(sample, row(i))
	}
	c0 := cpuSeconds()
	if err := x.Train(sample); err != nil {
		return nil, 0, 0, err
	}
	trainS = cpuSeconds() - c0
	for i := range n {
		if err := x.Add(uint32(i), row(i)); err != nil {
			return nil, 0, 0, err
		}
	}
	s = func(q []float32, k, e int) ([]uint32, error) {
		if e > nlist {
			e = nlist
		}
		res, err := x.Search(q, k, e, nil)
		return ids(res), err
	}
	return s, trainS, int64(x.Stats().Bytes), nil
}

// sampleRows is an even stride over 0..n-1: row i*n/m for i < m (peers.py
// takes the same rows for FAISS).
func sampleRows(n, m int) []int {
	out := make([]int, m)
	for i := range out {
		out[i] = int(int64(i) * int64(n) / int64(m))
	}
	return out
}
