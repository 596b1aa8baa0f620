# respwire: the two commands a newcomer needs.
#   make bench  side-by-side benchmark against go-redis and rueidis; prints a table
#   make test   vet, staticcheck and race-test everything (root module, the OTel adapter's module, bench module)

GO ?= go
# staticcheck at a pinned version, fetched through the Go module proxy on first use.
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: test test-root test-otel test-bench bench bench-sentinel soak

test: test-root test-otel test-bench

test-root:
	$(GO) vet ./...
	$(STATICCHECK) ./...
	$(GO) test -race -count=1 -timeout 20m ./...
	# The race detector changes allocation counts, so the allocation targets
	# (GET 1, SET 0, routing 0, a message 1) are checked once more without
	# it, and slows goroutines, so the cache stress test's 100 ms bound too.
	$(GO) test -count=1 -run 'Alloc|TestDoCacheStress' ./resp ./slots ./conn ./cluster ./pubsub

# The OpenTelemetry adapter is a module of its own (conn/respotel), which the
# root module's ./... does not reach: vetted, checked and race-tested here,
# against servers its tests start.
test-otel:
	cd conn/respotel && $(GO) vet ./... && $(STATICCHECK) ./... && $(GO) test -race -count=1 -timeout 10m ./...

# The bench module is vetted, its runner's tests pass and each benchmark runs
# once against servers it starts and stops, so it cannot rot.
test-bench:
	cd bench && $(GO) vet ./... && $(STATICCHECK) ./... && $(GO) test -count=1 -bench . -benchtime 1x -timeout 15m ./...

# BENCHFLAGS passes flags to the runner, e.g. make bench BENCHFLAGS='-rounds 3 -bench ^Get/parallel'.
bench:
	cd bench && $(GO) run ./cmd/benchtable $(BENCHFLAGS)

# The window from SENTINEL FAILOVER to the first write on the new master, for
# respwire, rueidis and go-redis side by side in the same FAILOVERS failovers,
# and the writes each acknowledged from the old master after the switch.
FAILOVERS ?= 5
bench-sentinel:
	cd bench && $(GO) test -count=1 -run '^$$' -bench '^BenchmarkSentinelFailover$$' -benchtime $(FAILOVERS)x -timeout 30m .

soak:
	$(GO) run ./internal/cmd/soak
