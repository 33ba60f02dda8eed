# Two commands on a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)

.PHONY: demo test lint typecheck bench chaos eval install clean postgres node chromium nginx compat

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[dev]"
	rm -f $(VENV)/.installed-*; touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/proctor demo

postgres:
	bash scripts/ensure-postgres.sh

node:
	bash scripts/ensure-node.sh

chromium:
	bash scripts/ensure-chromium.sh

nginx:
	bash scripts/ensure-nginx.sh

# langchain-mcp-adapters needs mcp<2: its own virtual environment (.tools/compat-venv)
compat:
	PY=$(PY) bash scripts/ensure-compat.sh

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) postgres node chromium nginx compat lint typecheck
	$(BIN)/pytest -q -p no:cacheprovider --import-mode=importlib --doctest-modules src/proctor tests

bench: $(STAMP) postgres node
	$(BIN)/python -m bench

# the injection evaluation (issue 15): replays tests/scenarios/eval/traces under the starter policies,
# prints benign utility (with and without approvals), the attack-block rate and the approvals needed,
# writes bench/out/eval.json. EVAL_ARGS e.g. "--policies DIR" or "--strict" (exit 1 below target)
eval: $(STAMP)
	$(BIN)/python tests/scenarios/eval/build.py --check
	$(BIN)/python tests/scenarios/eval/run.py $(EVAL_ARGS)
	@mkdir -p bench/out
	@for h in holdout holdout2 holdout3 holdout4 holdout5 holdout6 holdout7 holdout8 holdout9 holdout10; do \
	  echo "--- tests/scenarios/$$h: written blind to the policies (reported, not a target; how each set was used and its blind figures: docs/adr/0025)"; \
	  $(BIN)/proctor replay tests/scenarios/$$h/traces/*.jsonl --policies src/proctor/starter --no-baseline --json > bench/out/$$h.json || exit 1; \
	  $(BIN)/python tests/scenarios/$$h/score.py bench/out/$$h.json > bench/out/$$h.txt || exit 1; head -3 bench/out/$$h.txt; \
	done

# the crash, fault and tamper campaign (issue 12): not part of `make test`; its own budget,
# CHAOS_MINUTES (default 15), CHAOS_SEED (default random, printed), CHAOS_CLIENTS (default 4)
chaos: $(STAMP) postgres
	$(BIN)/python -m bench.chaos

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache bench/out
