package drift

import (
	"math"
	"math/rand/v2"
	"slices"
)

// MMDResult is the outcome of an MMD permutation test.
type MMDResult struct {
	MMD2      float64 // unbiased squared MMD of the two samples
	Bandwidth float64 // the kernel's median squared distance
	PValue    float64 // permutation p-value, (1+#{perm ≥ observed})/(1+B)
}

// MMDTest compares two samples of vectors of one dimension with the
// unbiased squared maximum mean discrepancy under the Gaussian kernel
// k(x,y) = exp(-‖x−y‖² / h), h the median squared distance between pooled
// points (the median heuristic), and a permutation test of perms seeded
// relabellings. Each sample needs at least 2 points.
func MMDTest(x, y [][]float32, perms int, seed uint64) MMDResult {
	m, n := len(x), len(y)
	N := m + n
	z := make([][]float32, 0, N)
	z = append(append(z, x...), y...)
	// Pairwise squared distances, upper triangle, row-major.
	d := make([]float64, N*N)
	tri := make([]float64, 0, N*(N-1)/2)
	for i := 0; i < N; i++ {
		for j := i + 1; j < N; j++ {
			v := sqDist(z[i], z[j])
			d[i*N+j] = v
			tri = append(tri, v)
		}
	}
	h := median(tri)
	if h <= 0 {
		h = 1 // all points equal: any bandwidth gives MMD² = 0
	}
	k := d // reuse: kernel values in the upper triangle
	for i := 0; i < N; i++ {
		for j := i + 1; j < N; j++ {
			k[i*N+j] = math.Exp(-d[i*N+j] / h)
		}
	}
	label := make([]bool, N) // true: in the first sample
	for i := range m {
		label[i] = true
	}
	obs := mmd2(k, N, label, m, n)
	rng := rand.New(rand.NewPCG(seed, 0xda3e39cb94b95bdb))
	ge := 0
	for range perms {
		rng.Shuffle(N, func(i, j int) { label[i], label[j] = label[j], label[i] })
		if mmd2(k, N, label, m, n) >= obs {
			ge++
		}
	}
	return MMDResult{MMD2: obs, Bandwidth: h, PValue: float64(1+ge) / float64(1+perms)}
}

// mmd2 is the unbiased squared MMD for the split given by label, from the
// upper triangle of the kernel matrix k (N×N, diagonal unused).
func mmd2(k []float64, N int, label []bool, m, n int) float64 {
	var sxx, syy, sxy float64
	for i := 0; i < N; i++ {
		row := k[i*N : (i+1)*N]
		li := label[i]
		for j := i + 1; j < N; j++ {
			switch lj := label[j]; {
			case li && lj:
				sxx += row[j]
			case !li && !lj:
				syy += row[j]
			default:
				sxy += row[j]
			}
		}
	}
	fm, fn := float64(m), float64(n)
	return 2*sxx/(fm*(fm-1)) + 2*syy/(fn*(fn-1)) - 2*sxy/(fm*fn)
}

func sqDist(a, b []float32) float64 {
	var s float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		s += d * d
	}
	return s
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	c := slices.Clone(v)
	slices.Sort(c)
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}

// PSIResult is the outcome of a population stability index test.
type PSIResult struct {
	PSI    float64 // Σ (c−b)·ln(c/b) over the baseline's quantile bins
	Bins   int     // bins used (fewer than asked when the baseline has ties)
	PValue float64 // permutation p-value of the PSI
}

// PSI computes the population stability index of current against
// baseline over (at most) bins baseline quantile bins, with a
// permutation p-value from perms seeded relabellings of the pooled
// scores. Empty bins get half a count, so the index stays finite.
func PSI(baseline, current []float64, bins, perms int, seed uint64) PSIResult {
	obs, nb := psi(baseline, current, bins)
	pooled := append(slices.Clone(baseline), current...)
	rng := rand.New(rand.NewPCG(seed, 0x94d049bb133111eb))
	ge := 0
	m := len(baseline)
	for range perms {
		rng.Shuffle(len(pooled), func(i, j int) { pooled[i], pooled[j] = pooled[j], pooled[i] })
		if v, _ := psi(pooled[:m], pooled[m:], bins); v >= obs {
			ge++
		}
	}
	return PSIResult{PSI: obs, Bins: nb, PValue: float64(1+ge) / float64(1+perms)}
}

func psi(base, cur []float64, bins int) (float64, int) {
	sorted := slices.Clone(base)
	slices.Sort(sorted)
	// Inner edges at the baseline's quantiles, duplicates dropped.
	var edges []float64
	for b := 1; b < bins; b++ {
		e := sorted[b*len(sorted)/bins]
		if len(edges) == 0 || e > edges[len(edges)-1] {
			edges = append(edges, e)
		}
	}
	nb := len(edges) + 1
	cb := make([]float64, nb)
	cc := make([]float64, nb)
	bin := func(x float64) int {
		i, _ := slices.BinarySearch(edges, x)
		// BinarySearch returns the first edge ≥ x; x equal to an edge
		// belongs to the bin above it.
		if i < len(edges) && edges[i] == x {
			i++
		}
		return i
	}
	for _, x := range base {
		cb[bin(x)]++
	}
	for _, x := range cur {
		cc[bin(x)]++
	}
	var s float64
	tb, tc := float64(len(base))+0.5*float64(nb), float64(len(cur))+0.5*float64(nb)
	for i := range nb {
		pb, pc := (cb[i]+0.5)/tb, (cc[i]+0.5)/tc
		s += (pc - pb) * math.Log(pc/pb)
	}
	return s, nb
}

// PropResult is the outcome of a two-proportion z-test.
type PropResult struct {
	Baseline, Current float64 // the two rates
	Z                 float64
	PValue            float64 // two-sided
}

// TwoProportions tests whether k1/n1 and k2/n2 differ (two-sided pooled
// z-test). Both n must be positive.
func TwoProportions(k1, n1, k2, n2 int64) PropResult {
	p1, p2 := float64(k1)/float64(n1), float64(k2)/float64(n2)
	p := float64(k1+k2) / float64(n1+n2)
	r := PropResult{Baseline: p1, Current: p2, PValue: 1}
	se := math.Sqrt(p * (1 - p) * (1/float64(n1) + 1/float64(n2)))
	if se == 0 {
		return r // both rates 0 or both 1: no evidence of a difference
	}
	r.Z = (p2 - p1) / se
	r.PValue = math.Erfc(math.Abs(r.Z) / math.Sqrt2)
	return r
}
