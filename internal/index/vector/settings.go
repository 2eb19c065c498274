package vector

import "fmt"

// Kind names a vector index: the one configuration owned by this package
// that the root's CollectionConfig.Vector, the store's Config.Vector, the
// embedded and Weaviate backends and the server's JSON all map onto.
type Kind string

// Index kinds of Settings.Index.
const (
	IndexHNSW Kind = "hnsw" // approximate graph index (default)
	IndexFlat Kind = "flat" // exact scan of every vector (or of binary codes)
	IndexIVF  Kind = "ivf"  // inverted file over k-means cells, trained on the first vectors
)

// Quantization names how an index holds its vectors in memory.
type Quantization string

// Quantizations of Settings.Quantization, Config.Quantize and
// IVFConfig.Quantize.
const (
	QuantNone   Quantization = ""       // float32 vectors
	QuantInt8   Quantization = "int8"   // per-vector affine int8 codes, rescored in float32 (hnsw, ivf)
	QuantBinary Quantization = "binary" // one bit per component, rescored in float32 (flat)
	// QuantSQ8 keeps the float32 vectors and adds 8-bit per-dimension codes
	// that the HNSW search walks; the candidates are re-ranked in float32,
	// so scores are exact (hnsw; Config.Traverse = TraverseSQ8).
	QuantSQ8 Quantization = "sq8"
)

// Defaults of Settings (and of Config and IVFConfig, whose zero fields
// take them).
const (
	DefaultM              = 16
	DefaultEfConstruction = 200
	DefaultEfSearch       = 64
	DefaultNList          = 256
	DefaultNProbe         = 8
)

// Settings selects and tunes a collection's dense index. The zero value is
// an HNSW over float32 vectors with the package defaults. Zero numeric
// fields mean "the default"; EnsureDefaults fills them in.
type Settings struct {
	// Index is IndexHNSW (default, "" too), IndexFlat or IndexIVF.
	Index Kind
	// M (2..128), EfConstruction (M..4096) and EfSearch (1..4096) tune
	// the HNSW: links per node, insertion and search candidate lists.
	M, EfConstruction, EfSearch int
	// Quantization is QuantNone, QuantInt8 (hnsw, ivf), QuantSQ8 (hnsw) or
	// QuantBinary (flat).
	Quantization Quantization
	// NList (1..65536) and NProbe (1..NList) tune the IVF index: cells, and
	// cells searched by default.
	NList, NProbe int
}

// Kind returns the index kind, IndexHNSW for "".
func (s Settings) Kind() Kind {
	if s.Index == "" {
		return IndexHNSW
	}
	return s.Index
}

// EnsureDefaults fills the zero fields that apply to the index kind.
func (s *Settings) EnsureDefaults() {
	if s.Index == "" {
		s.Index = IndexHNSW
	}
	switch s.Index {
	case IndexIVF:
		c := s.IVFConfig(0, Dot)
		s.NList, s.NProbe = c.NList, c.NProbe
	case IndexHNSW:
		c := s.HNSWConfig(0, Dot)
		c.ensureDefaults()
		s.M, s.EfConstruction, s.EfSearch = c.M, c.EfConstruction, c.EfSearch
	}
}

// FieldError is a Settings field Validate refuses: Field is its JSON name
// ("m", "ef_construction", "nlist", "quantization", …; "" for the whole
// settings) and Msg says why. It wraps ErrConfig.
type FieldError struct {
	Field string
	Msg   string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%v: %s", ErrConfig, e.Msg)
	}
	return fmt.Sprintf("%v: %s: %s", ErrConfig, e.Field, e.Msg)
}

func (e *FieldError) Unwrap() error { return ErrConfig }

func invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Validate reports the first field of s no index would accept, as a
// *FieldError. It accepts s with or without defaults filled in.
func (s Settings) Validate() error {
	switch s.Index {
	case "", IndexHNSW:
		if s.M != 0 && (s.M < 2 || s.M > 128) {
			return invalid("m", "must be between 2 and 128, got %d", s.M)
		}
		if s.EfConstruction != 0 && (s.EfConstruction < max(s.M, 2) || s.EfConstruction > maxEf) {
			return invalid("ef_construction", "must be between m and %d, got %d", maxEf, s.EfConstruction)
		}
		if s.EfSearch < 0 || s.EfSearch > maxEf {
			return invalid("ef_search", "must be between 1 and %d, got %d", maxEf, s.EfSearch)
		}
		if s.NList != 0 || s.NProbe != 0 {
			return invalid("nlist", "applies to the ivf index only")
		}
	case IndexFlat:
		if s.M != 0 || s.EfConstruction != 0 || s.EfSearch != 0 || s.NList != 0 || s.NProbe != 0 {
			return invalid("", "the flat index takes no parameters")
		}
		if s.Quantization == QuantInt8 {
			return invalid("quantization", "int8 needs the hnsw or ivf index (the flat index takes \"binary\")")
		}
	case IndexIVF:
		if s.M != 0 || s.EfConstruction != 0 || s.EfSearch != 0 {
			return invalid("", "m, ef_construction and ef_search apply to the hnsw index, not ivf")
		}
		if s.NList < 0 || s.NList > 65536 {
			return invalid("nlist", "must be between 1 and 65536, got %d", s.NList)
		}
		if s.NProbe < 0 || (s.NList > 0 && s.NProbe > s.NList) {
			return invalid("nprobe", "must be between 1 and nlist, got %d", s.NProbe)
		}
	default:
		return invalid("index", "unknown index %q (want hnsw, flat or ivf)", s.Index)
	}
	switch s.Quantization {
	case QuantNone, QuantInt8:
	case QuantBinary:
		if s.Index != IndexFlat {
			return invalid("quantization", "binary needs the flat index (set \"index\": \"flat\")")
		}
	case QuantSQ8:
		if s.Kind() != IndexHNSW {
			return invalid("quantization", "sq8 needs the hnsw index")
		}
	default:
		return invalid("quantization", "unknown quantization %q (want \"\", int8, sq8 or binary)", s.Quantization)
	}
	return nil
}

// HNSWConfig is the Config of an HNSW index with these settings for
// dim-dimensional vectors under metric m (zero fields: Config's defaults).
func (s Settings) HNSWConfig(dim int, m Metric) Config {
	q, tr := s.Quantization, TraverseFloat32
	if q == QuantSQ8 {
		q, tr = QuantNone, TraverseSQ8
	}
	return Config{Dim: dim, Metric: m, M: s.M, EfConstruction: s.EfConstruction,
		EfSearch: s.EfSearch, Quantize: q, Traverse: tr, Seed: 1}
}

// IVFConfig is the IVFConfig of an IVF index with these settings, its
// NList and NProbe defaulted.
func (s Settings) IVFConfig(dim int, m Metric) IVFConfig {
	c := IVFConfig{Dim: dim, Metric: m, NList: s.NList, NProbe: s.NProbe, Quantize: s.Quantization, Seed: 1}
	c.ensureDefaults()
	c.Iterations = 0 // Train's default; not a setting
	return c
}

// DefaultEffort is the search effort of a query that sets none: EfSearch
// for HNSW, NProbe for IVF (0 = the index's own default).
func (s Settings) DefaultEffort() int {
	if s.Kind() == IndexIVF {
		return s.NProbe
	}
	return s.EfSearch
}
