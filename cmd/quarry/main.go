// Command quarry is the command-line interface to the Quarry engine: it
// ingests documents, searches and answers questions, serves the HTTP API
// and evaluates retrieval. It is the only place that reads flags and
// QUARRY_* environment variables.
//
// Every subcommand takes --data-dir (default $QUARRY_DATA_DIR or ./data) and
// --collection (default "default"); commands that print results take
// --json. Errors print one line to stderr and exit with status 1 (2 for
// usage errors; 3 when `eval rag --baseline` finds a regression).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/quarry-rag/quarry"
)

type command struct {
	name    string
	usage   string
	summary string
	run     func(ctx context.Context, env *cliEnv, args []string) error
}

var commands = []command{
	{"ingest", "ingest [flags] PATH...", "ingest files, folders (walked) and BEIR folders", runIngest},
	{"search", "search [flags] QUERY", "search a collection", runSearch},
	{"ask", "ask [flags] QUESTION", "answer a question with citations", runAsk},
	{"delete", "delete [flags] ID...", "delete documents by id", runDelete},
	{"get", "get [flags] ID", "print a stored document", runGet},
	{"stats", "stats [flags]", "print collection statistics", runStats},
	{"serve", "serve [flags]", "serve the HTTP API and web UI", runServe},
	{"eval", "eval retrieval|rag --dataset DIR [flags]", "evaluate retrieval on a BEIR dataset, or answers (rag)", runEval},
	{"embed", "embed [--model NAME] [--query] [--json] TEXT...", "print embedding vectors", runEmbed},
	{"models", "models list|pull|verify [NAME...]", "manage embedding models in the cache", runModels},
	{"check", "check [flags]", "verify that the store is whole and the index agrees with it", runCheck},
	{"keys", "keys create|list|revoke [flags]", "manage the API keys quarry serve checks", runKeys},
	{"drift", "drift report --baseline FILE --current FILE", "compare two saved drift windows", runDrift},
	{"guard", "guard check TEXT... | guard eval --dataset FILE.jsonl", "score texts for prompt injection", runGuard},
	{"backup", "backup [--server URL] FILE.tar", "write a consistent copy of a collection, also while it serves", runBackup},
	{"restore", "restore [--as NAME] FILE.tar", "restore a backup into the data directory and check it", runRestore},
	{"agent", "agent [--pipeline react|research] [--session ID] [flags] TASK", "run an agent with Quarry's tools, streaming each step", runAgent},
	{"mcp", "mcp [--tenant T] [--principal P] [--write] [flags]", "serve Quarry's tools and documents over MCP on stdio", runMCP},
}

// usageError marks errors caused by how the command was called (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// cliEnv carries what every subcommand shares.
type cliEnv struct {
	stdout, stderr io.Writer
	dataDir        string
	collection     string
	json           bool
	backend        backendFlags
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		env := &cliEnv{stdout: stdout, stderr: stderr}
		err := c.run(ctx, env, args[1:])
		if err == nil {
			return 0
		}
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "quarry "+c.name+": "+oneLine(err))
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		var ec interface{ ExitCode() int }
		if errors.As(err, &ec) {
			return ec.ExitCode()
		}
		return 1
	}
	fmt.Fprintf(stderr, "quarry: unknown command %q (run 'quarry help')\n", args[0])
	return 2
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: quarry COMMAND [flags] [args]\n\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nglobal flags: --data-dir DIR (default $QUARRY_DATA_DIR or ./data), --collection NAME (default \"default\"), --json")
}

// newFlags returns a flag set with the global flags bound to env.
func newFlags(c string, env *cliEnv) *flag.FlagSet {
	fs := flag.NewFlagSet(c, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	def := os.Getenv("QUARRY_DATA_DIR")
	if def == "" {
		def = "data"
	}
	fs.StringVar(&env.dataDir, "data-dir", def, "data directory")
	fs.StringVar(&env.collection, "collection", "default", "collection name")
	fs.BoolVar(&env.json, "json", false, "print JSON")
	addBackendFlags(fs, &env.backend)
	return fs
}

// parse parses flags anywhere among the positional arguments, so that
// `quarry search "query" --json` works. Arguments after "--" are positional.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err.Error()}
		}
		rest := fs.Args()
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func openEngine(env *cliEnv) (*quarry.Engine, error) {
	return quarry.Open(env.dataDir, engineOptions(env))
}

// engineOptions are the engine options every command shares, from QUARRY_*
// environment variables.
func engineOptions(env *cliEnv) *quarry.Options {
	return env.backend.apply(&quarry.Options{EmbeddingAPIKey: os.Getenv("QUARRY_EMBED_API_KEY")})
}

// openCollection opens an existing collection for reading.
func openCollection(ctx context.Context, env *cliEnv) (*quarry.Engine, *quarry.Collection, error) {
	eng, err := openEngine(env)
	if err != nil {
		return nil, nil, err
	}
	col, err := eng.Collection(ctx, env.collection)
	if err != nil {
		eng.Close()
		if errors.Is(err, quarry.ErrNotFound) {
			return nil, nil, fmt.Errorf("collection %q does not exist in %s (ingest something first)", env.collection, env.dataDir)
		}
		return nil, nil, err
	}
	return eng, col, nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
