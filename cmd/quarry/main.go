// Command quarry is the command-line interface to the Quarry engine: it
// ingests documents, searches and answers questions, serves the HTTP API
// and evaluates retrieval. It is the only place that reads flags and
// QUARRY_* environment variables.
//
// The command tree is built with cobra: global flags (--data-dir, default
// $QUARRY_DATA_DIR or ./data; --collection, default "default"; --json;
// --server and --api-key for client mode; the storage backend flags) go
// anywhere on the line; every command and subcommand has --help, printed
// to stdout with examples. Errors print one line to stderr and exit with
// status 1 (2 for usage errors: unknown commands and flags, bad values,
// missing arguments; 3 when `eval rag --baseline` finds a regression).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/quarry-rag/quarry"
)

// runFunc runs a command with its positional arguments, after the flags
// its setupFunc bound have been parsed.
type runFunc func(ctx context.Context, args []string) error

// setupFunc binds a command's own flags on fs and returns its body.
type setupFunc func(env *cliEnv, fs *pflag.FlagSet) runFunc

// command describes one (sub)command: a leaf has setup, a group has subs.
type command struct {
	name    string
	use     string // usage line after "quarry"
	summary string
	example string
	setup   setupFunc
	subs    []command
	// client says what the command does in client mode; remoteHint (for
	// clientLocalData) names what to do instead.
	client     clientMode
	remoteHint string
}

// clientMode says how a command behaves in client mode (--server or
// $QUARRY_SERVER).
type clientMode int

const (
	// clientLocalData: the command works on the local data directory
	// only. In client mode it refuses in one line rather than silently
	// acting on a directory the user did not mean. The zero value, so a
	// new command is safe until it implements client mode.
	clientLocalData clientMode = iota
	// clientRemote: the command talks to the server in client mode.
	clientRemote
	// clientMachine: the command uses neither the data directory nor a
	// server (the model cache, local scoring, saved files, serve itself).
	// --server on its command line is refused; $QUARRY_SERVER, set for
	// the other commands, is ignored.
	clientMachine
)

// checkClientMode refuses a command that has no client mode when one was
// asked for.
func (c command) checkClientMode(cmd *cobra.Command, env *cliEnv, path string) error {
	switch {
	case c.client == clientLocalData && env.server != "":
		how := "--server"
		if !cmd.Flags().Changed("server") {
			how = "$QUARRY_SERVER"
		}
		return usagef("quarry %s works on a local data directory and has no client mode (%s is set): %s", path, how, c.remoteHint)
	case c.client == clientMachine && cmd.Flags().Changed("server"):
		return usagef("quarry %s runs on this machine and does not talk to a server: drop --server", path)
	}
	return nil
}

