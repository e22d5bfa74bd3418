# A thin front for the README's commands; the logic lives in tools/

.PHONY: help deps demo check bench

help:
	@echo "make demo    # = bash tools/demo.sh: installs what is missing, builds, runs the demo"
	@echo "make check   # = bash tools/check.sh: installs what is missing, runs the whole suite"
	@echo "make bench   # = bash tools/bench.sh: runs the benchmarks, redraws docs/benchmarks.md"

deps:
	@bash tools/deps.sh

demo:
	@bash tools/demo.sh

check:
	@bash tools/check.sh

bench:
	@bash tools/bench.sh
