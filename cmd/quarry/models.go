package main

import (
	"context"
	"fmt"
	"github.com/spf13/pflag"

	"github.com/quarry-rag/quarry/internal/models/hub"
)

// setupModels implements `quarry models list|pull|verify`.
func setupModels(sub string) setupFunc {
	return func(env *cliEnv, fs *pflag.FlagSet) runFunc {
		cache := fs.String("cache", hub.DefaultCacheDir(), "model cache folder ($QUARRY_HOME/models)")
		offline := fs.Bool("offline", false, "use only the cache; never touch the network")
		return func(ctx context.Context, names []string) error {
			switch sub {
			case "list":
				infos, err := hub.List(*cache)
				if err != nil {
					return err
				}
				if env.json {
					type row struct {
						Name string `json:"name"`
						Dir  string `json:"dir"`
						Size int64  `json:"bytes"`
					}
					rows := []row{}
					for _, i := range infos {
						rows = append(rows, row{i.Name, i.Dir, i.Size})
					}
					return printJSON(env.stdout, rows)
				}
				cached := map[string]bool{}
				for _, i := range infos {
					cached[i.Name] = true
					fmt.Fprintf(env.stdout, "%-24s cached  %9s  %s\n", i.Name, human(i.Size), i.Dir)
				}
				for _, m := range hub.Known() {
					if !cached[m.Name] {
						fmt.Fprintf(env.stdout, "%-24s known   (quarry models pull %s)\n", m.Name, m.Name)
					}
				}
				return nil
			case "pull":
				if len(names) == 0 {
					return usagef("give at least one model name (known: %s)", knownNames())
				}
				type pulled struct {
					Name string `json:"name"`
					Dir  string `json:"dir"`
				}
				rows := []pulled{}
				for _, n := range names {
					dir, err := hub.Pull(ctx, n, hub.PullOptions{CacheDir: *cache, Offline: *offline,
						Logf: func(f string, a ...any) { fmt.Fprintf(env.stderr, "quarry models: "+f+"\n", a...) }})
					if err != nil {
						return err
					}
					rows = append(rows, pulled{n, dir})
					if !env.json {
						fmt.Fprintf(env.stdout, "%s: %s\n", n, dir)
					}
				}
				if env.json {
					return printJSON(env.stdout, rows)
				}
				return nil
			case "verify":
				if len(names) == 0 {
					infos, err := hub.List(*cache)
					if err != nil {
						return err
					}
					for _, i := range infos {
						names = append(names, i.Dir)
					}
				}
				for _, n := range names {
					dir, err := hub.Resolve(n)
					if err != nil {
						return err
					}
					if err := hub.Verify(dir); err != nil {
						return err
					}
					if !env.json {
						fmt.Fprintf(env.stdout, "%s: ok\n", dir)
					}
				}
				if env.json {
					return printJSON(env.stdout, map[string]any{"verified": names})
				}
				return nil
			}
			return usagef("unknown models command %q (want list, pull or verify)", sub)
		}
	}
}

func knownNames() string {
	s := ""
	for i, m := range hub.Known() {
		if i > 0 {
			s += ", "
		}
		s += m.Name
	}
	return s
}