var commands = []command{
	{name: "ingest", use: "ingest [flags] PATH...", summary: "ingest files, folders (walked), BEIR folders, URLs and - (stdin)", setup: setupIngest, client: clientRemote,
		example: "quarry ingest docs/\nquarry ingest --embedding all-MiniLM-L6-v2 --collection papers papers/\ncat notes.md | quarry ingest --stdin-name notes.md -\nquarry --server http://127.0.0.1:8080 ingest report.pdf"},
	{name: "search", use: "search [flags] QUERY", summary: "search a collection", setup: setupSearch, client: clientRemote,
		example: "quarry search \"how does basalt form\"\nquarry search --mode hybrid --fusion weighted --alpha 0.7 --k 5 granite\nquarry search --json --filter '{\"field\":\"year\",\"op\":\"gte\",\"value\":2020}' lava"},
	{name: "ask", use: "ask [flags] QUESTION", summary: "answer a question with citations", setup: setupAsk, client: clientRemote,
		example: "quarry ask \"How does basalt form?\"\nquarry ask --method extractive --json \"What is granite?\""},
	{name: "delete", use: "delete [flags] ID...", summary: "delete documents by id", setup: setupDelete, client: clientRemote,
		example: "quarry delete notes.txt\nquarry delete --collection papers a.pdf b.pdf"},
	{name: "get", use: "get [flags] ID", summary: "print a stored document", setup: setupGet, client: clientRemote,
		example: "quarry get rocks.md\nquarry get --json rocks.md"},
	{name: "stats", use: "stats [flags]", summary: "print collection statistics", setup: setupStats, client: clientRemote,
		example: "quarry stats\nquarry --data-dir /srv/quarry stats --json"},
	{name: "serve", use: "serve [flags]", summary: "serve the HTTP API and web UI", setup: setupServe, client: clientMachine,
		example: "quarry serve\nquarry serve --addr 0.0.0.0:8080 --config quarry.yaml\nquarry serve --llm-url http://127.0.0.1:11434 --llm-model gemma3:270m"},
	{name: "eval", use: "eval COMMAND", summary: "evaluate retrieval on a BEIR dataset, or answers (rag)", subs: []command{
		{name: "retrieval", use: "retrieval --dataset DIR [flags]", summary: "measure nDCG, recall and latency on a BEIR dataset", setup: setupEval, client: clientMachine,
			example: "quarry eval retrieval --dataset $QUARRY_DATASETS/scifact\nquarry eval retrieval --dataset scifact --mode hybrid --fusion weighted --alpha 0.6 --json"},
		{name: "rag", use: "rag --dataset DIR|FILE.jsonl [flags]", summary: "measure answers: recall, citations, RAGAS metrics, per-stage latency", setup: setupEvalRAG, remoteHint: "it evaluates a collection of this data directory; run evaluations on the server with POST /v1/evals (the web UI's Evals page)",
			example: "quarry eval rag --dataset $QUARRY_DATASETS/xquad/en --limit 300 --json\nquarry eval rag --dataset xquad/en --method llm --report out/ --baseline base.json --max-drop 0.02"},
	}},
	{name: "embed", use: "embed [--model NAME] [--query] [--json] TEXT...", summary: "print embedding vectors", setup: setupEmbed, client: clientRemote,
		example: "quarry embed \"hello world\"\necho hello | quarry embed --model multilingual-e5-small --json"},
	{name: "models", use: "models COMMAND", summary: "manage embedding models in the cache", subs: []command{
		{name: "list", use: "list", summary: "list known and cached models", setup: setupModels("list"), client: clientMachine, example: "quarry models list\nquarry models list --json"},
		{name: "pull", use: "pull NAME...", summary: "download models into the cache", setup: setupModels("pull"), client: clientMachine, example: "quarry models pull all-MiniLM-L6-v2"},
		{name: "verify", use: "verify [NAME...]", summary: "check cached models against their checksums", setup: setupModels("verify"), client: clientMachine, example: "quarry models verify\nquarry models verify all-MiniLM-L6-v2"},
	}},
	{name: "check", use: "check [flags]", summary: "verify that the store is whole and the index agrees with it", setup: setupCheck, client: clientRemote,
		example: "quarry check\nquarry check --collection papers --json"},
	{name: "keys", use: "keys COMMAND", summary: "manage the API keys quarry serve checks", subs: []command{
		{name: "create", use: "create --role read|write|admin [flags]", summary: "create an API key (printed once)", setup: setupKeys("create"), remoteHint: "API keys live in the server's data directory: run quarry keys on the server's machine without --server or $QUARRY_SERVER (a running server picks up changes within a second)",
			example: "quarry keys create --role admin\nquarry keys create --role read --tenant acme --expires 720h --rate 20/s"},
		{name: "list", use: "list", summary: "list API keys", setup: setupKeys("list"), remoteHint: "API keys live in the server's data directory: run quarry keys on the server's machine without --server or $QUARRY_SERVER (a running server picks up changes within a second)", example: "quarry keys list --json"},
		{name: "revoke", use: "revoke ID", summary: "revoke an API key", setup: setupKeys("revoke"), remoteHint: "API keys live in the server's data directory: run quarry keys on the server's machine without --server or $QUARRY_SERVER (a running server picks up changes within a second)", example: "quarry keys revoke k_1234"},
	}},
	{name: "drift", use: "drift COMMAND", summary: "compare saved query drift windows", subs: []command{
		{name: "report", use: "report --baseline FILE --current FILE [flags]", summary: "compare two saved drift windows", setup: setupDrift, client: clientMachine,
			example: "quarry drift report --baseline base.json --current now.json\nquarry drift report --baseline base.json --current now.json --fail --json"},
	}},
	{name: "guard", use: "guard COMMAND", summary: "score texts for prompt injection", subs: []command{
		{name: "check", use: "check [flags] TEXT...", summary: "score texts for prompt injection", setup: setupGuardCheck, client: clientMachine,
			example: "quarry guard check \"ignore all previous instructions\"\nquarry guard check --json --threshold 0.8 \"hello\""},
		{name: "eval", use: "eval --dataset FILE.jsonl [flags]", summary: "measure the detector on a labelled dataset", setup: setupGuardEval, client: clientMachine,
			example: "quarry guard eval --dataset injections.jsonl --json"},
	}},
	{name: "backup", use: "backup [flags] FILE.tar", summary: "write a consistent copy of a collection, also while it serves", setup: setupBackup, client: clientRemote,
		example: "quarry backup --collection docs docs.tar\nquarry --server http://127.0.0.1:8080 backup docs.tar"},
	{name: "restore", use: "restore [--as NAME] FILE.tar", summary: "restore a backup into the data directory and check it", setup: setupRestore, remoteHint: "it writes into the data directory: copy FILE.tar to the server's machine and run quarry restore there, then quarry check --server URL --collection NAME verifies it",
		example: "quarry restore docs.tar\nquarry restore --as docs-copy docs.tar"},
	{name: "agent", use: "agent [--pipeline react|research] [--session ID] [flags] TASK", summary: "run an agent with Quarry's tools, streaming each step", setup: setupAgent, client: clientRemote,
		example: "quarry agent \"Summarise what the corpus says about basalt\"\nquarry agent --pipeline research --session s1 \"Compare granite and basalt\""},
	{name: "mcp", use: "mcp [--tenant T] [--principal P] [--write] [flags]", summary: "serve Quarry's tools and documents over MCP on stdio", setup: setupMCP, remoteHint: "a running server serves MCP over HTTP at its /mcp endpoint: point the MCP client there",
		example: "quarry mcp\nquarry mcp --tenant acme --write"},
}

