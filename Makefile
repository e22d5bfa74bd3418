# A thin front for the README's two commands; the logic lives in tools/.

.PHONY: help deps demo check

help:
	@echo "make demo    # = bash tools/demo.sh: installs what is missing, builds, runs the demo"
	@echo "make check   # = bash tools/check.sh: installs what is missing, runs the whole suite"

deps:
	@bash tools/deps.sh

demo:
	@bash tools/demo.sh

check:
	@bash tools/check.sh
