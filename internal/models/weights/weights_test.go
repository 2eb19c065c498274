package weights

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

type stTensor struct {
	name  string
	dtype DType
	shape []int
	vals  []float32
}

// buildSafetensors encodes tensors the way the Python safetensors package
// does (header JSON, 8-byte length, packed data).
func buildSafetensors(t testing.TB, ts []stTensor) []byte {
	var data bytes.Buffer
	hdr := map[string]any{"__metadata__": map[string]string{"format": "pt"}}
	for _, x := range ts {
		begin := data.Len()
		for _, v := range x.vals {
			switch x.dtype {
			case F32:
				binary.Write(&data, binary.LittleEndian, v)
			case F16:
				binary.Write(&data, binary.LittleEndian, floatToHalf(v))
			case BF16:
				binary.Write(&data, binary.LittleEndian, uint16(math.Float32bits(v)>>16))
			}
		}
		hdr[x.name] = map[string]any{"dtype": x.dtype, "shape": x.shape, "data_offsets": []int{begin, data.Len()}}
	}
	h, err := json.Marshal(hdr)
	if err != nil {
		t.Fatal(err)
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	out = append(out, h...)
	return append(out, data.Bytes()...)
}

// floatToHalf handles the exactly representable values the tests use.
func floatToHalf(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	if f == 0 {
		return sign
	}
	exp := int(b>>23&0xff) - 127 + 15
	return sign | uint16(exp)<<10 | uint16(b>>13&0x3ff)
}

func TestSafetensorsRoundTrip(t *testing.T) {
	vals := []float32{1, -2, 0.5, 0, 3.25, -0.125}
	b := buildSafetensors(t, []stTensor{
		{"a.f32", F32, []int{2, 3}, vals},
		{"b.f16", F16, []int{6}, vals},
		{"c.bf16", BF16, []int{3, 2}, vals},
		{"empty", F32, []int{0, 4}, nil},
	})
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := OpenSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got := strings.Join(st.Names(), ","); got != "a.f32,b.f16,c.bf16,empty" {
		t.Fatalf("names %s", got)
	}
	if st.Metadata()["format"] != "pt" {
		t.Fatalf("metadata %v", st.Metadata())
	}
	for _, name := range []string{"a.f32", "b.f16", "c.bf16"} {
		got, err := st.Float32(name)
		if err != nil {
			t.Fatal(err)
		}
		for i := range vals {
			if got[i] != vals[i] {
				t.Fatalf("%s[%d] = %v want %v", name, i, got[i], vals[i])
			}
		}
	}
	if _, err := st.Float32("a.f32", 2, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Float32("a.f32", 3, 2); !errors.Is(err, ErrShape) {
		t.Fatalf("shape check: %v", err)
	}
	_, err = st.Float32("encoder.layer.9.output.dense.weight")
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "encoder.layer.9.output.dense.weight") {
		t.Fatalf("missing tensor error must name it: %v", err)
	}
	if e, _ := st.Float32("empty"); len(e) != 0 {
		t.Fatalf("empty tensor has %d values", len(e))
	}
}

func TestSafetensorsCorrupt(t *testing.T) {
	good := buildSafetensors(t, []stTensor{{"w", F32, []int{2}, []float32{1, 2}}})
	hdr := func(h string, data int) []byte {
		b := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
		return append(append(b, h...), make([]byte, data)...)
	}
	cases := map[string][]byte{
		"empty":           nil,
		"short":           good[:5],
		"header past end": good[:20],
		"truncated data":  good[:len(good)-1],
		"huge length":     binary.LittleEndian.AppendUint64(nil, 1<<62),
		"bad json":        hdr(`{"w":`, 0),
		"bad dtype":       hdr(`{"w":{"dtype":"Q9","shape":[1],"data_offsets":[0,8]}}`, 8),
		"negative dim":    hdr(`{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, 4),
		"size mismatch":   hdr(`{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, 8),
		"reversed":        hdr(`{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,4]}}`, 8),
		"one offset":      hdr(`{"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}}`, 4),
		"overflow shape":  hdr(`{"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}`, 4),
		"bad metadata":    hdr(`{"__metadata__":[1]}`, 0),
	}
	dir := t.TempDir()
	for name, b := range cases {
		if _, err := ParseSafetensors(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: got %v, want ErrCorrupt", name, err)
		}
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := OpenSafetensors(path); !errors.Is(err, ErrCorrupt) {
			t.Errorf("file %s: got %v, want ErrCorrupt", name, err)
		}
	}
	if _, err := OpenSafetensors(filepath.Join(t.TempDir(), "absent")); err == nil || errors.Is(err, ErrCorrupt) {
		t.Errorf("absent file: %v", err)
	}
}

// TestOpenSafetensorsReadsOnDemand: opening a file reads its header, not
// its tensors (the heap does not grow by the file's size), Float32 reads
// a tensor when asked, a file cut short after opening fails with
// ErrCorrupt, and Close closes the file.
func TestOpenSafetensorsReadsOnDemand(t *testing.T) {
	big := make([]float32, 4<<20) // 16 MiB of F32
	for i := range big {
		big[i] = float32(i % 1000)
	}
	small := []float32{1, -2, 0.5, 3.25}
	b := buildSafetensors(t, []stTensor{{"small.f16", F16, []int{4}, small}, {"big", F32, []int{4 << 10, 1 << 10}, big}})
	path := filepath.Join(t.TempDir(), "m.safetensors")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	b = nil
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	st, err := OpenSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	if grew := int64(heap()) - int64(before); grew > 1<<20 {
		t.Fatalf("opening a 16 MiB file grew the heap by %d bytes: the tensors were read at open", grew)
	}
	got, err := st.Float32("big", 4<<10, 1<<10)
	if err != nil || !slices.Equal(got, big) {
		t.Fatalf("big: %v (equal %v)", err, slices.Equal(got, big))
	}
	if got, err := st.Float32("small.f16"); err != nil || !slices.Equal(got, small) {
		t.Fatalf("small: %v %v", got, err)
	}
	info, _ := os.Stat(path)
	if err := os.Truncate(path, info.Size()-4); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Float32("big"); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("file cut short after open: got %v, want ErrCorrupt", err)
	}
	if got, err := st.Float32("small.f16"); err != nil || !slices.Equal(got, small) {
		t.Fatalf("small after the cut: %v %v", got, err)
	}
	f := st.f
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Stat(); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("file still open after Close: %v", err)
	}
	if _, err := st.Float32("small.f16"); err == nil {
		t.Fatal("Float32 after Close succeeded")
	}
}

