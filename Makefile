# Rocca — build, run and test. One tag set everywhere (sqlite_fts5): each other set recompiles SQLite.
GO        ?= go
TAGS      := sqlite_fts5
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
BIN       := bin/rocca
FUZZTIME  ?= 30s
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: help build run test lint bench fuzz clean

help: ## show this help
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

build: ## build bin/rocca
	$(GO) build -tags $(TAGS) -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/rocca

run: build ## build and start the server on embedded defaults (http://127.0.0.1:8080)
	./$(BIN) serve

test: build ## run every test, one package at a time (ROCCA_E2E=1: missing end-to-end prerequisites fail)
	ROCCA_BIN=$(CURDIR)/$(BIN) $(GO) test -tags $(TAGS) -count=1 -p 1 -timeout 60m ./...

lint: ## gofmt, go vet and staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet -tags $(TAGS) ./...
	$(GO) run $(STATICCHECK) -tags $(TAGS) ./...

bench: build ## run benchmarks and load tools, write docs/benchmarks.md
	ROCCA_BIN=$(CURDIR)/$(BIN) GO=$(GO) TAGS=$(TAGS) ./scripts/bench

fuzz: ## run every fuzz target for FUZZTIME each (default 30s)
	GO=$(GO) TAGS=$(TAGS) FUZZTIME=$(FUZZTIME) ./scripts/fuzz

clean: ## remove build output
	rm -rf bin
