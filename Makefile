# Tenure build. Every tool the build needs is built into ./bin from the
# versions pinned with `tool` directives (see "Dev tools" below).

SHELL := /bin/bash
BIN := $(CURDIR)/bin
export GOBIN := $(BIN)
export PATH := $(BIN):$(PATH)

# The googleapis HTTP annotations ship inside this module; `make generate`
# copies them into an ignored folder instead of committing them.
GOOGLEAPIS_MODULE := github.com/grpc-ecosystem/grpc-gateway@v1.16.0

# The workspace's modules, from the use directives of go.work.
MODULES := $(patsubst ./%,%,$(shell go work edit -json | sed -n 's/.*"DiskPath": "\(.*\)".*/\1/p'))
GO_TEST_FLAGS ?=

.PHONY: all build run test test-short lint check-generate generate tools breaking race bench bench-loyalty bench-segmentation bench-segmentation-1m tidy clean

all: build

# Dev tools. The protoc plugins are `tool` directives of tools/go.mod: they
# resolve with the workspace, so the generators run the protobuf, grpc and
# grpc-gateway versions the services link. buf is a `tool` of its own module,
# tools/buf/go.mod, outside go.work: its dependencies would raise shared
# versions (protobuf to a pre-release) for every module of the workspace.
# Change a version with `go get -tool <pkg>@<version>` in the module that pins
# it; the binaries below rebuild when that go.mod changes.
PLUGINS := google.golang.org/protobuf/cmd/protoc-gen-go \
	google.golang.org/grpc/cmd/protoc-gen-go-grpc \
	github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway \
	github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2

$(BIN)/buf: tools/buf/go.mod
	cd tools/buf && GOWORK=off go build -o $@ github.com/bufbuild/buf/cmd/buf
$(BIN)/protoc-gen-%: tools/go.mod
	go build -o $@ $(filter %/protoc-gen-$*,$(PLUGINS))

tools: $(BIN)/buf $(addprefix $(BIN)/,$(notdir $(PLUGINS)))

.build/googleapis/google/api/annotations.proto:
	@dir=$$(GOWORK=off go mod download -json $(GOOGLEAPIS_MODULE) | sed -n 's/.*"Dir": "\(.*\)".*/\1/p'); \
	mkdir -p .build/googleapis/google/api && \
	install -m 0644 $$dir/third_party/googleapis/google/api/annotations.proto $$dir/third_party/googleapis/google/api/http.proto .build/googleapis/google/api/

googleapis: .build/googleapis/google/api/annotations.proto

## generate: regenerate gen/ and the OpenAPI document from proto/.
generate: tools googleapis
	rm -rf gen/tenure services/gateway/internal/openapi/spec
	buf generate --path proto/tenure
	cd gen && go mod tidy

## check-generate: fail when gen/ does not match the protos.
check-generate: generate
	@if [ -n "$$(git status --porcelain -- gen services/gateway/internal/openapi/spec)" ]; then \
		git status --porcelain -- gen services/gateway/internal/openapi/spec; \
		echo "generated code is stale: run make generate and commit the result"; exit 1; \
	fi

## lint: gofmt, go vet, buf lint and buf format.
lint: tools googleapis
	@out=$$(gofmt -l $(filter-out gen,$(MODULES))); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	go vet $(addsuffix /...,$(addprefix ./,$(MODULES)))
	buf lint --path proto/tenure
	buf format -d --exit-code proto

## breaking: fail when proto/ breaks the wire or JSON API (WIRE_JSON) of
## BREAKING_AGAINST: by default main (local or origin), or HEAD~1 when HEAD
## is main, so it also runs on a single-branch clone. Skipped, with a notice,
## when the clone has no such commit (a depth-1 clone of main).
BREAKING_AGAINST ?=
AGAINST_DIR := $(CURDIR)/.build/against
breaking: tools googleapis
	@ref='$(BREAKING_AGAINST)'; \
	if [ -z "$$ref" ]; then \
		head=$$(git rev-parse HEAD); \
		for m in main origin/main; do \
			c=$$(git rev-parse -q --verify "$$m^{commit}") || continue; \
			if [ "$$c" != "$$head" ]; then ref=$$m; else ref=HEAD~1; fi; break; \
		done; \
		[ -n "$$ref" ] || ref=HEAD~1; \
	fi; \
	if ! git rev-parse -q --verify "$$ref^{commit}" > /dev/null; then \
		echo "breaking: no commit $$ref in this clone to compare with; skipped"; exit 0; \
	fi; \
	echo "buf breaking against $$ref"; \
	rm -rf $(AGAINST_DIR) && mkdir -p $(AGAINST_DIR)/.build && \
	git archive "$$ref" proto buf.yaml | tar -x -C $(AGAINST_DIR) && \
	cp -r .build/googleapis $(AGAINST_DIR)/.build/ && \
	buf breaking --against $(AGAINST_DIR)

## build: compile every module, tests included.
build:
	go build $(addsuffix /...,$(addprefix ./,$(MODULES)))
	go test -run '^$$' $(addsuffix /...,$(addprefix ./,$(MODULES))) > /dev/null

## test: every test; PostgreSQL tests skip outside CI when none is reachable.
test: build
	go test $(GO_TEST_FLAGS) -count=1 -timeout 12m $(addsuffix /...,$(addprefix ./,$(MODULES)))

