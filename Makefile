# Two entry points for a fresh machine: `make demo` and `make test`. Each creates .venv and installs what it needs.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench evidence mutation clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

demo: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/banditmap recommend --usecase homepage-banner --explain

# mypy runs beside the suite (one process, done long before it; its report comes when it ends); the suite's
# summary stays the last line, and the target fails if either fails. TESTS: run only these paths.
TESTS ?=
test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@( $(BIN)/python -m mypy > $(VENV)/mypy.log 2>&1; status=$$?; sed 's/^/mypy: /' $(VENV)/mypy.log; \
	   exit $$status ) & types=$$!; \
	$(BIN)/python -m pytest -q --numprocesses=auto --maxprocesses=4 --dist loadfile $(TESTS); tests=$$?; \
	wait $$types; typed=$$?; \
	if [ $$typed -ne 0 ]; then echo "mypy failed (its report above)"; fi; \
	[ $$tests -eq 0 ] && [ $$typed -eq 0 ]

bench: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/python benchmarks/recommender.py
	$(BIN)/python benchmarks/replay.py
	$(PYTHON) -m venv .venv-bench
	.venv-bench/bin/python -m pip install --quiet -e . mabwiser
	.venv-bench/bin/python benchmarks/simulator.py

# The evidence the ranking uses (catalog/evidence/evidence.json): every simulated candidate raced over the grid of
# problem classes in catalog/evidence/grid.yaml. Resumes an interrupted build; about 2 minutes on 2 quiet cores once
# the kernels are compiled.
evidence: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/banditmap evidence build --out catalog/evidence/evidence.json --force

# The mutation score of the core modules (tools/mutation.py): slow, so not part of `make test` or CI. mutmut is
# pinned because tests/mutation-equivalent.txt names mutants as this version numbers them.
mutation: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]' 'mutmut==3.8.1'
	$(BIN)/python tools/mutation.py

clean:
	rm -rf $(VENV) build dist *.egg-info
