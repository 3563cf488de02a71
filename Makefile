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

.PHONY: all build run test test-short lint check-generate generate tools breaking race bench bench-import bench-loyalty bench-promotion bench-segmentation bench-segmentation-1m tidy clean static-build image image-offline image-check chart-check cluster

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
# helm, for make chart-check, is a `tool` of its own module too
# (tools/helm/go.mod): Kubernetes' dependencies stay out of the workspace.
$(BIN)/helm: tools/helm/go.mod
	cd tools/helm && GOWORK=off go build -o $@ helm.sh/helm/v4/cmd/helm
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
	./services/promotion/internal/promotion ./services/promotion/internal/store ./services/promotion/internal/outreach ./services/promotion/app \
	./services/feedback/internal/store ./services/feedback/app \
	./services/gateway/app
race:
	go test -race $(GO_TEST_FLAGS) -count=1 -timeout 12m $(RACE_PACKAGES)

## static-build: the binaries of the container image (every services/*/cmd/*
## and tenurectl) as the Dockerfile builds them: static (CGO_ENABLED=0; the
## SQLite driver is pure Go), -trimpath, stripped, into STATIC_OUT; fails when
## one is not a static build. CI runs it, as no docker daemon runs there.
IMAGE_COMMANDS := $(wildcard services/*/cmd/*) tools/cmd/tenurectl
STATIC_OUT ?= $(CURDIR)/.build/static
STATIC_LDFLAGS := -s -w
static-build:
	@mkdir -p $(STATIC_OUT)
	CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags='$(STATIC_LDFLAGS)' -o $(STATIC_OUT)/ $(addprefix ./,$(IMAGE_COMMANDS))
	@for cmd in $(notdir $(IMAGE_COMMANDS)); do \
		go version -m $(STATIC_OUT)/$$cmd | grep -q 'CGO_ENABLED=0' || { echo "static-build: $$cmd is not a static build"; exit 1; }; \
	done; echo "static-build: $(notdir $(IMAGE_COMMANDS)) in $(STATIC_OUT)"

## image: the container image IMAGE (default tenure:dev) from the Dockerfile;
## needs a docker daemon with BuildKit. GOPROXY is passed to the build.
IMAGE ?= tenure:dev
image:
	docker build --build-arg GOPROXY=$$(go env GOPROXY) -t $(IMAGE) .

## image-offline: the same image without a docker daemon or a container
## registry, with buildah: deploy/image/local-bases.sh builds stand-ins for the
## two base images (Debian from a Debian mirror with the local Go toolchain,
## and a distroless-like static runtime), then buildah builds the Dockerfile
## on them. Needs root, buildah and debootstrap; see deploy/README.md.
## BUILDAH_FLAGS: chroot isolation works where containers cannot get cgroups.
BUILDAH_FLAGS ?= --isolation chroot
image-offline:
	set -e; bases=$$(deploy/image/local-bases.sh); eval "$$bases"; \
	buildah build $(BUILDAH_FLAGS) --pull=never --build-arg GO_IMAGE=$$GO_IMAGE \
		--build-arg RUNTIME_IMAGE=$$RUNTIME_IMAGE --build-arg GOPROXY=$$(go env GOPROXY) -t $(IMAGE) .

## image-check: checks the built IMAGE with buildah (root): user 65532, no
## shell, every binary static and answering -h, profile starting on /data.
image-check:
	deploy/image/check.sh $(IMAGE) $(notdir $(IMAGE_COMMANDS))

## chart-check: the Helm chart: helm lint --strict and helm template with the
## default values and the production-like ci/production-values.yaml, then the
## Go test (tools/chartcheck, a module outside the workspace) that decodes every
## rendered manifest strictly into the Kubernetes API types and checks
## selectors, probes, resources, security contexts and ports. The first run
## builds helm (a few minutes); it needs the image's binaries (static-build) to read their flags.
CHART := charts/tenure
CHART_KUBE_VERSION := 1.31.0
CHART_VALUES := $(CHART)/values.yaml $(CHART)/ci/production-values.yaml
chart-check: $(BIN)/helm static-build
	@set -e; for v in $(CHART_VALUES); do \
		echo "helm lint and template with $$v"; \
		helm lint --strict --quiet --kube-version $(CHART_KUBE_VERSION) -f $$v $(CHART); \
		helm template tenure $(CHART) --kube-version $(CHART_KUBE_VERSION) -f $$v > /dev/null; \
	done
	@out=$$(gofmt -l tools/chartcheck); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	cd tools/chartcheck && GOWORK=off go vet ./... && GOWORK=off go test -count=1 ./...

## cluster: Tenure as separate processes on loopback (a three-member etcd,
## three replicas of each service on PostgreSQL, the gateway), from the
## binaries of static-build; CLUSTER_FLAGS are passed on (see deploy/README.md).
CLUSTER_FLAGS ?=
cluster: static-build
	go build -o $(BIN)/tenure-cluster ./tools/cmd/tenure-cluster
	exec $(BIN)/tenure-cluster $(CLUSTER_FLAGS)

## run: embedded etcd, every service and the gateway on 127.0.0.1:8080.
# Built, then exec'd rather than `go run`, so that Ctrl-C is a clean stop:
# go run reports the signal as a failure. -v lists each package as it
# compiles, so a cold first build (modules to download, everything to
# compile) shows progress instead of minutes of silence.
run:
	@echo "building tenured: the first build downloads modules and compiles every package (a few minutes), later ones take seconds"
	go build -v -o $(BIN)/tenured ./tools/cmd/tenured
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

## bench-import: `tenurectl import online-retail` as a user runs it, built binaries against a
## fresh tenured per run, on SQLite and PostgreSQL (about a minute). TENURE_ONLINE_RETAIL_FILE
## is the UCI Online Retail CSV (plain or gzip), as for the tests that read it.
bench-import:
	@if [ -z "$$TENURE_ONLINE_RETAIL_FILE" ]; then echo "bench-import: set TENURE_ONLINE_RETAIL_FILE to the Online Retail CSV"; exit 2; fi
	go build -o $(BIN)/tenured ./tools/cmd/tenured
	go build -o $(BIN)/tenurectl ./tools/cmd/tenurectl
	go run ./tools/cmd/tenure-bench import --file "$$TENURE_ONLINE_RETAIL_FILE" --bin $(BIN) --runs $(BENCH_COUNT)

## bench-loyalty: the loyalty benchmarks: ledger catch-up and the expiry job at LOYALTY_BENCH_SIZE
## events and members (default 1,000,000; long), RedeemPoints latency on PostgreSQL.
LOYALTY_BENCH_SIZE ?= 1000000
bench-loyalty:
	TENURE_BENCH_EVENTS=$(LOYALTY_BENCH_SIZE) go test -run '^$$' -bench BenchmarkCatchUp -benchtime 1x -count 1 -timeout 60m ./services/loyalty/internal/consumer
	TENURE_BENCH_MEMBERS=$(LOYALTY_BENCH_SIZE) go test -run '^$$' -bench BenchmarkExpireJob -benchtime 1x -count 1 -timeout 60m ./services/loyalty/internal/store
	go test -run '^$$' -bench BenchmarkRedeemPoints -benchtime 3000x -count 1 ./services/loyalty/app

## bench-promotion: the promotion benchmarks: EvaluateCart with 100 active promotions and 20
## lines against an empty call, RedeemCart on PostgreSQL (1 and 32 clients), and generating
## 1,000,000 codes on SQLite and PostgreSQL.
bench-promotion:
	go test -run '^$$' -bench BenchmarkEvaluateCart -benchtime 5000x -count 1 ./services/promotion/app
	go test -run '^$$' -bench BenchmarkRedeemCart -benchtime 3000x -count 1 ./services/promotion/app
	go test -run '^$$' -bench BenchmarkGenerateCodes -benchtime 1x -count 1 -timeout 30m ./services/promotion/app

## bench-segmentation: the segmentation benchmarks at 100,000 customers (about 1.5 minutes).
BENCH_DIR := $(CURDIR)/.build/bench
bench-segmentation:
	@mkdir -p $(BENCH_DIR)
	go run ./tools/cmd/tenure-bench synth --customers 100000 --seed 1 --out $(BENCH_DIR)/synth-100k.tsv
	TENURE_BENCH_SYNTH=$(BENCH_DIR)/synth-100k.tsv go test -run '^$$' -bench BenchmarkRecompute -benchtime $(BENCH_COUNT)x -count 1 ./services/segmentation/internal/engine
	go test -run '^$$' -bench BenchmarkCheckShapes -benchtime 1s -count 1 ./services/segmentation/internal/membership
	go run ./tools/cmd/tenure-bench stack --customers 100000 --seed 1 --calls 5000

## bench-segmentation-1m: the 1,000,000-customer recompute on SQLite and PostgreSQL with the
## PostgreSQL window-function comparison, the like-for-like RFM-only rounds and the DuckDB peer
## (tools/duckpeer, built here with cgo; about 5 minutes plus generating the inputs; loading
## them dominates).
bench-segmentation-1m:
	@mkdir -p $(BENCH_DIR)
	go run ./tools/cmd/tenure-bench synth --customers 1000000 --seed 1 --out $(BENCH_DIR)/synth-1m.tsv
	cd tools/duckpeer && GOWORK=off go build -o $(BENCH_DIR)/duckpeer .
	TENURE_BENCH_SYNTH=$(BENCH_DIR)/synth-1m.tsv TENURE_BENCH_DUCKDB=$(BENCH_DIR)/duckpeer go test -run '^$$' -bench BenchmarkRecompute -benchtime $(BENCH_COUNT)x -count 1 -v -timeout 30m ./services/segmentation/internal/engine

## bench-feedback: ticket creation over 200 rules (p50/p99, SQLite and PostgreSQL),
## classification alone, and an escalation sweep over 1,000,000 due tickets on SQLite
## (about 2 minutes; TENURE_BENCH_TICKETS=100000 for a quick run).
.PHONY: bench-feedback
bench-feedback:
	go test -run '^$$' -bench BenchmarkCreateTicket200Rules -benchtime 2000x -count $(BENCH_COUNT) ./services/feedback/internal/store
	go test -run '^$$' -bench BenchmarkClassify200Rules -benchtime 2000x -count $(BENCH_COUNT) ./services/feedback/internal/rules
	TENURE_BENCH_TICKETS=$${TENURE_BENCH_TICKETS:-1000000} go test -run '^$$' -bench BenchmarkEscalationSweep -benchtime 1x -count 1 -timeout 30m ./services/feedback/internal/store

## fuzz: every fuzz target, one after another, for FUZZTIME each (default 30s).
## Targets are found anew each run: packages with a `func Fuzz`, then `go test -list`.
## A failing input is written to the package's testdata/fuzz/<target>/.
## fuzz-short: the same for 5,000 inputs each, as CI runs it (a count, not a
## time: Go 1.26's fuzzer can fail a target with "context deadline exceeded"
## when a time budget ends while a worker is busy, on a loaded machine).
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
	@$(MAKE) --no-print-directory fuzz FUZZTIME=5000x

tidy:
	for m in $(MODULES); do (cd $$m && go mod tidy) || exit 1; done
	for m in tools/buf tools/helm tools/chartcheck tools/duckpeer; do (cd $$m && GOWORK=off go mod tidy) || exit 1; done

clean:
	rm -rf bin .build data
