# The two commands of the README: `make run` and `make test`. Everything installs itself into .venv.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
STAGE ?= prod

.PHONY: run test job package bench resources clean chromium lint-template reset

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

# The laptop stack; LOCAL_CLOCK=2026-12-01T09:30+08:00 runs its clock from that moment. It keeps its state in
# .local/ between runs; `make reset` starts the next run from the seed again.
run: $(STAMP)
	$(PY) -m local.stack

reset: $(STAMP)
	$(PY) -m local.stack --reset

# The browser tests drive Debian's Chromium (never a downloaded browser); CJK fonts so that the pages (and the
# screenshots) show Chinese. Installed with apt-get when missing: as root, or through sudo.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
chromium:
	@test -x /usr/bin/chromium && fc-list :lang=zh 2>/dev/null | grep -q . || { \
		echo "make: installing Debian's chromium and fonts-noto-cjk with apt-get (browser tests)"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-noto-cjk; }

test: $(STAMP) chromium
	$(PY) -m pytest $(PYTEST_ARGS)

job: $(STAMP)
	$(PY) -m local.jobs $(NAME) $(ARGS)

resources: $(STAMP)
	$(PY) -m tools.gen_resources --policy

package: $(STAMP)
	$(PY) -m tools.gen_resources --check
	$(PY) -m tools.gen_resources --stage $(STAGE) --out build/resources.$(STAGE).json
	rm -rf build/package
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-cn-north-1} $(VENV)/bin/chalice package --stage $(STAGE) \
		--merge-template build/resources.$(STAGE).json build/package
	$(PY) -m tools.precompile build/package/deployment.zip build/package/layer-deployment.zip
	$(MAKE) --no-print-directory lint-template TEMPLATE=build/package/sam.json
	@ls -l build/package

# The template's lint, exactly as `make package` runs it (tests/test_deploy.py runs this target too):
# any finding, warnings and informational ones included, fails it.
TEMPLATE ?= build/package/sam.json
lint-template:
	$(VENV)/bin/cfn-lint --regions cn-north-1 cn-northwest-1 --non-zero-exit-code informational -- $(TEMPLATE)

bench: $(STAMP)
	$(PY) -m bench.run_all

clean:
	rm -rf $(VENV) build .local .pytest_cache

# One compressed day of the demo district against a private laptop stack (local/simulate/): the report is
# .local/simulate/report.html. ARGS="--faults --month-end", or the scale mode "--accounts 10000 --residents 100000".
.PHONY: simulate
simulate: $(STAMP)
	$(PY) -m local.simulate $(ARGS)
