package main

import (
	"context"
	"fmt"
	"github.com/spf13/pflag"
	"strings"
	"time"

	"github.com/quarry-rag/quarry/internal/auth"
)

// runKeys implements `quarry keys create|list|revoke`: the API keys of
// the data directory, which `quarry serve` checks.
func setupKeys(sub string) setupFunc {
	return func(env *cliEnv, fs *pflag.FlagSet) runFunc {
		tenant := fs.String("tenant", "", "the tenant the key acts for")
		principals := fs.String("principals", "", "comma-separated principals the key acts as (document ACL entries)")
		role := fs.String("role", "", "read, write or admin")
		expires := fs.Duration("expires", 0, "lifetime, e.g. 720h (default: no expiry)")
		rate := fs.String("rate", "", "request rate, e.g. 20/s, 600/m (default: unlimited)")
		return func(_ context.Context, pos []string) error {
			st, err := auth.Open(env.dataDir)
			if err != nil {
				return err
			}
			switch sub {
			case "create":
				if len(pos) > 0 {
					return usagef("keys create takes no arguments, got %q", pos[0])
				}
				if *role == "" {
					return usagef("--role is required (read, write or admin)")
				}
				r, err := auth.ParseRole(*role)
				if err != nil {
					return usageError{err.Error()}
				}
				sp := auth.Spec{Tenant: *tenant, Role: r, TTL: *expires}
				if *principals != "" {
					for _, p := range strings.Split(*principals, ",") {
						sp.Principals = append(sp.Principals, strings.TrimSpace(p))
					}
				}
				if *expires < 0 {
					return usagef("--expires must be positive")
				}
				if *rate != "" {
					if sp.Rate, err = auth.ParseRate(*rate); err != nil {
						return usageError{err.Error()}
					}
				}
				k, secret, err := st.Create(sp)
				if err != nil {
					return err
				}
				if env.json {
					return printJSON(env.stdout, struct {
						keyRow
						Secret string `json:"secret"`
					}{rowOf(&k), secret})
				}
				fmt.Fprintln(env.stdout, secret)
				fmt.Fprintf(env.stderr, "quarry keys: created %s (%s, tenant %q); the secret above is shown once and not stored\n", k.ID, k.Role, k.Tenant)
				return nil
			case "list":
				rows := []keyRow{}
				for _, k := range st.List() {
					rows = append(rows, rowOf(&k))
				}
				if env.json {
					return printJSON(env.stdout, rows)
				}
				for _, r := range rows {
					fmt.Fprintf(env.stdout, "%s  %-5s  %-8s  tenant=%q principals=%s rate=%s expires=%s\n", r.ID, r.Role, r.State, r.Tenant, strings.Join(r.Principals, ","), r.Rate, orDash(r.Expires))
				}
				return nil
			case "revoke":
				if len(pos) != 1 {
					return usagef("usage: quarry keys revoke ID")
				}
				if err := st.Revoke(pos[0]); err != nil {
					return err
				}
				if env.json {
					return printJSON(env.stdout, map[string]any{"revoked": pos[0]})
				}
				fmt.Fprintf(env.stderr, "quarry keys: revoked %s (a running server stops accepting it within %s)\n", pos[0], auth.ReloadEvery)
				return nil
			}
			return usagef("unknown keys command %q (want create, list or revoke)", sub)
		}
	}
}

// keyRow is a key as `keys list` shows it: never its hash.
type keyRow struct {
	ID         string   `json:"id"`
	Role       string   `json:"role"`
	State      string   `json:"state"`
	Tenant     string   `json:"tenant"`
	Principals []string `json:"principals"`
	Rate       string   `json:"rate"`
	Created    string   `json:"created"`
	Expires    string   `json:"expires,omitempty"`
}

func rowOf(k *auth.Key) keyRow {
	r := keyRow{ID: k.ID, Role: k.Role.String(), State: "active", Tenant: k.Tenant, Principals: k.Principals,
		Rate: k.Rate.String(), Created: k.Created.Format(time.RFC3339)}
	if r.Principals == nil {
		r.Principals = []string{}
	}
	if !k.Expires.IsZero() {
		r.Expires = k.Expires.Format(time.RFC3339)
		if !time.Now().Before(k.Expires) {
			r.State = "expired"
		}
	}
	if !k.Revoked.IsZero() {
		r.State = "revoked"
	}
	return r
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
