package quarry

import "testing"

// TestOutboundAllowsInt8Setting: under an outbound policy a cached model's
// name may carry ?quantization=int8, and the setting does not let a folder
// through.
func TestOutboundAllowsInt8Setting(t *testing.T) {
	e, err := Open(t.TempDir(), &Options{AllowURLs: []string{"http://127.0.0.1:1/"}})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for spec, ok := range map[string]bool{
		"all-MiniLM-L6-v2":                         true,
		"all-MiniLM-L6-v2?quantization=int8":       true,
		"local:all-MiniLM-L6-v2?quantization=int8": true,
		"/models/x?quantization=int8":              false,
		"x/../y?quantization=int8":                 false,
		"model?a?quantization=int8":                false,
	} {
		err := e.checkOutbound(&CollectionConfig{Embedding: spec})
		if (err == nil) != ok {
			t.Errorf("%q: %v (want allowed=%v)", spec, err, ok)
		}
	}
}
