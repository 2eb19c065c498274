package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// startPprof serves the Go runtime's profiles (heap, allocs, goroutine,
// CPU profile, trace; the paths of net/http/pprof under /debug/pprof/) on
// addr, a loopback address, on a listener and mux of their own: never on
// the API's listener, never without the operator asking (quarry serve
// --pprof-addr), never on a non-loopback address — a profile shows
// internals and a CPU profile costs CPU, and the listener has no API keys.
// The listener stops when ctx is done. It returns the address it listens
// on (addr may name port 0).
//
// The net/http/pprof import also registers the handlers on
// http.DefaultServeMux; nothing in quarry serves that mux (the API server
// has its own), so they are reachable only here.
func startPprof(ctx context.Context, addr string, stderr io.Writer) (net.Addr, error) {
	if !isLoopback(addr) {
		return nil, fmt.Errorf("--pprof-addr %s: want a loopback address (127.0.0.1:PORT, [::1]:PORT or localhost:PORT)", addr)
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--pprof-addr: listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index) // heap, allocs, goroutine, block, mutex, threadcreate
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(stderr, "quarry: pprof listener: %v\n", err)
		}
	}()
	return ln.Addr(), nil
}
