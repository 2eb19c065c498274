package main

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quarry-rag/quarry/internal/drift"
)

func writeWindow(t *testing.T, dir, name string, shift float32, seed uint64) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	w := drift.NewWindow(drift.WindowOptions{Seed: seed})
	for range 100 {
		v := []float32{float32(rng.NormFloat64()) + shift, float32(rng.NormFloat64()), float32(rng.NormFloat64())}
		w.ObserveQuery(v, rng.Float64(), false)
	}
	p := filepath.Join(dir, name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := drift.WriteSample(f, w.Sample()); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDriftReport(t *testing.T) {
	dir := t.TempDir()
	a := writeWindow(t, dir, "a.json", 0, 1)
	b := writeWindow(t, dir, "b.json", 0, 2)
	c := writeWindow(t, dir, "c.json", 2, 3)
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"version":9}`), 0o600)
	for _, tc := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"drift", "report", "--baseline", a, "--current", b}, 0, "stable"},
		{[]string{"drift", "report", "--baseline", a, "--current", c}, 0, "drift"},
		{[]string{"drift", "report", "--baseline", a, "--current", c, "--fail"}, 1, "drift detected"},
		{[]string{"drift", "report", "--baseline", a, "--current", c, "--json"}, 0, `"verdict": "drift"`},
		{[]string{"drift", "report", "--baseline", a}, 2, "--current are required"},
		{[]string{"drift", "report", "--baseline", a, "--current", b, "--alpha", "2"}, 2, "--alpha"},
		{[]string{"drift", "report", "--baseline", a, "--current", bad}, 1, "version 9"},
		{[]string{"drift"}, 2, "usage"},
	} {
		var out, errb bytes.Buffer
		code := run(context.Background(), tc.args, &out, &errb)
		if code != tc.code || !strings.Contains(out.String()+errb.String(), tc.out) {
			t.Errorf("%v: exit %d (want %d), output %q%q, want %q", tc.args[2:], code, tc.code, out.String(), errb.String(), tc.out)
		}
	}
}
