# respwire: the two commands a newcomer needs.
#   make bench  side-by-side benchmark against go-redis and rueidis; prints a table
#   make test   vet and race-test everything (root module and bench module)

GO ?= go

.PHONY: test test-root test-bench bench soak

test: test-root test-bench

test-root:
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 20m ./...

# The bench module is vetted and each benchmark runs once, so it cannot rot.
test-bench:
	@if [ -f bench/go.mod ]; then \
		cd bench && $(GO) vet ./... && $(GO) test -count=1 -run '^$$' -bench . -benchtime 1x -timeout 15m ./... ; \
	fi

bench:
	cd bench && $(GO) run ./cmd/benchtable

soak:
	$(GO) run ./internal/cmd/soak
