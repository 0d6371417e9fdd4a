# piiguard — make targets. Everything a target needs is installed by the
# project's own scripts; nothing is assumed beyond Go on Debian.

GO ?= go
FUZZTIME ?= 10s

.PHONY: test integration quickstart vet fmt fuzz bench cover cc

# Nested modules: test-only code whose dependencies must not become
# requirements of piiguard's module (kms/awskms/localkms runs the AWS KMS
# driver's tests against local-kms in process).
NESTED := kms/awskms/localkms

# The analyzer of cmd/piiguardvet, installed by make vet and run over the
# repository through go vet.
PIIGUARDVET = $(shell $(GO) env GOPATH)/bin/piiguardvet

# Every test that needs nothing but Go: vet, gofmt, the race-enabled test
# suite (examples/ programs and the nested modules included).
test: vet fmt
	@echo "== go test -race -count=1 ./..."
	@$(GO) test -race -count=1 ./...
	@for m in $(NESTED); do echo "== (cd $$m && go test -race -count=1 ./...)"; (cd $$m && $(GO) test -race -count=1 ./...) || exit 1; done

# A C compiler for cgo (kms/pkcs11, and -race); installed if missing.
cc:
	@bash scripts/ensure-cc.sh

vet: cc
	@echo "== go vet ./... (compiles every package; silent unless it finds something)"
	@$(GO) vet ./...
	@echo "== go vet -tags integration ./..."
	@$(GO) vet -tags integration ./...
	@$(GO) install ./cmd/piiguardvet
	@echo "== go vet -vettool=$(PIIGUARDVET) ./... (personal data on its way to logs, errors, JSON)"
	@$(GO) vet -vettool=$(PIIGUARDVET) ./...
	@for m in $(NESTED); do echo "== (cd $$m && go vet ./...)"; (cd $$m && $(GO) vet ./...) || exit 1; done

fmt:
	@echo "== gofmt -l ."
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# The integration tests against real services (PostgreSQL 15, SoftHSM2,
# local-kms for AWS KMS); scripts/integration.sh installs and starts them.
integration:
	bash scripts/integration.sh

# The README's first command.
quickstart:
	$(GO) run ./examples/quickstart

# Short runs of every fuzz target (FUZZTIME each).
fuzz:
	bash scripts/fuzz.sh $(FUZZTIME)

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

cover:
	$(GO) test -count=1 -cover ./...
