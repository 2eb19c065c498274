// Command piiset writes the generated PII set (internal/pii/piiset) as
// JSONL: {"text", "lang", "entities": [{"kind", "start", "end", "value"}]}.
//
//	go run ./internal/pii/cmd/piiset [-n 2000] [-seed 1] > set.jsonl
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/quarry-rag/quarry/internal/pii/piiset"
)

func main() {
	n := flag.Int("n", 2000, "examples")
	seed := flag.Uint64("seed", 1, "seed")
	flag.Parse()
	w := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, e := range piiset.Generate(*n, *seed) {
		if err := enc.Encode(e); err != nil {
			fmt.Fprintln(os.Stderr, "piiset:", err)
			os.Exit(1)
		}
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "piiset:", err)
		os.Exit(1)
	}
}
