package tools

import (
	"context"
	"math"
	"strings"
	"testing"
)

func TestEval(t *testing.T) {
	good := map[string]float64{
		"1+2*3": 7, "(1+2)*3": 9, "2^3^2": 512, "-2^2": -4, "10 % 4": 2, "7/2": 3.5,
		"sqrt(16) + abs(-3)": 7, "max(2, min(5, 3))": 3, "1.5e3": 1500, "pi": math.Pi, "--3": 3,
		"round(2.5)": 3, "floor(-1.5)": -2, "2 * (3 + (4 - 1)) / 3": 4,
	}
	for e, want := range good {
		got, err := Eval(e)
		if err != nil || math.Abs(got-want) > 1e-12 {
			t.Errorf("Eval(%q) = %v, %v; want %v", e, got, err, want)
		}
	}
	bad := map[string]string{
		"1/0": "division by zero", "2^99999": "not a finite", "(1+2": "missing ')'", "1+": "unexpected end",
		"os.exit(1)": "unknown name", "1 2": "unexpected", "sqrt 4": "needs '('", "max(1)": "two arguments",
		strings.Repeat("(", 40) + "1" + strings.Repeat(")", 40): "nests deeper", strings.Repeat("1+", 200): "limit is 256",
		"sqrt(-1)": "not a finite", "$": "unexpected",
	}
	for e, want := range bad {
		if _, err := Eval(e); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Eval(%q) error %v, want %q", e, err, want)
		}
	}
}

func FuzzEval(f *testing.F) {
	for _, s := range []string{"1+2*3", "sqrt(2)^2", "-(-(-1))", "max(1,2)", "1e308*10", "((((", "2^-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := Eval(s)
		if err == nil && (math.IsNaN(v) || math.IsInf(v, 0)) {
			t.Fatalf("Eval(%q) = %v without error", s, v)
		}
	})
}

// FuzzCheck: any bytes as a tool's arguments are accepted or refused with
// a message, never a panic; accepted ones decode into the parameter struct.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{`{"query":"x"}`, `{"query":"x","k":50}`, `{"k":1e400}`, `[`, `{"query":"\ud800"}`, `{"query":"x","mode":"dense"}`} {
		f.Add(s)
	}
	set := NewSet(New(NameSearch, "", false, func(_ context.Context, _ Scope, a SearchArgs) (Result, error) {
		if a.Query == "" || a.K < 0 || a.K > 50 {
			panic("an invalid call reached the tool")
		}
		return Result{}, nil
	}))
	f.Fuzz(func(t *testing.T, s string) {
		_, err := set.Call(context.Background(), Scope{}, NameSearch, []byte(s))
		if err != nil && (err.Message == "" || err.Executed()) {
			t.Fatalf("%q: %+v", s, err)
		}
	})
}
