# The test command of the README and of CI: `make test`. It installs what the
# tests need, checks formatting and static analysis, then runs every test.
GO       ?= go
GOBIN    := $(shell $(GO) env GOPATH)/bin
PKGS     := ./...

.PHONY: test deps lint unit build fuzz-smoke bench

test: deps lint unit

deps:
	@scripts/install-test-deps.sh

lint:
	@echo "== module graph: github.com/gopacket/gopacket only"
	@if $(GO) list -m all | grep -q 'github.com/google/gopacket'; then \
		echo "github.com/google/gopacket is in the module graph: use github.com/gopacket/gopacket only"; exit 1; fi
	@echo "== gofmt"
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
		if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	@echo "== go vet"
	@$(GO) vet $(PKGS)
	@echo "== staticcheck"
	@$(GOBIN)/staticcheck $(PKGS)

# The ntlmscope_poison tag makes the reassembler overwrite every HTTP message
# it recycles, so that the tests prove no Handler keeps one past its call.
#
# RACE_TESTS run again under the race detector: the tests that compare a
# concurrent path (sharded workers, parallel diagnosis, parallel JSON,
# recycled connections) with its serial twin, and the progress bar's reads
# beside a merge of many files.
RACE_TESTS := TestPartsAgree|TestCompactJSON|TestJSONInParallel|TestShardedIdentical|TestRecycledConnections|TestMergeProgressWhileParked
unit:
	@echo "== go test"
	$(GO) test -count=1 -tags ntlmscope_poison $(PKGS)
	@echo "== go test -race (the concurrent paths)"
	$(GO) test -count=1 -race -tags ntlmscope_poison -run '$(RACE_TESTS)' ./analyzer ./report ./reassembly

build:
	$(GO) build -o bin/ntlmscope ./cmd/ntlmscope

# fuzz-smoke runs every fuzz target for FUZZTIME (go test -fuzz takes one
# target at a time); inputs that fail are kept under testdata/fuzz.
FUZZTIME ?= 10s
fuzz-smoke:
	@grep -rl --include='*_test.go' '^func Fuzz' . | xargs grep -h -o '^func Fuzz[A-Za-z0-9]*' | \
		while read -r _ name; do \
			dir=$$(dirname $$(grep -rl --include='*_test.go' "^func $$name(" .)); \
			echo "== $$name ($$dir)"; \
			$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$dir || exit 1; \
		done

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)