func TestSafetensorsIntegerTensor(t *testing.T) {
	h := `{"embeddings.position_ids":{"dtype":"I64","shape":[1,2],"data_offsets":[0,16]},` +
		`"w":{"dtype":"F64","shape":[1],"data_offsets":[16,24]}}`
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(h)))
	b = append(append(b, h...), make([]byte, 16)...)
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(2.5))
	st, err := ParseSafetensors(b)
	if err != nil {
		t.Fatalf("a file with an I64 buffer must open: %v", err)
	}
	if _, err := st.Float32("embeddings.position_ids"); !errors.Is(err, ErrDType) {
		t.Fatalf("want ErrDType, got %v", err)
	}
	if v, err := st.Float32("w"); err != nil || v[0] != 2.5 {
		t.Fatalf("F64: %v %v", v, err)
	}
}

func TestHalfToFloat32(t *testing.T) {
	cases := []struct {
		h    uint16
		want float64
	}{
		{0x0000, 0}, {0x3c00, 1}, {0xc000, -2}, {0x3555, 0.333251953125}, {0x7bff, 65504},
		{0x0001, 5.960464477539063e-08}, {0x03ff, 6.097555160522461e-05}, {0x0400, 6.103515625e-05},
		{0x7c00, math.Inf(1)}, {0xfc00, math.Inf(-1)},
	}
	for _, c := range cases {
		if got := HalfToFloat32(c.h); float64(got) != c.want {
			t.Errorf("half %#04x = %v want %v", c.h, got, c.want)
		}
	}
	if v := HalfToFloat32(0x7e00); !math.IsNaN(float64(v)) {
		t.Errorf("NaN: %v", v)
	}
	if v := HalfToFloat32(0x8000); !math.Signbit(float64(v)) || v != 0 {
		t.Errorf("-0: %v", v)
	}
}

func FuzzParseSafetensors(f *testing.F) {
	f.Add(buildSafetensors(f, []stTensor{{"w", F16, []int{2, 1}, []float32{1, 2}}}))
	f.Add([]byte("\x10\x00\x00\x00\x00\x00\x00\x00{\"a\":{}}        "))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := ParseSafetensors(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error not ErrCorrupt: %v", err)
			}
			return
		}
		for _, n := range st.Names() {
			info, _ := st.Info(n)
			v, err := st.Float32(n)
			if errors.Is(err, ErrDType) {
				continue
			}
			if err != nil || len(v) != info.Len() {
				t.Fatalf("%s: %v len %d want %d", n, err, len(v), info.Len())
			}
		}
	})
}
