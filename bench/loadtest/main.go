// Command loadtest drives a running Quarry server on loopback with vegeta
// (github.com/tsenart/vegeta) at fixed request rates and prints latency
// percentiles per route: BM25 search, hybrid search and ask. Without
// -rates it first measures each route's maximum rate (as many requests as
// -workers concurrent clients complete) and then runs at -fractions of
// it. Every attack is bounded in time (-duration ≤ 60s) and count
// (rate × duration ≤ 20000 requests; a slow route's fixed-rate attack is
// stretched to at least 10 requests, still ≤ 60 s), and only 127.0.0.1,
// ::1 or localhost are accepted as targets. bench/loadtest/run.sh starts a
// server on the sample corpus or on BEIR SciFact and runs this against it.
//
// Queries: ten questions about the sample corpus, or with -queries the
// "text" of each line of a BEIR queries.jsonl (SciFact's 300 test claims),
// rotated per request so consecutive requests differ.
//
//	go run ./bench/loadtest -url http://127.0.0.1:18080 -collection samples
//	go run ./bench/loadtest -collection scifact -queries $QUARRY_DATASETS/beir/scifact/queries.jsonl
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

const (
	maxDuration = time.Minute
	maxRequests = 20000
	// maxQueries and maxQueryBytes bound a -queries file.
	maxQueries    = 100000
	maxQueryBytes = 4096
	// minRequests is the fewest requests a fixed-rate attack sends: a
	// slow route (ask on SciFact runs at under 1/s on two loaded cores)
	// gets a longer attack, up to maxDuration, rather than two requests.
	minRequests = 10
)

// defaultQueries are questions about the sample corpus (samples/).
var defaultQueries = []string{
	"how does BM25 score a document",
	"what does the ask endpoint return",
	"how are documents chunked",
	"which flags does quarry ingest take",
	"how do I evaluate retrieval on a BEIR dataset",
	"what is reciprocal rank fusion",
	"how are citations produced",
	"how do I delete a document",
	"what metrics does the server export",
	"how does hybrid search combine lexical and dense results",
}

type options struct {
	base       *url.URL
	collection string
	targets    []string
	rates      []float64
	fractions  []float64
	duration   time.Duration
	workers    uint64
	method     string
	json       bool
	queries    []string
}

func main() {
	var o options
	u := flag.String("url", "http://127.0.0.1:18080", "server base URL (loopback only)")
	flag.StringVar(&o.collection, "collection", "samples", "collection to query")
	targets := flag.String("targets", "bm25,hybrid,ask", "routes to load: bm25, hybrid, ask")
	rates := flag.String("rates", "", "fixed rates per second, comma-separated; empty: -fractions of the measured maximum")
	fractions := flag.String("fractions", "0.5,0.8,1.0", "fractions of the measured maximum rate")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "length of each attack (≤ 60s)")
	workers := flag.Uint64("workers", 16, "concurrent clients when measuring the maximum rate; upper bound on workers otherwise")
	flag.StringVar(&o.method, "ask-method", "extractive", "ask method: extractive or llm")
	flag.BoolVar(&o.json, "json", false, "print one JSON object per attack")
	queries := flag.String("queries", "", "BEIR queries.jsonl whose texts are rotated per request (default: questions about samples/)")
	flag.Parse()
	err := func() error {
		var err error
		if o.base, err = loopback(*u); err != nil {
			return err
		}
		if o.duration <= 0 || o.duration > maxDuration {
			return fmt.Errorf("-duration must be in (0, %v]", maxDuration)
		}
		if *workers < 1 || *workers > 1024 {
			return fmt.Errorf("-workers must be in 1…1024")
		}
		o.workers = *workers
		if o.method != "extractive" && o.method != "llm" {
			return fmt.Errorf("-ask-method must be extractive or llm")
		}
		for _, t := range strings.Split(*targets, ",") {
			if t != "bm25" && t != "hybrid" && t != "ask" {
				return fmt.Errorf("unknown target %q (bm25, hybrid, ask)", t)
			}
			o.targets = append(o.targets, t)
		}
		if o.rates, err = floats(*rates, 1000); err != nil {
			return fmt.Errorf("-rates: %w", err)
		}
		if o.fractions, err = floats(*fractions, 1); err != nil {
			return fmt.Errorf("-fractions: %w", err)
		}
		o.queries = defaultQueries
		if *queries != "" {
			if o.queries, err = loadQueries(*queries); err != nil {
				return fmt.Errorf("-queries: %w", err)
			}
		}
		return run(o)
	}()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// loopback parses u and refuses any host but the loopback interface.
func loopback(u string) (*url.URL, error) {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") {
		return nil, fmt.Errorf("-url %q: want http://HOST:PORT", u)
	}
	h := p.Hostname()
	if ip := net.ParseIP(h); h != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("-url %q: only loopback targets are allowed", u)
	}
	return p, nil
}

func floats(s string, maxV float64) ([]float64, error) {
	if s == "" {
		return nil, nil
	}
	var out []float64
	for _, f := range strings.Split(s, ",") {
		var v float64
		if _, err := fmt.Sscan(f, &v); err != nil || !(v > 0 && v <= maxV) {
			return nil, fmt.Errorf("%q is not in (0, %v]", f, maxV)
		}
		out = append(out, v)
	}
	return out, nil
}

// loadQueries reads the "text" field of each line of a BEIR queries.jsonl
// (at most maxQueries lines of maxQueryBytes of text each).
func loadQueries(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseQueries(f, path)
}

