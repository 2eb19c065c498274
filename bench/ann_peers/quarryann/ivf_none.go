//go:build !annivf

package main

import "errors"

// buildIVF without the annivf tag: the vector package in this tree has no
// IVF index (run.sh sets the tag when it finds vector.NewIVF).
func buildIVF(base []float32, dim, nlist int) (s searcher, trainS float64, bytes int64, err error) {
	return nil, 0, 0, errors.New("-mode ivf: built without the annivf tag (internal/index/vector has no NewIVF)")
}
