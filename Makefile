# Quarry — thin Makefile. Caches (models, venvs, built servers) live under
# $(QUARRY_HOME), never in the repo.
SHELL        := /bin/bash
GO           ?= go
QUARRY_HOME  ?= $(HOME)/.cache/quarry
QUARRY_DATASETS ?= $(abspath $(CURDIR)/../shared/datasets)
DATA_DIR     ?= $(CURDIR)/data
ADDR         ?= 127.0.0.1:8080
GOTEST_FLAGS ?= -count=1 -timeout 25m
export QUARRY_HOME QUARRY_DATASETS

.PHONY: all build run test deps llm llm-stop weaviate weaviate-stop testrace test-purego bench bench-peers models guard-model lint fuzz clean

all: build

build:
	$(GO) build -o bin/quarry ./cmd/quarry

## run: build, ingest the sample corpus (embedded with the default model, so
## BM25, dense and hybrid search all work), serve the API and web UI on $(ADDR)
RUN_EMBEDDING ?= all-MiniLM-L6-v2
LLM ?= gemma
run: build models
	./bin/quarry ingest --data-dir $(DATA_DIR) --embedding $(RUN_EMBEDDING) samples
	./bin/quarry serve --data-dir $(DATA_DIR) --addr $(ADDR)

## test: everything CI runs (vet, unit, integration, crash, browser and real-LLM tests)
test: build models deps
	$(GO) vet ./...
	@llm=$$(bash scripts/llm.sh) || exit 1; wv=$$(bash scripts/weaviate.sh start) || exit 1; \
		set -a; eval "$$(printf '%s\n' "$$llm" "$$wv" | grep '^QUARRY_')"; set +a; \
		$(GO) test $(GOTEST_FLAGS) ./...; status=$$?; \
		bash scripts/pysdk.sh || status=1; \
		bash scripts/llm.sh stop; bash scripts/weaviate.sh stop; exit $$status

## test-python: the Python SDK and its LangChain/LlamaIndex retrievers against a real server
test-python: build
	bash scripts/pysdk.sh

testrace:
	$(GO) test -race $(GOTEST_FLAGS) ./...

test-purego:
	$(GO) test -tags purego $(GOTEST_FLAGS) ./internal/kernels/...

## bench: Go micro-benchmarks beside the code
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count=1 ./...

## bench-peers: side-by-side runs against Python peers (writes docs/benchmarks.md)
bench-peers: build
	bash bench/bm25_peers/run.sh --write
	bash bench/embed_peers/run.sh --write
	bash bench/ann_peers/run.sh --write

## llm: build and start the local Ollama with the default model (Gemma 3
## 270M; LLM=smollm2 for SmolLM2-135M-Instruct); prints
## QUARRY_LLM_URL=… and QUARRY_LLM_MODEL=… (eval "$$(make -s llm)")
llm:
	@LLM=$(LLM) bash scripts/llm.sh

llm-stop:
	@bash scripts/llm.sh stop

## weaviate: build (cached) and start a local single-node Weaviate; prints
## QUARRY_WEAVIATE_URL=… (eval "$$(make -s weaviate)")
weaviate:
	@bash scripts/weaviate.sh start

weaviate-stop:
	@bash scripts/weaviate.sh stop

## deps: system packages the tests need (headless chromium)
deps:
	@bash scripts/deps.sh

## models: fetch the default models into $(QUARRY_HOME)/models
models:
	@bash scripts/models.sh

## guard-model: retrain the prompt-injection head from $(QUARRY_DATASETS)/injection
## (rewrites internal/guard/model/head.json and its .sha256; prints k-fold figures)
guard-model: models
	$(GO) run ./internal/guard/cmd/train

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	$(GO) test -count=1 -run 'TestImportRules|TestPackageDocs' .

## fuzz: run every fuzz target briefly
fuzz:
	bash scripts/fuzz.sh 20s

clean:
	rm -rf bin
