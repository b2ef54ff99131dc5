# `make demo`, `make demo-train` and `make test` work from a clean clone: they create .venv and install into it.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP_INSTALL := $(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt
# System packages for synthetic lines (fonts, English text) and the Tesseract benchmark; added with
# apt-get when run as root on Debian/Ubuntu, otherwise listed for you to install.
FONT_PACKAGES := fonts-dejavu fonts-liberation fonts-liberation2 fonts-freefont-ttf fonts-urw-base35 \
	fonts-texgyre fonts-linuxlibertine fonts-ebgaramond fonts-crosextra-carlito fonts-crosextra-caladea \
	fonts-roboto fonts-open-sans fonts-cantarell fonts-go fonts-lato fonts-inconsolata fonts-sil-gentium \
	fonts-sil-charis fonts-quattrocento fonts-tlwg-typewriter fonts-courier-prime fonts-dkg-handwriting \
	fonts-breip fonts-humor-sans fonts-comic-neue
# chromium: the web page's browser test drives it headless through Playwright (never `playwright install`)
# default-jre-headless: METEOR in pycocoevalcap runs on Java (captioning eval skips METEOR without it)
SYSTEM_PACKAGES := fontconfig $(FONT_PACKAGES) wamerican wbritish fortunes fortunes-min tesseract-ocr tesseract-ocr-eng \
	chromium default-jre-headless

.PHONY: install demo demo-train test lint bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "apt-get install: fonts, word lists, tesseract, chromium and java"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			$(SYSTEM_PACKAGES)) >/dev/null 2>&1 || echo "warning: apt-get failed; synthetic lines need fonts, the browser test chromium"; \
	else \
		echo "note: not root or no apt-get; for synthetic lines, the benchmark and the browser test install: $(SYSTEM_PACKAGES)"; \
	fi
	$(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) torch==2.13.0
	$(PIP_INSTALL) -e '.[dev]'
	touch $@

# reads a whole sample page and the sample lines with the bundled models (a few seconds)
demo: install
	$(PY) examples/demo.py

# renders lines, trains a small reader for three minutes, evaluates it and reads the sample lines
demo-train: install
	$(PY) examples/demo_train.py

# pytest exit code 5 (nothing collected) is a failure, never a silent pass
# The OpenVINO tests run in a process of their own: OpenVINO's CPU runtime and torch's forked
# DataLoader workers / gloo processes in one process can crash it (SIGSEGV), whichever comes first.
test: install
	$(PY) -m pytest -q --ignore=tests/test_openvino.py; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "error: no tests were collected" >&2; exit 1; fi; [ $$rc -eq 0 ] || exit $$rc; \
	$(PY) -m pytest -q tests/test_openvino.py

lint: install
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/ruff format --check src tests benchmarks examples
	$(VENV)/bin/mypy src

bench: install
	$(PY) benchmarks/train_speed.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache
