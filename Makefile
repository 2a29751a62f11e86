# The README's two commands: `go run ./cmd/decagon dev` runs the stack, `make test` runs every test.
GO ?= go
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: test test-go test-infra lint fuzz mutate bench synth build

test: test-go test-infra

test-go:
	$(GO) test -race -count=1 ./...
	# -race runs a sample of the CRS regression corpus, and the WAF's regexps on Go's engine
	# (internal/waf/engine_race.go); the WAF's tests run once more without it, on RE2.
	$(GO) test -count=1 ./internal/waf/

test-infra:
	@if [ -f infra/go.mod ]; then cd infra && $(GO) test -count=1 ./...; fi

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt: $$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) test -count=1 -run TestArchitecture .
	$(STATICCHECK) ./...
	$(GO) mod tidy -diff
	@if [ -f infra/go.mod ]; then cd infra && $(GO) mod tidy -diff && $(GO) vet ./... && $(STATICCHECK) ./...; fi

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

# --- AWS (infra/README.md) ---------------------------------------------------------------
# ENV=dev|prod picks the stacks (decagon-$(ENV)-registry, decagon-$(ENV)); CDK_CTX passes more
# context, e.g. CDK_CTX='-c alarmEmail=you@example.com' (prod needs -c certificateArn=... -c albDomainName=...).
ENV ?= dev
CDK ?= npx --yes aws-cdk@2
CDK_CTX ?=
CDK_APPROVAL ?= never
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null)
# synth checks every template without an image: any well-formed digest stands in for one.
SYNTH_DIGEST = sha256:0000000000000000000000000000000000000000000000000000000000000000
IMAGE_BINARY = bin/decagon-linux-amd64

synth:
	cd infra && $(CDK) synth --quiet -c env=$(ENV) -c imageDigest=$(SYNTH_DIGEST) $(CDK_CTX)

# The static binary the image carries (the task definitions run linux/amd64).
$(IMAGE_BINARY): FORCE
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -ldflags "-X main.version=$(VERSION)" -o $@ ./cmd/decagon

# One command on a fresh account: the registry stack, then the image built in Go (no Docker
# daemon) and pushed to it, then the app stack pinned to the image's digest.
deploy: $(IMAGE_BINARY)
	cd infra && $(CDK) deploy decagon-$(ENV)-registry --require-approval $(CDK_APPROVAL) -c env=$(ENV) $(CDK_CTX)
	@set -e; \
	repo=$$(aws cloudformation describe-stacks --stack-name decagon-$(ENV)-registry \
	  --query "Stacks[0].Outputs[?OutputKey=='RepositoryUri'].OutputValue" --output text); \
	digest=$$(aws ecr get-login-password | (cd infra && $(GO) run ./cmd/image -binary ../$(IMAGE_BINARY) \
	  -repository "$$repo" -password-stdin -version "$(VERSION)" -revision "$(REVISION)")); \
	echo "image $$repo@$$digest"; \
	cd infra && $(CDK) deploy decagon-$(ENV) --require-approval $(CDK_APPROVAL) -c env=$(ENV) -c imageDigest="$$digest" $(CDK_CTX)

# The image into an OCI layout (out/oci), no registry: inspect it or load it elsewhere.
image-layout: $(IMAGE_BINARY)
	cd infra && $(GO) run ./cmd/image -binary ../$(IMAGE_BINARY) -layout ../out/oci -version "$(VERSION)" -revision "$(REVISION)"

destroy:
	cd infra && $(CDK) destroy decagon-$(ENV) decagon-$(ENV)-registry -c env=$(ENV) -c imageDigest=$(SYNTH_DIGEST) $(CDK_CTX)

.PHONY: deploy image-layout destroy FORCE
FORCE:
