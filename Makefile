# hall — the two commands are `make run` and `make test`.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VENDOR := hall/web/static/vendor

.PHONY: install run test bench lint clean assets translations emulators screens

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Browser assets come from the npm registry (pinned in package-lock.json) and are served locally.
$(VENDOR)/.stamp: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)/noto-sans-sc/files
	cp node_modules/socket.io-client/dist/socket.io.min.js node_modules/chart.js/dist/chart.umd.js $(VENDOR)/
	cp node_modules/axe-core/axe.min.js $(VENDOR)/  # the page checks inject it (tests/e2e/test_page_checks.py)
	cp node_modules/@fontsource/noto-sans-sc/400.css node_modules/@fontsource/noto-sans-sc/700.css \
	   $(VENDOR)/noto-sans-sc/
	cp node_modules/@fontsource/noto-sans-sc/files/*-400-normal.woff2 \
	   node_modules/@fontsource/noto-sans-sc/files/*-700-normal.woff2 $(VENDOR)/noto-sans-sc/files/
	touch $@

assets: $(VENDOR)/.stamp

translations: $(STAMP)
	$(BIN)/pybabel compile -f -d hall/translations

install: $(STAMP) assets translations

run: install
	$(BIN)/python app.py

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# A PNG of every page in every state, size, language and mode (tests/e2e/pages.py) into instance/screens/.
screens: install
	$(BIN)/python -m tests.e2e.screens

bench: install
	$(BIN)/python -m bench

# Every demo device in one process (docs/devices.md): receipt printers for the kiosks (9100, 9101) and the guide
# desk (9102), LED strips, keypads and rating pads of windows 1–2 (9201–9212). Type e.g. `keypad-1 n`, `pad-1 5`,
# `kiosk-1 out`; Ctrl-C stops them.
emulators: install
	$(BIN)/python -m devices.emulate hall

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) node_modules $(VENDOR) .pytest_cache
