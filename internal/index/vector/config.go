package vector

import (
	"errors"
	"fmt"
	"io"
)

// Metric selects the similarity; scores are "higher is better".
type Metric uint8

const (
	Dot    Metric = iota // inner product, for normalised vectors (default)
	Cosine               // vectors are normalised on Add and Search
	L2                   // score is -squared distance
)

// String names the metric.
func (m Metric) String() string {
	switch m {
	case Dot:
		return "dot"
	case Cosine:
		return "cosine"
	case L2:
		return "l2"
	}
	return fmt.Sprintf("metric(%d)", uint8(m))
}

// Sentinel errors; every error returned by the package wraps one of them.
var (
	ErrDim     = errors.New("vector: wrong dimension")
	ErrNotFin  = errors.New("vector: NaN or infinite component")
	ErrConfig  = errors.New("vector: invalid config")
	ErrCorrupt = errors.New("vector: corrupt index file")
)

// Limits shared by the indexes.
const (
	maxDim = 65536
	maxEf  = 4096
	maxK   = 4096
	maxLvl = 32
)

// FullFunc serves float32 vectors for rescoring int8 candidates: for each
// i it sets dst[i] to the vector of ids[i], or leaves it nil when the owner
// no longer has it (that candidate is then dropped). A search makes one call
// with all the candidates it rescores, so an owner that reads vectors from
// disk can serve them from one read transaction. It must be safe for
// concurrent use. The index only reads dst[i], and not after it returns.
type FullFunc func(ids []uint32, dst [][]float32)

// Config of an HNSW index. Zero fields take the documented defaults in New.
type Config struct {
	Dim            int    // required, 1..65536
	Metric         Metric // default Dot
	M              int    // links per node on upper levels (2M on level 0); default 16, 2..128
	EfConstruction int    // candidate list while inserting; default 200, M..4096
	EfSearch       int    // default candidate list of Search when ef = 0; default 64, 1..4096
	// Quantize is "" (float32) or "int8": traversal uses one int8 code per
	// component with a per-vector scale and offset; the best Rescore
	// candidates are then rescored with float32 vectors.
	Quantize Quantization
	Seed     int64
	// Rescore is how many of the best int8 candidates are rescored at full
	// precision (int8 only). 0 = max(4k, 40) for a search of k; negative =
	// never rescore (scores are then approximate). Capped by ef.
	Rescore int
	// Full serves the float32 vectors for rescoring (int8 only). When nil
	// the index keeps its own float32 copy of every vector (and Stats says
	// so); when set, the owner keeps them (on disk) and the index holds only
	// codes. Not persisted: set it again after Read with SetFull.
	Full FullFunc
	// KeepPruned fills a node's link list up to its capacity with candidates
	// the neighbour heuristic discarded (hnswlib's keepPrunedConnections).
	KeepPruned bool
	// Traverse selects what Search's level-0 walk scores (float32 indexes
	// only): TraverseFloat32 (default) the float32 vectors, TraverseSQ8
	// per-dimension 8-bit codes with the ef list re-ranked in float32 (see
	// the package doc, "Quantized traversal"). Persisted.
	Traverse Traversal
}

// Traversal is what the graph walk of Search scores; see Config.Traverse.
type Traversal uint8

const (
	TraverseFloat32 Traversal = iota // float32 vectors, exact distances
	TraverseSQ8                      // 8-bit per-dimension codes, exact re-rank of the ef list
)

// String names the traversal.
func (t Traversal) String() string {
	switch t {
	case TraverseFloat32:
		return "float32"
	case TraverseSQ8:
		return "sq8"
	}
	return fmt.Sprintf("traversal(%d)", uint8(t))
}

func (c *Config) ensureDefaults() {
	if c.M == 0 {
		c.M = DefaultM
	}
	if c.EfConstruction == 0 {
		c.EfConstruction = DefaultEfConstruction
	}
	if c.EfSearch == 0 {
		c.EfSearch = DefaultEfSearch
	}
}

// Validate reports a config that New would reject (after defaults).
func (c Config) Validate() error {
	c.ensureDefaults()
	switch {
	case c.Dim < 1 || c.Dim > maxDim:
		return fmt.Errorf("%w: Dim %d out of range 1..%d", ErrConfig, c.Dim, maxDim)
	case c.Metric > L2:
		return fmt.Errorf("%w: unknown Metric %d", ErrConfig, c.Metric)
	case c.M < 2 || c.M > 128:
		return fmt.Errorf("%w: M %d out of range 2..128", ErrConfig, c.M)
	case c.EfConstruction < c.M || c.EfConstruction > maxEf:
		return fmt.Errorf("%w: EfConstruction %d out of range M..%d", ErrConfig, c.EfConstruction, maxEf)
	case c.EfSearch < 1 || c.EfSearch > maxEf:
		return fmt.Errorf("%w: EfSearch %d out of range 1..%d", ErrConfig, c.EfSearch, maxEf)
	case c.Quantize != QuantNone && c.Quantize != QuantInt8:
		return fmt.Errorf("%w: Quantize %q not supported (want \"\" or \"int8\")", ErrConfig, c.Quantize)
	case c.Traverse > TraverseSQ8:
		return fmt.Errorf("%w: unknown Traverse %d", ErrConfig, c.Traverse)
	case c.Traverse == TraverseSQ8 && c.Quantize != QuantNone:
		return fmt.Errorf("%w: Traverse sq8 needs float32 vectors (Quantize \"\")", ErrConfig)
	case c.Rescore > maxEf:
		return fmt.Errorf("%w: Rescore %d above %d", ErrConfig, c.Rescore, maxEf)
	}
	return nil
}

// Result is one hit, best first.
type Result struct {
	ID    uint32
	Score float32
}

// Stats describes an index's contents and memory.
type Stats struct {
	Vectors int // live vectors
	Deleted int // tombstones (and, transiently, vectors still being inserted)
	// Bytes is the index's heap memory: vectors or codes, links, and
	// bookkeeping (id table, id map estimated at 16 bytes per entry), counted
	// by allocated capacity. BytesPerVector is Bytes per stored slot.
	BytesPerVector int
	Bytes          int
	// Quantize is the Config.Quantize in effect; FullInIndex reports that
	// the index holds float32 vectors (always true without quantization,
	// true with int8 when Config.Full is nil).
	Quantize    Quantization
	FullInIndex bool
}

// Index is what both HNSW and IVF offer. effort is HNSW's ef or IVF's
// nprobe; 0 takes the index's default.
type Index interface {
	Add(id uint32, v []float32) error
	Delete(id uint32) bool
	Search(q []float32, k, effort int, accept func(id uint32) bool) ([]Result, error)
	Len() int
	Stats() Stats
	WriteTo(w io.Writer) (int64, error)
}
