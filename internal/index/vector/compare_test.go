//go:build linux

package vector

import (
	"encoding/binary"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// TestPeerComparison measures build time, QPS and recall@10 single-threaded
// on a seeded Gaussian mixture and writes the same vectors to
// ~/.cache/quarry/ann/mix-N-D.f32 so a peer (hnswlib) can be timed on them
// (python testdata/hnswlib_cmp.py TAG in ~/.cache/quarry/ann, with the bench venv's python,
// and the file tag). Times are thread CPU time, best of 3 rounds, so other
// load on the machine skews them less. Opt-in: QUARRY_ANNCMP=N (e.g.
// 50000); QUARRY_ANNDIM (128) and QUARRY_ANNRANK (16) shape the data.
func TestPeerComparison(t *testing.T) {
	env := os.Getenv("QUARRY_ANNCMP")
	if env == "" {
		t.Skip("set QUARRY_ANNCMP=N to run the single-threaded peer comparison")
	}
	n, _ := strconv.Atoi(env)
	dim := 128
	if d := os.Getenv("QUARRY_ANNDIM"); d != "" {
		dim, _ = strconv.Atoi(d)
	}
	r := rand.New(rand.NewSource(7))
	rank := 16
	if d := os.Getenv("QUARRY_ANNRANK"); d != "" {
		rank, _ = strconv.Atoi(d)
	}
	all := lowRank(r, n+1000, dim, rank)
	data, qs := all[:n], all[n:]
	home, _ := os.UserHomeDir()
	dir := filepath.Join(home, ".cache", "quarry", "ann")
	os.MkdirAll(dir, 0o755)
	dump := func(name string, vs [][]float32) {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		binary.Write(f, binary.LittleEndian, uint32(len(vs)))
		binary.Write(f, binary.LittleEndian, uint32(dim))
		for _, v := range vs {
			f.Write(unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 4*len(v)))
		}
	}
	tag := "mix-" + strconv.Itoa(n) + "-" + strconv.Itoa(dim) + "-r" + strconv.Itoa(rank)
	dump(tag+".f32", data)
	dump(tag+"-q.f32", qs)
	gt := make([][]uint32, len(qs))
	for i, q := range qs {
		gt[i] = oracle(data, q, 10, nil)
	}
	for _, quant := range []Quantization{"", "int8"} {
		runtime.LockOSThread()
		h, _ := New(Config{Dim: dim, M: 16, EfConstruction: 200, Quantize: quant, Seed: 1})
		t0, c0 := time.Now(), threadCPU()
		for i, v := range data {
			h.Add(uint32(i), v)
		}
		bt, bc := time.Since(t0), threadCPU()-c0
		st := h.Stats()
		t.Logf("quant=%q build wall %.2fs cpu %.2fs bytes/vector %d", quant, bt.Seconds(), bc.Seconds(), st.BytesPerVector)
		for _, ef := range []int{10, 16, 24, 32, 48, 64, 96, 128, 200} {
			hit := 0
			best := time.Duration(1 << 62)
			for range 3 {
				c0 := threadCPU()
				for _, q := range qs {
					h.Search(q, 10, ef, nil)
				}
				best = min(best, threadCPU()-c0)
			}
			t0 = time.Now()
			for i, q := range qs {
				res, _ := h.Search(q, 10, ef, nil)
				for _, x := range res {
					for _, g := range gt[i] {
						if g == x.ID {
							hit++
						}
					}
				}
			}
			el := time.Since(t0)
			t.Logf("quant=%q ef=%d recall@10 %.4f QPS wall %.0f, per CPU-second (best of 3) %.0f", quant, ef, float64(hit)/float64(10*len(qs)),
				float64(len(qs))/el.Seconds(), float64(len(qs))/best.Seconds())
		}
	}
}

// threadCPU is the CPU time of the calling OS thread (the goroutine is
// locked to it), so the comparison is not skewed by other load.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