## race: the tests of the packages that share state between goroutines, under
## the race detector (about 6 minutes on 2 cores with a cold build cache).
RACE_PACKAGES := $(addprefix ./services/platform/,discovery election eventlog grpcclient idempotency sqlstore grpcserver stack) \
	./services/profile/internal/store ./services/profile/app \
	$(addprefix ./services/segmentation/internal/,consumer engine membership) ./services/segmentation/app \
	$(addprefix ./services/loyalty/internal/,consumer store) ./services/loyalty/app \
	./services/gateway/app
race:
	go test -race $(GO_TEST_FLAGS) -count=1 -timeout 12m $(RACE_PACKAGES)

## run: embedded etcd, every service and the gateway on 127.0.0.1:8080.
# Built, then exec'd rather than `go run`, so that Ctrl-C is a clean stop:
# go run reports the signal as a failure.
run:
	go build -o $(BIN)/tenured ./tools/cmd/tenured
	exec $(BIN)/tenured

## bench: the benchmarks reported in BENCHMARKS.md, one at a time (about 4 minutes).
## PostgreSQL cases need TENURE_TEST_POSTGRES_DSN or a server on 127.0.0.1:5432.
BENCH_COUNT ?= 3
bench:
	go test -run '^$$' -bench BenchmarkBatchRecordEvents -benchtime 20x -count $(BENCH_COUNT) ./services/profile/app
	go test -run '^$$' -bench BenchmarkAppendBatch -benchtime 20x -count 1 ./services/profile/internal/store
	go test -run '^$$' -bench 'BenchmarkConcurrentWrites/.*/batch100$$' -benchtime 1000x -count $(BENCH_COUNT) ./services/profile/internal/store
	go test -run '^$$' -bench 'BenchmarkConcurrentWrites/.*/batch1000$$' -benchtime 200x -count $(BENCH_COUNT) ./services/profile/internal/store
	go test -run '^$$' -bench BenchmarkGetCustomer -benchtime 2s -count $(BENCH_COUNT) ./services/gateway/app
	go test -run '^$$' -bench BenchmarkImportOnlineRetail -benchtime 1x -count $(BENCH_COUNT) ./tools/internal/cli
	$(MAKE) --no-print-directory bench-segmentation

## bench-loyalty: the loyalty benchmarks: ledger catch-up and the expiry job at LOYALTY_BENCH_SIZE
## events and members (default 1,000,000; long), RedeemPoints latency on PostgreSQL.
LOYALTY_BENCH_SIZE ?= 1000000
bench-loyalty:
	TENURE_BENCH_EVENTS=$(LOYALTY_BENCH_SIZE) go test -run '^$$' -bench BenchmarkCatchUp -benchtime 1x -count 1 -timeout 60m ./services/loyalty/internal/consumer
	TENURE_BENCH_MEMBERS=$(LOYALTY_BENCH_SIZE) go test -run '^$$' -bench BenchmarkExpireJob -benchtime 1x -count 1 -timeout 60m ./services/loyalty/internal/store
	go test -run '^$$' -bench BenchmarkRedeemPoints -benchtime 3000x -count 1 ./services/loyalty/app

## bench-segmentation: the segmentation benchmarks at 100,000 customers (about 1.5 minutes).
BENCH_DIR := $(CURDIR)/.build/bench
bench-segmentation:
	@mkdir -p $(BENCH_DIR)
	go run ./tools/cmd/tenure-bench synth --customers 100000 --seed 1 --out $(BENCH_DIR)/synth-100k.tsv
	TENURE_BENCH_SYNTH=$(BENCH_DIR)/synth-100k.tsv go test -run '^$$' -bench BenchmarkRecompute -benchtime $(BENCH_COUNT)x -count 1 ./services/segmentation/internal/engine
	go test -run '^$$' -bench BenchmarkCheckShapes -benchtime 1s -count 1 ./services/segmentation/internal/membership
	go run ./tools/cmd/tenure-bench stack --customers 100000 --seed 1 --calls 5000

## bench-segmentation-1m: the 1,000,000-customer recompute on SQLite and PostgreSQL with the
## PostgreSQL window-function comparison, including the like-for-like RFM-only rounds (about 4
## minutes plus generating the inputs; loading them dominates).
bench-segmentation-1m:
	@mkdir -p $(BENCH_DIR)
	go run ./tools/cmd/tenure-bench synth --customers 1000000 --seed 1 --out $(BENCH_DIR)/synth-1m.tsv
	TENURE_BENCH_SYNTH=$(BENCH_DIR)/synth-1m.tsv go test -run '^$$' -bench BenchmarkRecompute -benchtime $(BENCH_COUNT)x -count 1 -v -timeout 30m ./services/segmentation/internal/engine

## fuzz: every fuzz target, one after another, for FUZZTIME each (default 30s).
## Targets are found anew each run: packages with a `func Fuzz`, then `go test -list`.
## A failing input is written to the package's testdata/fuzz/<target>/.
## fuzz-short: the same for 3s each, as CI runs it.
FUZZTIME ?= 30s
FUZZ_DIRS = $$(grep -rl --include='*_test.go' '^func Fuzz' $(filter-out gen,$(MODULES)) | xargs -r -n1 dirname | sort -u)
.PHONY: fuzz fuzz-short
fuzz:
	@set -e; for dir in $(FUZZ_DIRS); do \
		list=$$(go test -list '^Fuzz' ./$$dir); \
		for target in $$(grep '^Fuzz' <<<"$$list"); do \
			echo "fuzz: $$dir $$target for $(FUZZTIME)"; \
			go test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) ./$$dir; \
		done; \
	done

fuzz-short:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=3s

tidy:
	for m in $(MODULES); do (cd $$m && go mod tidy) || exit 1; done
	cd tools/buf && GOWORK=off go mod tidy

clean:
	rm -rf bin .build data