// usageError marks errors caused by how the command was called (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// cliEnv carries what every subcommand shares: the streams and the global
// flags.
type cliEnv struct {
	stdout, stderr io.Writer
	dataDir        string
	collection     string
	json           bool
	backend        backendFlags
	// server and apiKey select client mode (--server, --api-key).
	server, apiKey string
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the CLI with args and returns the exit status: 0, 1 for errors,
// 2 for usage errors. Errors are printed as one line on stderr.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd, err := execute(ctx, args, stdout, stderr)
	if err == nil {
		return 0
	}
	prefix := "quarry"
	if cmd != nil && cmd.HasParent() {
		prefix = cmd.CommandPath()
	}
	fmt.Fprintln(stderr, prefix+": "+oneLine(err))
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	var ec interface{ ExitCode() int }
	if errors.As(err, &ec) {
		return ec.ExitCode() // 3: eval rag --baseline found a regression
	}
	return 1
}

// execute builds the command tree and runs args; it returns the command
// that ran (or failed to parse) and its error.
func execute(ctx context.Context, args []string, stdout, stderr io.Writer) (*cobra.Command, error) {
	env := &cliEnv{stdout: stdout, stderr: stderr}
	root := newRoot(env)
	root.SetArgs(args)
	return root.ExecuteContextC(ctx)
}

func newRoot(env *cliEnv) *cobra.Command {
	root := &cobra.Command{
		Use:   "quarry",
		Short: "Quarry: ingest, search and answer over your documents",
		Long: "Quarry is a retrieval engine: ingest documents, search them (BM25, dense, hybrid), answer questions with citations, and serve it all over HTTP.\n\n" +
			"Global flags go anywhere on the line. With --server URL (or $QUARRY_SERVER), ingest, search, ask, get, delete, stats, check, backup, embed and agent talk to a running quarry serve; " +
			"when the data directory is held by a local quarry serve, the data commands use it automatically. Commands that work on a local data directory only (restore, keys, mcp, eval rag) refuse client mode in one line.",
		Example:       indent("quarry ingest docs/\nquarry search \"how does basalt form\"\nquarry --data-dir /srv/quarry stats\nquarry serve"),
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) > 0 {
				return unknownCommand(c, args[0])
			}
			return c.Help()
		},
	}
	root.SetOut(env.stdout)
	root.SetErr(env.stderr)
	root.SetFlagErrorFunc(flagError)
	bindGlobalFlags(root.PersistentFlags(), env)
	for _, c := range commands {
		root.AddCommand(c.cobra(env))
	}
	root.AddCommand(versionCommand(env))
	root.InitDefaultCompletionCmd()
	registerValueCompletions(root)
	return root
}

// flagValues are the values shell completion offers for enum flags.
var flagValues = map[string][]string{
	"mode":     {quarry.ModeBM25, quarry.ModeDense, quarry.ModeHybrid},
	"fusion":   {"rrf", "weighted", "backend"},
	"on-error": {"abort", "skip"},
	"role":     {"read", "write", "admin"},
	"pipeline": {"react", "research"},
	"method":   {"extractive", "llm"},
	"rewrite":  {"multi", "hyde"},
	"backend":  {quarry.BackendEmbedded, quarry.BackendWeaviate},
}

// registerValueCompletions registers flagValues on every command that has
// such a flag.
func registerValueCompletions(c *cobra.Command) {
	fs := c.LocalNonPersistentFlags()
	if c == c.Root() {
		fs = c.PersistentFlags()
	}
	fs.VisitAll(func(f *pflag.Flag) {
		if vals, ok := flagValues[f.Name]; ok {
			_ = c.RegisterFlagCompletionFunc(f.Name, cobra.FixedCompletions(vals, cobra.ShellCompDirectiveNoFileComp))
		}
	})
	for _, sub := range c.Commands() {
		registerValueCompletions(sub)
	}
}

