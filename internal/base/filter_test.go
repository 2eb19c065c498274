package base

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// depthOf is the reference: the nesting depth of a decoded JSON value.
func depthOf(v any) int {
	d := 0
	switch x := v.(type) {
	case map[string]any:
		for _, c := range x {
			d = max(d, depthOf(c))
		}
		return d + 1
	case []any:
		for _, c := range x {
			d = max(d, depthOf(c))
		}
		return d + 1
	}
	return 0
}

func FuzzJSONDepth(f *testing.F) {
	for _, s := range []string{`{}`, `[]`, `{"a":[1,{"b":"}]"}]}`, `"[[["`, `{"a":"\"{"}`, `[[[[]]]]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v any
		if json.Unmarshal(b, &v) != nil {
			return
		}
		want := depthOf(v)
		if got := jsonDepth(b, 1<<30); got != want {
			t.Fatalf("jsonDepth(%s) = %d, want %d", b, got, want)
		}
		if got := jsonDepth(b, 3); (got > 3) != (want > 3) {
			t.Fatalf("jsonDepth(%s, 3) = %d, want %d", b, got, want)
		}
	})
}

// TestDeepFilterLinear: a filter nested 9,990 levels deep is refused
// after one scan, not decoded level by level.
func TestDeepFilterLinear(t *testing.T) {
	b := []byte(strings.Repeat(`{"not":`, 9990) + `{"field":"x","op":"eq","value":1}` + strings.Repeat("}", 9990))
	var f Filter
	start := time.Now()
	err := f.UnmarshalJSON(b)
	took := time.Since(start)
	if !errors.Is(err, ErrInvalidFilter) || !strings.Contains(err.Error(), "nested") {
		t.Fatalf("err = %v", err)
	}
	if took > 5*time.Millisecond {
		t.Errorf("took %v", took)
	}
	ok := []byte(strings.Repeat(`{"not":`, MaxFilterDepth-1) + `{"field":"x","op":"eq","value":1}` + strings.Repeat("}", MaxFilterDepth-1))
	if err := f.UnmarshalJSON(ok); err != nil {
		t.Errorf("a filter %d levels deep: %v", MaxFilterDepth, err)
	}
}
