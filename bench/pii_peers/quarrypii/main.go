// Command quarrypii scores internal/pii on a generated set (JSONL from
// internal/pii/cmd/piiset): exact-span, exact-kind precision and recall,
// overall and on the kinds Presidio also detects, and per-text latency.
//
//	go run ./bench/pii_peers/quarrypii --set FILE.jsonl
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/quarry-rag/quarry/internal/pii"
	"github.com/quarry-rag/quarry/internal/pii/piiset"
)

// shared are the kinds Presidio's predefined recognizers also detect.
var shared = map[string]bool{"EMAIL": true, "PHONE": true, "CARD": true, "IBAN": true, "IP": true, "US_SSN": true, "UK_NINO": true, "ES_DNI": true, "IT_CF": true}

func main() {
	set := flag.String("set", "", "JSONL set")
	flag.Parse()
	f, err := os.Open(*set)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	type key struct {
		kind       string
		start, end int
	}
	var c [2][3]int // all, shared: tp fp fn
	var lat []float64
	for sc.Scan() {
		var ex piiset.Example
		if err := json.Unmarshal(sc.Bytes(), &ex); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		start := time.Now()
		fs := pii.Scan(ex.Text)
		lat = append(lat, float64(time.Since(start).Nanoseconds())/1e6)
		gold := map[key]bool{}
		for _, e := range ex.Entities {
			gold[key{e.Kind, e.Start, e.End}] = true
		}
		got := map[key]bool{}
		for _, x := range fs {
			got[key{x.Kind.String(), x.Start, x.End}] = true
		}
		for g := range got {
			for s := 0; s < 2; s++ {
				if s == 1 && !shared[g.kind] {
					continue
				}
				if gold[g] {
					c[s][0]++
				} else {
					c[s][1]++
				}
			}
		}
		for g := range gold {
			for s := 0; s < 2; s++ {
				if s == 1 && !shared[g.kind] {
					continue
				}
				if !got[g] {
					c[s][2]++
				}
			}
		}
	}
	sort.Float64s(lat)
	out := map[string]any{"system": "quarry internal/pii", "n": len(lat), "p50_ms": lat[len(lat)/2]}
	for s, name := range []string{"all", "shared"} {
		tp, fp, fn := float64(c[s][0]), float64(c[s][1]), float64(c[s][2])
		out[name] = map[string]float64{"precision": tp / (tp + fp), "recall": tp / (tp + fn), "tp": tp, "fp": fp, "fn": fn}
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
