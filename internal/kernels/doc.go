// Package kernels holds the float32 numeric kernels of Quarry's transformer
// runtime: Dot, Axpy, Add, AddBias, Scale, the exact (erf) GELU, LayerNorm,
// a max-subtracted Softmax, and MatMul (C = A·Bᵀ, row-major, the layout of a
// Linear weight [out, in]), plus the bounded worker Pool that MatMul and the
// encoder split work over.
//
// Implementations. generic.go is the reference: plain Go, always built,
// the only code under the purego build tag or on other architectures. On
// amd64 with AVX2 and FMA (checked at init with golang.org/x/sys/cpu)
// hand-written assembly in kernels_amd64.s takes over. Every implementation
// is registered in impls and run by the tests against the same cases, with
// lengths chosen to hit each vector loop's tail; Implementation() names the
// one in use.
//
// MatMul. B is packed into column panels of NR=16 (Packed; Linear weights are
// packed once at load), and a 6×16 register-tiled micro-kernel (12 YMM
// accumulators, broadcast A, FMA) runs over K in blocks of 384 so a panel
// slice stays in L1 while A strips stream from L2. Rows × panel groups are the
// units of parallel work. Edge tiles (M%6, N%16) go through a padded scratch
// tile. Measured on the 2-core AVX2 machine: ~125 GFLOP/s per core
// (BenchmarkMatMul).
//
// With AVX-512 (the "avx512vnni" set, gemm512_amd64.s) a 16×16 kernel (16
// ZMM accumulators, the A value broadcast from memory into each FMA) takes
// every tile instead (gemmBlockTall): a 16-token query is one strip, a
// shorter one or a batch's tail is padded to 16 rows (multiply-adds, not
// memory traffic), and when the rows fit in one strip k is not blocked, so
// the weights are read once, as one stream the kernel prefetches ahead of
// its FMAs. At batch 1 the matmuls are bound by reading the weights from
// memory, not by arithmetic: an Arena (NewArena, PackedSize, Arena.PackBT)
// holds a model's packed weights in one buffer aligned to 2 MiB and advised
// for transparent huge pages, so the prefetchers are not stopped at every
// 4 KiB page; Compact moves the survivors of a partly dropped arena out
// (BenchmarkMatMulStream: one weight matrix against ~40 MB of them).
//
// Int8 matmul (int8.go). QuantizeBT quantizes a Linear weight per output
// channel (symmetric int8, scale max|w|/127) and packs it in panels of
// QNR=32 columns × groups of 4 k; QActs.Quantize quantizes activation rows
// per row (symmetric, stored as code+128 because VPDPBUSD multiplies
// unsigned by signed bytes; each column's accumulator starts at
// −128·Σw so the int32 sum is exactly Σ a·w); MatMulQ runs an 8×32 tile
// kernel and a float32 epilogue (acc·wscale·ascale + bias, one rounding per
// step, no FMA) so every implementation returns the same bits, checked
// against an int64 oracle (TestMatMulQMatchesOracle, TestMatMulQExtremes).
// Two assembly kernels: AVX-512 VNNI ("avx512vnni": VPDPBUSD on ZMM, 16
// accumulators; ~4-6× the float32 MatMul's throughput), selected at init
// when the CPU has AVX512F, AVX512BW and AVX512_VNNI; and AVX2 ("avx2":
// |q|·sign(q)w through VPMADDUBSW, whose pair sums cannot saturate with
// codes within ±127, then VPMADDWD by ones; ~1.2× float32). Without AVX2
// (or under purego) the generic Go kernel runs: exact, but much slower than
// float32. BenchmarkMatMulQ beside BenchmarkMatMul.
//
// Numerics. GELU uses the Eigen/XLA rational erf approximation (a few ulp);
// Softmax's exp is Cephes' expf polynomial; sums are float32 with several
// accumulators, so results differ from a float64 reference by ~1e-6
// relative, well inside the encoder's parity budget.
//
// Vector-index kernels (distance.go, dotu8.go, hamming.go): L2Sq, DotF32,
// DotI8 (float32 query · int8 code), DotU8I8 (u8 code · s8 query, exact
// int32: one VPDPBUSD per 64 bytes with AVX-512 VNNI, VPMADDWD on AVX2,
// the Go loop otherwise; the sq8 graph walk of internal/index/vector),
// Hamming and Prefetch.
//
// Concurrency. The kernels are pure functions of their arguments and safe for
// concurrent use on disjoint outputs. A Pool is owned by its creator, who
// must Close it; ParallelFor may be called concurrently and nested (the
// caller always works, idle workers help).
//
// Why hand-written: no SIMD library is among the dependencies, and these few
// routines are small enough to keep in one reviewed assembly file.
//
//	p := kernels.NewPool(0) // GOMAXPROCS
//	defer p.Close()
//	w := kernels.PackBT(weight, out, in)
//	kernels.MatMulPacked(p, y, out, x, in, rows, w) // y = x·weightᵀ
package kernels
