package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/quarry-rag/quarry"
	"github.com/quarry-rag/quarry/internal/server"
)

func runServe(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags("serve", env)
	addr := fs.String("addr", envOr("QUARRY_ADDR", "127.0.0.1:8080"), "listen address HOST:PORT")
	var lf llmFlags
	lf.bind(fs)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	opts := engineOptions(env)
	opts.Logger, opts.Registerer = logger, reg
	lf.apply(opts)
	eng, err := quarry.Open(env.dataDir, opts)
	if err != nil {
		return err
	}
	defer eng.Close()
	srv := server.New(eng, server.Options{Logger: logger, Registry: reg, Agent: serveAgentOptions(&lf)})
	fmt.Fprintf(env.stderr, "quarry: serving %s on http://%s (data %s)\n", env.collection, *addr, env.dataDir)
	return srv.ListenAndServe(ctx, *addr)
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
