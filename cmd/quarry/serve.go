package main

import (
	"context"
	"fmt"
	"github.com/spf13/pflag"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/auth"
	"github.com/quarry-rag/quarry/internal/drift"
	"github.com/quarry-rag/quarry/internal/outbound"
	"github.com/quarry-rag/quarry/internal/ragbench"
	"github.com/quarry-rag/quarry/internal/server"
	"github.com/quarry-rag/quarry/internal/trace"
)

func setupServe(env *cliEnv, fs *pflag.FlagSet) runFunc {
	addr := fs.String("addr", envOr("QUARRY_ADDR", "127.0.0.1:8080"), "listen address HOST:PORT")
	var lf llmFlags
	lf.bind(fs)
	var allowURLs, allowHosts stringList
	fs.Var(&allowURLs, "allow-url", "URL prefix collections may name for embedding servers and language models (repeatable; also $QUARRY_ALLOW_URLS)")
	fs.Var(&allowHosts, "allow-host", "Host header name the server answers, \"*\" for any (repeatable; default: loopback names on a loopback address, any otherwise)")
	insecure := fs.Bool("insecure-no-auth", false, "serve a non-loopback address without API keys")
	otlp := fs.String("otlp-endpoint", "", "send OpenTelemetry traces to this OTLP/HTTP endpoint (also $OTEL_EXPORTER_OTLP_ENDPOINT; default off)")
	evalRoot := fs.String("eval-datasets", os.Getenv("QUARRY_EVAL_DATASETS"), "folder of evaluation datasets admins may run from the API and the web UI (POST /v1/evals; default $QUARRY_EVAL_DATASETS; empty: evaluation off)")
	pprofAddr := fs.String("pprof-addr", "", "serve Go runtime profiles (net/http/pprof, /debug/pprof/) on this loopback HOST:PORT, no API keys; default off")
	cfgPath := fs.String("config", os.Getenv("QUARRY_CONFIG"), "serve settings file (YAML, see docs/config.md; default ./quarry.yaml when it exists); environment variables and flags override it")
	return func(ctx context.Context, _ []string) error {
		so, err := serveConfig(fs, *cfgPath)
		if err != nil {
			return err
		}
		if os.Getenv("GOGC") == "" {
			debug.SetGCPercent(serveGCPercent)
		}
		keys, err := auth.Open(env.dataDir)
		if err != nil {
			return err
		}
		loopback := isLoopback(*addr)
		if !loopback && keys.Empty() && !*insecure {
			return fmt.Errorf("refusing to serve %s without API keys: create one with 'quarry keys create --role admin', or pass --insecure-no-auth", *addr)
		}
		if len(allowHosts) > 0 && loopback {
			allowHosts = append(allowHosts, "localhost", "127.0.0.1", "::1")
		}
		if len(allowHosts) == 0 && !loopback {
			allowHosts = stringList{"*"} // keys (or the operator's explicit choice) guard it
		}
		if *pprofAddr != "" {
			pa, err := startPprof(ctx, *pprofAddr, env.stderr)
			if err != nil {
				return err
			}
			fmt.Fprintf(env.stderr, "quarry: profiles on http://%s/debug/pprof/ (loopback only)\n", pa)
		}
		logger := trace.NewLogger(os.Stderr) // QUARRY_LOG_FORMAT=json for JSON
		reg := prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		opts := engineOptions(env)
		opts.Logger, opts.Registerer = logger, reg
		tp, err := trace.Setup(ctx, trace.Options{Endpoint: *otlp}) // also on with OTEL_EXPORTER_OTLP_ENDPOINT
		if err != nil {
			return err
		}
		if tp != nil {
			defer trace.Shutdown(tp)
			opts.TracerProvider, so.TracerProvider = tp, tp
		}
		mon := drift.NewMonitor(drift.MonitorOptions{Registerer: reg})
		opts.Drift, so.Drift = func(c string) quarry.DriftRecorder { return mon.Recorder(c) }, mon
		lf.apply(opts)
		opts.AllowURLs = append(append([]string{}, allowURLs...), outbound.Split(os.Getenv("QUARRY_ALLOW_URLS"))...)
		eng, err := quarry.Open(env.dataDir, opts)
		if err != nil {
			return err
		}
		defer eng.Close()
		so.Logger, so.Registry = logger, reg
		so.Keys, so.AllowHosts = keys, allowHosts
		so.FeedbackDir = filepath.Join(env.dataDir, "feedback")
		so.Agent = serveAgentOptions(&lf)
		if *evalRoot != "" {
			if so.Evals, err = serveEvalOptions(env, *evalRoot, &lf, opts.AllowURLs); err != nil {
				return err
			}
		}
		srv := server.New(eng, so)
		access := "API keys required"
		if keys.Empty() {
			access = "no API keys: open to anyone who can connect"
		}
		var lc net.ListenConfig
		ln, err := lc.Listen(ctx, "tcp", *addr)
		if err != nil {
			return fmt.Errorf("listen %s: %w", *addr, err)
		}
		fmt.Fprintf(env.stderr, "quarry: serving %s on http://%s (data %s; %s)\n", env.collection, ln.Addr(), env.dataDir, access)
		// Record the address in the data directory, so that CLI commands
		// that find the directory locked by this server can use it.
		cleanup, err := writeServeAddr(env.dataDir, localURL(ln.Addr()))
		if err != nil {
			ln.Close()
			return err
		}
		defer cleanup()
		return srv.Serve(ctx, ln)
	}
}

