package embedded

import (
	"io"

	"github.com/quarry-rag/quarry/internal/index/vector"
)

// ivfIndex adapts vector.AutoIVF: a flat table until the collection has
// enough vectors, then an IVF trained on them (see Backend.trainIVF, which
// calls trainDue, trained and install so that k-means runs without the
// index lock).
type ivfIndex struct{ *vector.AutoIVF }

func newIVFIndex(c VectorConfig, dim int, full vector.FullFunc) *ivfIndex {
	return &ivfIndex{vector.NewAutoIVF(c.IVFConfig(dim, vector.Dot), full)}
}

func (x *ivfIndex) trainDue() bool                { return x.TrainDue() }
func (x *ivfIndex) trained() (*vector.IVF, error) { return x.Trained() }
func (x *ivfIndex) install(ivf *vector.IVF)       { x.Install(ivf) }
func (x *ivfIndex) Compact()                      {}
func (x *ivfIndex) persistent() bool              { return true }

func (x *ivfIndex) AddBatch(ids []uint32, vecs [][]float32) error {
	for i, id := range ids {
		if err := x.Add(id, vecs[i]); err != nil {
			return err
		}
	}
	return nil
}

// readIVFIndex reads what ivfIndex.WriteTo wrote.
func readIVFIndex(c VectorConfig, dim int, r io.Reader, full vector.FullFunc) (annIndex, error) {
	x, err := vector.ReadAutoIVF(c.IVFConfig(dim, vector.Dot), r, full)
	if err != nil {
		return nil, err // readVectorSnapshot wraps it in errSnapshot
	}
	return &ivfIndex{x}, nil
}
