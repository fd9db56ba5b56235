# Two commands: `make demo` and `make test`. Everything else is set up on the way.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
ZK_STAMP := $(VENV)/.installed-zk

.PHONY: demo test contracts check-contracts venv npm clean

demo: $(PY_STAMP)
	$(BIN)/vcp demo

test: $(PY_STAMP) $(ZK_STAMP) $(NPM_STAMP)
	$(BIN)/python -m pytest

venv: $(PY_STAMP)
npm: $(NPM_STAMP)

$(PY_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

# The zk baseline (EZKL) is an optional extra for users; the tests run it, so `make test` adds it.
$(ZK_STAMP): $(PY_STAMP)
	$(BIN)/python -m pip install --quiet -e ".[test,zk]"
	touch $@

# Installs the lockfile's versions: solc (solcjs), @foundry-rs/anvil, ganache. Not `npm ci`:
# npm 11 records only this platform's anvil binary in the lockfile and `npm ci` then refuses it.
$(NPM_STAMP): package.json package-lock.json
	npm install --no-audit --no-fund
	touch $@

# Rebuild the committed artifacts after changing a .sol file.
contracts: $(NPM_STAMP)
	node contracts/compile.mjs

check-contracts: $(NPM_STAMP)
	node contracts/compile.mjs --check

clean:
	rm -rf $(VENV) node_modules .pytest_cache .hypothesis .vcp
