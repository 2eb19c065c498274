package main

import (
	"github.com/spf13/pflag"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/quarry-rag/quarry"
)

// backendFlags select the storage backend: --backend, --weaviate-url,
// --weaviate-api-key, --weaviate-consistency, --weaviate-replication, with
// QUARRY_BACKEND, QUARRY_WEAVIATE_URL, QUARRY_WEAVIATE_API_KEY,
// QUARRY_WEAVIATE_CONSISTENCY and QUARRY_WEAVIATE_REPLICATION as defaults.
type backendFlags struct {
	backend, url, apiKey, consistency string
	replication                       int
}

func addBackendFlags(fs *pflag.FlagSet, b *backendFlags) {
	fs.StringVar(&b.backend, "backend", envOr("QUARRY_BACKEND", quarry.BackendEmbedded), "storage backend: embedded or weaviate")
	fs.StringVar(&b.url, "weaviate-url", os.Getenv("QUARRY_WEAVIATE_URL"), "Weaviate URL for --backend weaviate (e.g. http://127.0.0.1:8089; a comma-separated list of cluster nodes fails over)")
	fs.StringVar(&b.apiKey, "weaviate-api-key", os.Getenv("QUARRY_WEAVIATE_API_KEY"), "Weaviate API key (default $QUARRY_WEAVIATE_API_KEY)")
	fs.StringVar(&b.consistency, "weaviate-consistency", os.Getenv("QUARRY_WEAVIATE_CONSISTENCY"), "Weaviate consistency level: ONE, QUORUM (default) or ALL")
	rep, _ := strconv.Atoi(os.Getenv("QUARRY_WEAVIATE_REPLICATION"))
	fs.IntVar(&b.replication, "weaviate-replication", rep, "replication factor of new Weaviate classes (default 1)")
}

// apply copies the flags into engine options.
func (b *backendFlags) apply(o *quarry.Options) *quarry.Options {
	o.Backend, o.WeaviateURL, o.WeaviateAPIKey = b.backend, b.url, b.apiKey
	o.WeaviateConsistency, o.WeaviateReplication = b.consistency, b.replication
	return o
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// evalCollection names the evaluation collection. The embedded backend
// builds it in a private folder, so "eval" is enough; a shared Weaviate
// keeps it between runs (re-runs reuse its documents and vectors), so the
// name says what it holds.
func evalCollection(b *backendFlags, dataset, model string, chunkSize int) string {
	if b.backend != quarry.BackendWeaviate {
		return "eval"
	}
	if model == "" {
		model = "bm25"
	}
	name := unsafeName.ReplaceAllString("eval-"+filepath.Base(filepath.Clean(dataset))+"-"+model+"-"+strconv.Itoa(chunkSize), "_")
	if len(name) > 64 {
		name = name[:64]
	}
	return name
}
