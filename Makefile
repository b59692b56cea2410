# Camp: the two commands a newcomer needs are `make run` and `make test`.
# The virtual environment is built from Debian's /usr/bin/python3 when it exists, because the
# grading sandbox runs student code as an unprivileged user who must be able to enter it.
PYTHON ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast system-deps install clean

run: install
	$(BIN)/camp db upgrade
	$(BIN)/camp course load courses/dl-bootcamp.yaml
	$(BIN)/camp serve

test: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/pytest

# The daily loop: the embedded stack only (no PostgreSQL copies), no browser, no fault injection,
# nothing marked slow, two test processes. `make test` stays the gate before landing. (The browser
# and fault folders are not even collected: their fixtures import Playwright and the fault kit.)
test-fast: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/pytest -q -m "not browser and not faults and not slow" --one-stack -n 2 --dist loadfile \
		--ignore=tests/browser --ignore=tests/faults

install: $(STAMP)

# The sandbox needs bubblewrap and libseccomp; browser tests need Chromium and CJK fonts for readable
# screenshots; the compose test needs docker-compose. All come from Debian.
DEB_PACKAGES := bubblewrap libseccomp2 chromium fonts-noto-cjk docker-compose
system-deps:
	@if ! dpkg -s $(DEB_PACKAGES) >/dev/null 2>&1; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -q && $$SUDO apt-get install -y -q $(DEB_PACKAGES); \
	fi

$(STAMP): pyproject.toml constraints.txt | system-deps
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip==26.3
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) var

# Refresh the message catalogs after changing user-visible strings, then translate the new
# entries in locales/zh_CN/LC_MESSAGES/messages.po (tests fail on any untranslated msgid).
KEYWORDS := -k _ -k translate:2 -k lazy -k NotAuthenticated -k Forbidden -k NotFound \
	-k Conflict -k TooLarge -k UnsupportedMedia -k Invalid -k CampError -k translatable
.PHONY: messages
messages: install
	$(BIN)/pybabel extract -F babel.cfg $(KEYWORDS) --no-location -o locales/messages.pot .
	$(BIN)/pybabel update -i locales/messages.pot -d locales -l zh_CN --no-fuzzy-matching
