# fastop — see README.md. `make build` gives a static binary in bin/fastop.
VERSION     ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
MODULE      := github.com/fastop/fastop
LDFLAGS     := -s -w -X $(MODULE)/cmd.version=$(VERSION)
BENCH_COUNT ?= 6
BENCHTIME   ?= 1s
FUZZTIME    ?= 30s
SOAK        ?= 10m
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
PORTABLE := ./decode/... ./table/... ./display/... ./bench/... ./ring/...

.PHONY: build test bench gopacketcmp fuzz soak lint golden clean

build:
	CGO_ENABLED=0 go build -trimpath -ldflags '$(LDFLAGS)' -o bin/fastop ./cmd/fastop

# -race needs cgo: CGO_ENABLED is deliberately not exported here.
test:
	go test -race -count=1 ./...

bench:
	go test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) -count $(BENCH_COUNT) ./decode ./table/... ./bench/... ./ring/... | tee bench.txt

# fastop bench --workers 1 against gopacket's DecodingLayerParser feeding a Go
# map, on the same 64-byte x 1,000-flow capture in one process. A module of
# its own (bench/gopacketcmp/go.mod), so fastop's go.mod never depends on
# gopacket; the first run fetches gopacket. GOPACKETCMP_ARGS='-flows 100000'
# or a pcap file path changes the capture.
gopacketcmp:
	cd bench/gopacketcmp && go run . $(GOPACKETCMP_ARGS)

# Every fuzz target in the tree, found by name (`go test -fuzz` takes one
# package and one target per run). A finding is written to the target's
# testdata/fuzz directory and fails the run. A failure that writes nothing
# is Go 1.26's fuzz-coordinator race at the -fuzztime deadline ("context
# deadline exceeded", golang/go#75804, fixed in Go 1.27): said, not failed.
fuzz:
	@set -e; for f in $$(grep -rl --include='*_test.go' '^func Fuzz' . | sort); do \
		dir=$$(dirname "$${f#./}"); pkg=./$$dir; \
		for fn in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$$f"); do \
			echo "== $$pkg $$fn"; \
			before=$$(ls "$$dir/testdata/fuzz/$$fn" 2>/dev/null | wc -l); \
			rc=0; go test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s $$pkg >fuzz.out 2>&1 || rc=$$?; \
			cat fuzz.out; \
			if [ $$rc -ne 0 ]; then \
				after=$$(ls "$$dir/testdata/fuzz/$$fn" 2>/dev/null | wc -l); \
				if [ "$$after" -gt "$$before" ] || ! grep -qx '    context deadline exceeded' fuzz.out; then rm -f fuzz.out; exit 1; fi; \
				echo "== $$pkg $$fn: stopped at the deadline without a finding (the fuzz coordinator's race, golang/go#75804): not a failure"; \
			fi; \
		done; \
	done; rm -f fuzz.out

# Soak and fault test (root; not part of make test): $(SOAK) of floods,
# idle and IMIX on a veth pair with the interface taken down and up and
# deleted and re-created; counts exact, RSS, descriptors and threads flat.
soak:
	SOAK=$(SOAK) go test -count=1 -run '^TestSoak$$' -timeout 0 -v ./cmd

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt:"; echo "$$out"; exit 1; fi
	@# go.mod and go.sum say exactly what the code imports.
	go mod tidy -diff
	go vet ./...
	GOOS=darwin go vet $(PORTABLE)
	go run $(STATICCHECK) ./...
	@# x/sys/unix stays in the Linux files of ring/, display/term's tty file, and test tooling.
	@bad=$$(grep -l '"golang.org/x/sys/unix"' $$(git ls-files '*.go') | grep -v -E '^(ring/.*_linux(_test)?\.go|display/term/tty_unix(_test)?\.go|bench/(netns|gen)/.*\.go|bench/.*_linux(_test)?\.go)$$' || true); \
		if [ -n "$$bad" ]; then echo "x/sys/unix imported outside ring/*_linux.go: $$bad"; exit 1; fi

golden:
	go test ./display/report ./display/screen -run 'Golden|Render|Screen' -update

clean:
	rm -rf bin bench.txt
