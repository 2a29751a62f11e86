# The README's two commands: `go run ./cmd/decagon dev` runs the stack, `make test` runs every test.
GO ?= go
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: test test-go test-infra lint fuzz mutate bench synth build

test: test-go test-infra

test-go:
	$(GO) test -race -count=1 ./...
	# -race runs a sample of the CRS regression corpus; the whole corpus runs once without it.
	$(GO) test -count=1 -run TestCRSRegression ./internal/waf/

test-infra:
	@if [ -f infra/go.mod ]; then cd infra && $(GO) test -count=1 ./...; fi

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt: $$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) test -count=1 -run TestArchitecture .
	$(STATICCHECK) ./...
	@if [ -f infra/go.mod ]; then cd infra && $(GO) vet ./... && $(STATICCHECK) ./...; fi

# Short fuzzing runs of every fuzz target (go test -fuzz takes one target per run).
FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

# The mutation check: each deliberate bug of tools/mutate/mutations.go must fail the tests named
# beside it (MUTATE=-run name picks some). PostgreSQL must be up: it runs with CI=true.
MUTATE ?=
mutate:
	$(GO) run ./tools/mutate $(MUTATE)

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/decagon ./cmd/decagon

synth:
	cd infra && npx --yes aws-cdk@2 synth --quiet
