package vector

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func autoIVFFile(t testing.TB, n int) []byte {
	x := NewAutoIVF(IVFConfig{Dim: 4, NList: 2}, nil)
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < n; i++ {
		x.Add(uint32(i), []float32{float32(r.NormFloat64()), float32(r.NormFloat64()), 1, 0})
	}
	if x.TrainDue() {
		ivf, err := x.Trained()
		if err != nil {
			t.Fatal(err)
		}
		x.Install(ivf)
	}
	var b bytes.Buffer
	if _, err := x.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestAutoIVFTrainsAndRoundTrips: the buffer trains at TrainAt vectors and
// both forms read back with the same contents.
func TestAutoIVFTrainsAndRoundTrips(t *testing.T) {
	for _, n := range []int{10, 1100} {
		b := autoIVFFile(t, n)
		x, err := ReadAutoIVF(IVFConfig{Dim: 4, NList: 2}, bytes.NewReader(b), nil)
		if err != nil {
			t.Fatal(err)
		}
		if x.Len() != n || x.IsTrained() != (n >= 1024) {
			t.Fatalf("n=%d: read %d vectors, trained %v", n, x.Len(), x.IsTrained())
		}
		if res, _ := x.Search([]float32{1, 0, 1, 0}, 3, 2, nil); len(res) != 3 {
			t.Fatalf("n=%d: %d results", n, len(res))
		}
		b[len(b)-1] ^= 1
		if _, err := ReadAutoIVF(IVFConfig{Dim: 4, NList: 2}, bytes.NewReader(b), nil); err == nil && n < 1024 {
			t.Fatalf("n=%d: a flipped checksum byte was accepted", n)
		}
	}
}

func FuzzReadAutoIVF(f *testing.F) {
	f.Add(autoIVFFile(f, 10))
	f.Add(autoIVFFile(f, 1100))
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := ReadAutoIVF(IVFConfig{Dim: 4, NList: 2}, bytes.NewReader(b), nil)
		if err != nil {
			return
		}
		x.Search([]float32{1, 0, 0, 0}, 5, 0, nil)
	})
}