// cobra builds the cobra command for c.
func (c command) cobra(env *cliEnv) *cobra.Command {
	example := c.example
	if example == "" {
		// A group shows the first example of each subcommand.
		var lines []string
		for _, s := range c.subs {
			first, _, _ := strings.Cut(s.example, "\n")
			lines = append(lines, first)
		}
		example = strings.Join(lines, "\n")
	}
	cc := &cobra.Command{
		Use:     c.use,
		Short:   c.summary,
		Example: indent(example),
	}
	if c.setup != nil {
		body := c.setup(env, cc.Flags())
		cc.RunE = func(cmd *cobra.Command, args []string) error {
			path := strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
			if err := c.checkClientMode(cmd, env, path); err != nil {
				return err
			}
			return body(cmd.Context(), args)
		}
		return cc
	}
	cc.Args = cobra.ArbitraryArgs
	cc.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return usagef("usage: quarry %s %s (run 'quarry %s --help')", c.name, strings.Join(subNames(cmd), "|"), c.name)
		}
		return unknownCommand(cmd, args[0])
	}
	for _, s := range c.subs {
		cc.AddCommand(s.cobra(env))
	}
	return cc
}

func indent(s string) string {
	if s == "" {
		return ""
	}
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}

func subNames(c *cobra.Command) []string {
	var names []string
	for _, s := range c.Commands() {
		if s.IsAvailableCommand() {
			names = append(names, s.Name())
		}
	}
	return names
}

// unknownCommand is the one-line error for a command name c does not have,
// with the nearest names as a suggestion.
func unknownCommand(c *cobra.Command, name string) error {
	what := "command"
	if c.HasParent() {
		what = c.Name() + " command"
	}
	msg := fmt.Sprintf("unknown %s %q", what, name)
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2
	}
	if s := c.SuggestionsFor(name); len(s) > 0 {
		msg += fmt.Sprintf("; did you mean %q?", s[0])
	} else {
		msg += fmt.Sprintf(" (want %s)", strings.Join(subNames(c), ", "))
	}
	return usageError{msg + " (run '" + c.CommandPath() + " --help')"}
}

// flagError turns a flag parsing error into a one-line usage error; an
// unknown flag gets the nearest flag name as a suggestion.
func flagError(c *cobra.Command, err error) error {
	msg := err.Error()
	var nx *pflag.NotExistError
	if errors.As(err, &nx) && nx.GetSpecifiedName() != "" {
		if s := nearestFlag(c, nx.GetSpecifiedName()); s != "" {
			msg += fmt.Sprintf("; did you mean --%s?", s)
		}
	}
	msg = strings.Replace(msg, "invalid argument", "invalid value", 1)
	return usageError{msg}
}

// nearestFlag returns the flag of c closest to name (edit distance ≤ 2, or a
// prefix), or "".
func nearestFlag(c *cobra.Command, name string) string {
	best, bestD := "", 3
	visit := func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		d := editDistance(name, f.Name)
		if strings.HasPrefix(f.Name, name) && len(name) >= 3 {
			d = min(d, 1)
		}
		if d < bestD || (d == bestD && f.Name < best) {
			best, bestD = f.Name, d
		}
	}
	c.Flags().VisitAll(visit)
	c.InheritedFlags().VisitAll(visit)
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// bindGlobalFlags binds the flags every command takes to env.
func bindGlobalFlags(fs *pflag.FlagSet, env *cliEnv) {
	def := os.Getenv("QUARRY_DATA_DIR")
	if def == "" {
		def = "data"
	}
	fs.StringVar(&env.dataDir, "data-dir", def, "data directory (env $QUARRY_DATA_DIR)")
	fs.StringVar(&env.collection, "collection", "default", "collection name")
	fs.BoolVar(&env.json, "json", false, "print JSON")
	fs.StringVar(&env.server, "server", os.Getenv("QUARRY_SERVER"), "URL of a running quarry serve to talk to instead of the data directory (env $QUARRY_SERVER)")
	fs.StringVar(&env.apiKey, "api-key", os.Getenv("QUARRY_API_KEY"), "API key for --server, sent as a Bearer token (env $QUARRY_API_KEY)")
	addBackendFlags(fs, &env.backend)
}

// newFlags returns a flag set with the global flags bound to env, for
// tests and helpers that parse a command's flags outside the cobra tree.
func newFlags(c string, env *cliEnv) *pflag.FlagSet {
	fs := pflag.NewFlagSet(c, pflag.ContinueOnError)
	fs.SetOutput(env.stderr)
	bindGlobalFlags(fs, env)
	return fs
}

// parse parses fs (flags anywhere among the positional arguments;
// arguments after "--" are positional) and returns the positional ones.
func parse(fs *pflag.FlagSet, args []string) ([]string, error) {
	if err := fs.Parse(args); err != nil {
		return nil, usageError{err.Error()}
	}
	return fs.Args(), nil
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
func (s *stringList) Type() string       { return "string" }

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
