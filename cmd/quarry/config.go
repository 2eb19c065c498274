package main

import (
	"errors"
	"fmt"
	"github.com/spf13/pflag"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/file"
	"github.com/knadh/koanf/v2"

	"github.com/quarry-rag/quarry/internal/server"
)

// serveKey is one setting of the serve config file (docs/config.md). A key
// with a flag is applied through the flag, so it is parsed and checked
// the same way; the others set server.Options.
type serveKey struct {
	key, flag, env, doc string
}

// serveKeys lists every key the config file may hold. Precedence, lowest
// first: default, file, environment variable, command-line flag.
var serveKeys = []serveKey{
	{"addr", "addr", "QUARRY_ADDR", "listen address HOST:PORT (default 127.0.0.1:8080)"},
	{"data_dir", "data-dir", "QUARRY_DATA_DIR", "data directory (default ./data)"},
	{"collection", "collection", "", "collection named in the start-up line (default \"default\")"},
	{"backend", "backend", "QUARRY_BACKEND", "storage backend: embedded or weaviate"},
	{"weaviate.url", "weaviate-url", "QUARRY_WEAVIATE_URL", "Weaviate URL(s), comma-separated for failover"},
	{"weaviate.api_key", "weaviate-api-key", "QUARRY_WEAVIATE_API_KEY", "Weaviate API key"},
	{"weaviate.consistency", "weaviate-consistency", "QUARRY_WEAVIATE_CONSISTENCY", "ONE, QUORUM (default) or ALL"},
	{"weaviate.replication", "weaviate-replication", "QUARRY_WEAVIATE_REPLICATION", "replication factor of new classes (default 1)"},
	{"llm.url", "llm-url", "QUARRY_LLM_URL", "language model server URL (empty: extractive answers)"},
	{"llm.model", "llm-model", "QUARRY_LLM_MODEL", "language model name"},
	{"llm.api_key", "llm-api-key", "QUARRY_LLM_API_KEY", "bearer token for the language model server"},
	{"llm.provider", "llm-provider", "QUARRY_LLM_PROVIDER", "openai or ollama (default: inferred from the URL)"},
	{"llm.prompt", "llm-prompt", "QUARRY_LLM_PROMPT", "prompt style: instruct or base"},
	{"llm.context", "llm-context", "", "context window in tokens (default 4096)"},
	{"llm.timeout", "llm-timeout", "", "bound on one model call, e.g. 2m"},
	{"eval.datasets", "eval-datasets", "QUARRY_EVAL_DATASETS", "folder of evaluation datasets admins may run from the API and web UI (empty: evaluation off)"},
	{"server.max_body_bytes", "", "QUARRY_SERVER_MAX_BODY_BYTES", "largest document write body (default 100 MiB; uploads may be up to 1 GiB or this, whichever is larger)"},
	{"server.max_query_body_bytes", "", "QUARRY_SERVER_MAX_QUERY_BODY_BYTES", "largest other request body (default 1 MiB)"},
	{"server.read_header_timeout", "", "QUARRY_SERVER_READ_HEADER_TIMEOUT", "default 10s"},
	{"server.read_timeout", "", "QUARRY_SERVER_READ_TIMEOUT", "default 5m"},
	{"server.write_timeout", "", "QUARRY_SERVER_WRITE_TIMEOUT", "default 10m"},
	{"server.idle_timeout", "", "QUARRY_SERVER_IDLE_TIMEOUT", "default 2m"},
	{"server.shutdown_timeout", "", "QUARRY_SERVER_SHUTDOWN_TIMEOUT", "default 30s"},
	{"server.heartbeat_interval", "", "QUARRY_SERVER_HEARTBEAT_INTERVAL", "SSE keep-alive comment interval (default 15s; negative disables)"},
}

// defaultConfigFile is read when it exists and no --config is given.
const defaultConfigFile = "quarry.yaml"

// loadServeConfig reads the config file (path, else ./quarry.yaml if it
// exists, else nothing) into the flags that were not given on the command
// line and whose environment variable is unset, and returns the server
// options it (or the environment) sets. Unknown keys are errors, so a
// typo does not pass silently.
func loadServeConfig(fs *pflag.FlagSet, path string, explicit bool) (server.Options, error) {
	var so server.Options
	k := koanf.New(".")
	if path != "" {
		if err := k.Load(file.Provider(path), yaml.Parser()); err != nil {
			if !explicit && errors.Is(err, os.ErrNotExist) {
				k = koanf.New(".")
			} else {
				return so, fmt.Errorf("config %s: %v", path, err)
			}
		}
	}
	known := map[string]bool{}
	for _, sk := range serveKeys {
		known[sk.key] = true
	}
	var unknown []string
	for _, key := range k.Keys() {
		if !known[key] {
			unknown = append(unknown, key)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return so, fmt.Errorf("config %s: unknown key(s) %s (see docs/config.md)", path, strings.Join(unknown, ", "))
	}
	set := map[string]bool{}
	fs.Visit(func(f *pflag.Flag) { set[f.Name] = true })
	for _, sk := range serveKeys {
		envVal := ""
		if sk.env != "" {
			envVal = os.Getenv(sk.env)
		}
		if sk.flag != "" {
			if set[sk.flag] || envVal != "" || !k.Exists(sk.key) {
				continue // the flag, or its environment default, wins
			}
			if err := fs.Set(sk.flag, k.String(sk.key)); err != nil {
				return so, fmt.Errorf("config %s: %s: %v", path, sk.key, err)
			}
			continue
		}
		v := envVal
		if v == "" {
			if !k.Exists(sk.key) {
				continue
			}
			v = k.String(sk.key)
		}
		if err := setServerOption(&so, sk.key, v); err != nil {
			where := "config " + path
			if envVal != "" {
				where = sk.env
			}
			return so, fmt.Errorf("%s: %s: %v", where, sk.key, err)
		}
	}
	return so, nil
}

func setServerOption(o *server.Options, key, v string) error {
	if strings.HasSuffix(key, "_bytes") {
		var n int64
		if _, err := fmt.Sscanf(v, "%d", &n); err != nil || n <= 0 {
			return fmt.Errorf("want a positive number of bytes, got %q", v)
		}
		switch key {
		case "server.max_body_bytes":
			o.MaxBodyBytes = n
		case "server.max_query_body_bytes":
			o.MaxQueryBodyBytes = n
		}
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("want a duration such as 30s, got %q", v)
	}
	if d == 0 {
		return fmt.Errorf("must not be 0")
	}
	switch key {
	case "server.read_header_timeout":
		o.ReadHeaderTimeout = d
	case "server.read_timeout":
		o.ReadTimeout = d
	case "server.write_timeout":
		o.WriteTimeout = d
	case "server.idle_timeout":
		o.IdleTimeout = d
	case "server.shutdown_timeout":
		o.ShutdownTimeout = d
	case "server.heartbeat_interval":
		o.HeartbeatInterval = d
	}
	return nil
}

// serveConfig loads the --config file (or ./quarry.yaml if present).
func serveConfig(fs *pflag.FlagSet, path string) (server.Options, error) {
	if path != "" {
		return loadServeConfig(fs, path, true)
	}
	if _, err := os.Stat(defaultConfigFile); err == nil {
		return loadServeConfig(fs, defaultConfigFile, false)
	}
	return loadServeConfig(fs, "", false)
}
