package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// versionInfo is what `quarry version` prints: the module version and the
// VCS revision the binary was built from, as recorded by the Go toolchain.
type versionInfo struct {
	Version  string `json:"version"`            // module version; "(devel)" for a local build
	Revision string `json:"revision,omitempty"` // VCS commit
	Time     string `json:"time,omitempty"`     // commit time
	Modified bool   `json:"modified"`           // built from a tree with uncommitted changes
	Go       string `json:"go"`
}

func readVersion() versionInfo {
	v := versionInfo{Version: "(unknown)", Go: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	v.Version = bi.Main.Version
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

func versionCommand(env *cliEnv) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "print the version and VCS revision of this binary",
		Example: "  quarry version\n  quarry version --json",
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			v := readVersion()
			if env.json {
				return printJSON(env.stdout, v)
			}
			rev := v.Revision
			if rev == "" {
				rev = "unknown revision (built without VCS stamping)"
			} else if v.Modified {
				rev += " (modified)"
			}
			if v.Time != "" {
				rev += ", " + v.Time
			}
			_, err := fmt.Fprintf(env.stdout, "quarry %s, %s, %s\n", v.Version, rev, v.Go)
			return err
		},
	}
}
