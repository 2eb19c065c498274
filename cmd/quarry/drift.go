package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/spf13/pflag"
	"os"

	"github.com/quarry-rag/quarry/internal/drift"
)

// errDrift makes `quarry drift report --fail` exit 1 when drift is found.
var errDrift = errors.New("drift detected")

// runDrift implements `quarry drift report --baseline FILE --current FILE`:
// it compares two saved windows (drift.WriteSample's JSON) and prints the
// verdict, a summary and one line per statistic.
func setupDrift(env *cliEnv, fs *pflag.FlagSet) runFunc {
	basePath := fs.String("baseline", "", "saved baseline window (JSON)")
	curPath := fs.String("current", "", "saved current window (JSON)")
	alpha := fs.Float64("alpha", 0.01, "family-wise false-alarm rate, in (0, 1)")
	perms := fs.Int("permutations", 400, "permutations for the MMD and PSI p-values, 1…100000")
	fail := fs.Bool("fail", false, "exit with status 1 when drift is found")
	return func(ctx context.Context, rest []string) error {
		switch {
		case len(rest) > 0:
			return usagef("unexpected argument %q", rest[0])
		case *basePath == "" || *curPath == "":
			return usagef("--baseline and --current are required")
		case !(*alpha > 0 && *alpha < 1):
			return usagef("--alpha must be in (0, 1), got %v", *alpha)
		case *perms < 1 || *perms > 100000:
			return usagef("--permutations must be in 1…100000, got %d", *perms)
		}
		base, err := readSampleFile(*basePath)
		if err != nil {
			return err
		}
		cur, err := readSampleFile(*curPath)
		if err != nil {
			return err
		}
		rep := drift.Compare(base, cur, drift.Options{Alpha: *alpha, Permutations: *perms})
		if env.json {
			if err := printJSON(env.stdout, rep); err != nil {
				return err
			}
		} else {
			fmt.Fprintf(env.stdout, "%s\n%s\n\n", rep.Verdict, rep.Summary)
			for _, r := range rep.Results {
				fmt.Fprintf(env.stdout, "  %-17s %-15s %s\n", r.Stat, r.Verdict, r.Message)
			}
		}
		if *fail && rep.Verdict == drift.Drift {
			return errDrift
		}
		return nil
	}
}

func readSampleFile(path string) (*drift.Sample, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s, err := drift.ReadSample(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}
