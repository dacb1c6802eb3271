# Two entry points: `make run` (whole pipeline on the sandbox) and `make test` (whole suite).
# Both create .venv on first use from constraints.txt, so a fresh machine needs only python3 >= 3.11.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat constraints.txt pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test env lock dagster clean

env: $(STAMP)

$(STAMP): constraints.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check uv
	@# --compile-bytecode: ship .pyc files like pip does; without them every dbt, sfa and pytest start
	@# compiles dbt and Dagster from source again where PYTHONDONTWRITEBYTECODE is set (~1 s per dbt call).
	@$(BIN)/uv pip install -q -p $(BIN)/python -c constraints.txt -e '.[dev]' --compile-bytecode
	@rm -f $(VENV)/.installed-* && touch $@

run: $(STAMP)
	$(BIN)/sfa run

test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

dagster: $(STAMP)
	$(BIN)/sfa ui

lock:
	uv pip compile requirements.in -o constraints.txt --python-version 3.11

clean:
	rm -rf warehouse .dagster_home dbt_project/target dbt_project/logs