func parseQueries(r io.Reader, name string) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		var q struct {
			Text *string `json:"text"`
		}
		if err := json.Unmarshal(b, &q); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		switch {
		case q.Text == nil || strings.TrimSpace(*q.Text) == "":
			return nil, fmt.Errorf("%s:%d: no \"text\"", name, line)
		case len(*q.Text) > maxQueryBytes:
			return nil, fmt.Errorf("%s:%d: text longer than %d bytes", name, line, maxQueryBytes)
		case len(out) == maxQueries:
			return nil, fmt.Errorf("%s: more than %d queries", name, maxQueries)
		}
		out = append(out, *q.Text)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no queries", name)
	}
	return out, nil
}

// targeter cycles through the queries for one route from *n on. One
// counter serves all of a route's attacks, so the 50/80/100 % levels ask
// questions the maximum-rate attack did not (until the list wraps): the
// extractive answerer caches sentence vectors, and a repeated question
// would measure that cache, not the pipeline.
func targeter(o options, route string, n *atomic.Int64) vegeta.Targeter {
	path := o.base.JoinPath("v1", "collections", o.collection, "search").String()
	if route == "ask" {
		path = o.base.JoinPath("v1", "collections", o.collection, "ask").String()
	}
	hdr := http.Header{"Content-Type": {"application/json"}}
	return func(t *vegeta.Target) error {
		q := o.queries[int(n.Add(1)-1)%len(o.queries)]
		var body any
		switch route {
		case "ask":
			body = map[string]any{"question": q, "method": o.method, "no_cache": true}
		default:
			body = map[string]any{"query": q, "mode": route, "k": 10}
		}
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		t.Method, t.URL, t.Body, t.Header = "POST", path, b, hdr
		return nil
	}
}

type report struct {
	Target     string         `json:"target"`
	Kind       string         `json:"kind"` // "max" or "fixed"
	Rate       float64        `json:"rate"` // asked (0 for max)
	Requests   uint64         `json:"requests"`
	Throughput float64        `json:"throughput"`
	Success    float64        `json:"success"`
	P50ms      float64        `json:"p50_ms"`
	P99ms      float64        `json:"p99_ms"`
	Status     map[string]int `json:"status_codes"`
}

func attack(o options, route string, n *atomic.Int64, rate float64, d time.Duration) report {
	opts := []func(*vegeta.Attacker){vegeta.Timeout(30 * time.Second), vegeta.KeepAlive(true), vegeta.MaxWorkers(o.workers)}
	var pacer vegeta.Pacer = vegeta.Rate{Freq: 0, Per: time.Second}
	kind := "max"
	if rate > 0 {
		kind = "fixed"
		// Rates in hundredths per second: fractions of a slow maximum.
		pacer = vegeta.Rate{Freq: int(math.Round(rate * 100)), Per: 100 * time.Second}
		if rate*d.Seconds() < minRequests {
			d = min(time.Duration(minRequests/rate*float64(time.Second)), maxDuration)
		}
		if rate*d.Seconds() > maxRequests {
			d = time.Duration(maxRequests / rate * float64(time.Second))
		}
	} else {
		opts = append(opts, vegeta.Workers(o.workers))
	}
	a := vegeta.NewAttacker(opts...)
	var m vegeta.Metrics
	for res := range a.Attack(targeter(o, route, n), pacer, d, route) {
		m.Add(res)
		if m.Requests >= maxRequests {
			a.Stop()
		}
	}
	m.Close()
	return report{
		Target: route, Kind: kind, Rate: rate, Requests: m.Requests, Throughput: m.Throughput, Success: m.Success,
		P50ms: float64(m.Latencies.P50.Microseconds()) / 1000, P99ms: float64(m.Latencies.P99.Microseconds()) / 1000,
		Status: m.StatusCodes,
	}
}

func run(o options) error {
	// One request first: the route works and the collection exists.
	for _, route := range o.targets {
		var t vegeta.Target
		var probe atomic.Int64
		probe.Store(int64(len(o.queries) - 1)) // the last query: the attacks start at the first
		if err := targeter(o, route, &probe)(&t); err != nil {
			return err
		}
		resp, err := http.Post(t.URL, "application/json", bytes.NewReader(t.Body))
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %s answered %s", route, t.URL, resp.Status)
		}
	}
	print := func(r report) {
		if o.json {
			b, _ := json.Marshal(r)
			fmt.Println(string(b))
			return
		}
		codes := make([]string, 0, len(r.Status))
		for c, n := range r.Status {
			codes = append(codes, fmt.Sprintf("%s×%d", c, n))
		}
		sort.Strings(codes)
		fmt.Printf("%-7s %-5s rate %7.2f/s  requests %6d  throughput %7.2f/s  success %5.1f%%  p50 %8.2f ms  p99 %8.2f ms  %s\n",
			r.Target, r.Kind, r.Rate, r.Requests, r.Throughput, 100*r.Success, r.P50ms, r.P99ms, strings.Join(codes, " "))
	}
	for _, route := range o.targets {
		var n atomic.Int64
		rates := o.rates
		if len(rates) == 0 {
			mx := attack(o, route, &n, 0, o.duration)
			print(mx)
			for _, f := range o.fractions {
				if r := f * mx.Throughput; r >= 0.01 {
					rates = append(rates, r)
				}
			}
		}
		for _, r := range rates {
			print(attack(o, route, &n, r, o.duration))
		}
	}
	return nil
}
