# make run   - install, migrate, create keys, seed the demo, serve on http://$(HOST):$(PORT)
# make test  - install with test extras and the Debian packages the tests need, run pytest
# make bench - benchmark against a peer provider (see bench/README.md)

# Debian's python3.11 is built with profile-guided and link-time optimisation;
# a plain source build (pyenv's default) is not, and serves the provider's
# requests a fifth slower. It is taken where it can make a venv (Debian's
# python3.11-venv). Another interpreter: make PYTHON=...
DEBIAN_PYTHON := /usr/bin/python3.11
PYTHON ?= $(shell $(DEBIAN_PYTHON) -c 'import ensurepip' 2>/dev/null && echo $(DEBIAN_PYTHON) || echo python3)
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test bench lint debs clean translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# lxml and xmlsec must link the same libxml2: wheels only, never a local build.
$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	PIP_ONLY_BINARY=lxml,xmlsec $(BIN)/pip install -q -e '.[test]'
	$(BIN)/python -c 'import lxml.etree, xmlsec'
	touch $@

run: $(VENV)/.installed
	$(BIN)/idp db upgrade
	$(BIN)/idp keys ensure
	$(BIN)/idp demo
	ACCESS_LOG=1 $(BIN)/gunicorn -c config/gunicorn.py wsgi:app

# Debian packages for the test peers, installed only when missing; apt must not
# start system daemons (policy-rc.d), the tests start their own.
TEST_DEBS := postgresql chromium fonts-liberation fonts-ipafont-gothic xmlsec1 slapd ldap-utils redis-server
debs:
	@missing=""; for p in $(TEST_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing"; \
	  created=""; if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; created=1; fi; \
	  echo 'slapd slapd/no_configuration boolean true' | debconf-set-selections; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; rc=$$?; \
	  [ -n "$$created" ] && rm -f /usr/sbin/policy-rc.d; exit $$rc; \
	fi

test: $(VENV)/.installed debs
	$(BIN)/python -m pytest -q -p no:cacheprovider -n 2

lint: $(VENV)/.installed
	$(BIN)/ruff check idp tests bench

bench: $(VENV)/.installed
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var build *.egg-info

# Re-extract the page texts and recompile the Japanese catalogue after editing it.
translations: $(VENV)/.installed
	$(BIN)/pybabel extract -F idp/translations/babel.cfg -k _l -k lazy_gettext --no-location --omit-header -o idp/translations/messages.pot .
	$(BIN)/pybabel update -i idp/translations/messages.pot -d idp/translations --omit-header --no-fuzzy-matching
	$(BIN)/pybabel compile -d idp/translations