// serveGCPercent is the garbage collector's target for `quarry serve` when
// $GOGC does not set one: the heap may grow 75 % past what survived the
// last collection, not Go's default 100 %. A server's heap is mostly its
// collections' indexes, which change slowly, so Go's default lets it reach
// about twice them: with a 29 MB index after a 100 MB upload the peak was
// 57–59 MB above the server's start. Their posting and vector arrays hold no
// pointers and cost the collector little to mark, so collecting more often
// is cheap: scripts/bench_upload.sh 100 spent 2 % of its CPU time
// collecting at 100 and 3 % at 75, and the peak fell by 6–8 MB, which
// uploads spend on larger write batches (internal/server, uploadBatchBytes;
// docs/benchmarks.md, issue 15, session 8). The command-line tools keep
// Go's default: they exit when done.
const serveGCPercent = 75

// isLoopback reports whether a listen address binds only loopback
// interfaces ("localhost", 127.0.0.0/8, ::1). An empty host binds every
// interface.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// writeServeAddr writes url and this process's id, one a line, to the
// data directory's serveAddrFile (tmp, sync, rename) and returns a function
// that removes it if it still holds url.
func writeServeAddr(dir, url string) (func(), error) {
	path := filepath.Join(dir, serveAddrFile)
	tmp, err := os.CreateTemp(dir, "."+serveAddrFile+".tmp-")
	if err != nil {
		return nil, err
	}
	_, err = fmt.Fprintf(tmp, "%s\n%d\n", url, os.Getpid())
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("recording the server address: %w", err)
	}
	return func() {
		if b, err := os.ReadFile(path); err == nil && strings.HasPrefix(string(b), url+"\n") {
			os.Remove(path)
		}
	}, nil
}

// localURL is the URL a client on this machine uses to reach a listener
// on addr: an unspecified address (0.0.0.0, ::) is reached on loopback.
func localURL(addr net.Addr) string {
	ta, ok := addr.(*net.TCPAddr)
	if !ok {
		return "http://" + addr.String()
	}
	ip := ta.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return "http://" + net.JoinHostPort(ip.String(), strconv.Itoa(ta.Port))
}

// serveEvalOptions enables the evaluation jobs on the datasets under root:
// a dataset folder's corpus is indexed into a scratch engine opened like
// `quarry eval rag` opens one, and the judge is the answering model.
func serveEvalOptions(env *cliEnv, root string, lf *llmFlags, allowURLs []string) (*server.EvalOptions, error) {
	if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("--eval-datasets %s: not a readable folder", root)
	}
	eo := &server.EvalOptions{DatasetRoot: root, Dir: filepath.Join(env.dataDir, "evals"),
		Scratch: func(dir string) (*quarry.Engine, error) {
			o := engineOptions(env)
			lf.apply(o)
			o.AllowURLs = allowURLs
			return quarry.Open(dir, o)
		}}
	if lf.url != "" && lf.model != "" {
		eo.Judge = &ragbench.JudgeConfig{URL: lf.url, Model: lf.model, APIKey: lf.apiKey, Timeout: 2 * time.Minute}
	}
	return eo, nil
}
