package vector

import (
	"errors"
	"testing"
)

// TestSettingsValidateNamesTheField: every refused setting names its JSON
// field, wraps ErrConfig, and the defaults it fills in validate, and build
// an index.
func TestSettingsValidateNamesTheField(t *testing.T) {
	for _, c := range []struct {
		s     Settings
		field string
	}{
		{Settings{Index: "annoy"}, "index"},
		{Settings{M: 1}, "m"},
		{Settings{M: 8, EfConstruction: 4}, "ef_construction"},
		{Settings{EfSearch: 5000}, "ef_search"},
		{Settings{NProbe: 2}, "nlist"},
		{Settings{Index: IndexFlat, M: 8}, ""},
		{Settings{Index: IndexFlat, Quantization: QuantInt8}, "quantization"},
		{Settings{Index: IndexIVF, M: 8}, ""},
		{Settings{Index: IndexIVF, NList: 70000}, "nlist"},
		{Settings{Index: IndexIVF, NList: 4, NProbe: 5}, "nprobe"},
		{Settings{Quantization: QuantBinary}, "quantization"},
		{Settings{Index: IndexIVF, Quantization: QuantBinary}, "quantization"},
		{Settings{Quantization: "pq"}, "quantization"},
		{Settings{Index: IndexIVF, Quantization: QuantSQ8}, "quantization"},
		{Settings{Index: IndexFlat, Quantization: QuantSQ8}, "quantization"},
	} {
		err := c.s.Validate()
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != c.field || !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: got %v, want a FieldError on %q", c.s, err, c.field)
		}
	}
	for _, s := range []Settings{{}, {Index: IndexFlat}, {Index: IndexFlat, Quantization: QuantBinary}, {Index: IndexIVF},
		{Quantization: QuantInt8}, {Quantization: QuantSQ8}, {Index: IndexIVF, NList: 4}} {
		d := s
		d.EnsureDefaults()
		if err := s.Validate(); err != nil {
			t.Errorf("%+v: %v", s, err)
		}
		if err := d.Validate(); err != nil {
			t.Errorf("%+v with defaults %+v: %v", s, d, err)
		}
		switch d.Kind() {
		case IndexHNSW:
			if d.M != DefaultM || d.EfConstruction != DefaultEfConstruction || d.EfSearch != DefaultEfSearch {
				t.Errorf("hnsw defaults: %+v", d)
			}
			if _, err := New(d.HNSWConfig(8, Dot)); err != nil {
				t.Error(err)
			}
			if c := d.HNSWConfig(8, Dot); (c.Traverse == TraverseSQ8) != (s.Quantization == QuantSQ8) || c.Quantize == QuantSQ8 {
				t.Errorf("%+v: config %+v", s, c)
			}
		case IndexIVF:
			if d.NList == 0 || d.NProbe != min(DefaultNProbe, d.NList) {
				t.Errorf("ivf defaults: %+v", d)
			}
			if _, err := NewIVF(s.IVFConfig(8, Dot)); err != nil {
				t.Error(err)
			}
		}
	}
}
