# The two commands that matter on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
PIP := $(PYTHON) -m pip
DEMO_OUT ?= demo_output

.PHONY: install install-magenta demo test

install:
	$(PIP) install -q -e ".[test]"
	$(PIP) install -q --no-deps molsets==0.3.1

# magenta is the reference oracle of the parity tests; it pins TF 2.9, so no dependency resolution.
install-magenta: install
	$(PIP) install -q --no-deps magenta==2.1.4
	$(PIP) install -q -r requirements-magenta.txt

demo: install
	$(PYTHON) -m sequence_tutor_tf.cli.main demo --output-dir $(DEMO_OUT)

test: install-magenta install-audio install-js
	$(PIP) install -q -e ".[ray]"   # the optional extra tests/test_sweep.py runs on
	# Two workers, one test file each (module fixtures are built once): the suite is mostly
	# Python-bound tracing and subprocess start-up, so 2 processes use both cores.
	TF_CPP_MIN_LOG_LEVEL=2 $(PYTHON) -m pytest -q -n 2 --dist loadfile --durations=25 tests

# Optional: FluidSynth and a General MIDI soundfont, so music/audio.py renders WAVs with real
# instruments instead of its sine fallback (Debian/Ubuntu; needs root).
.PHONY: install-audio
install-audio:
	command -v fluidsynth >/dev/null || (apt-get update -q && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q fluidsynth fluid-soundfont-gm) || \
		echo "FluidSynth not installed (needs root): audio renders with the sine fallback"

# The real clients of the Magenta.js export's tests (tests/test_export_magenta_js.py):
# @magenta/music, node-fetch and playwright-core at the versions js/package-lock.json pins, and
# Debian's chromium for the page. Without npm or root the tests that need them are skipped
# (with CI set they fail instead).
.PHONY: install-js
install-js:
	@if ! command -v npm >/dev/null; then \
		echo "npm not found (needs Node.js 20+): the Magenta.js client tests will be skipped"; \
	elif cmp -s js/package-lock.json js/node_modules/.installed-package-lock.json; then \
		echo "js/node_modules is up to date with js/package-lock.json"; \
	else (cd js && npm ci --no-audit --no-fund --loglevel=error && \
		cp package-lock.json node_modules/.installed-package-lock.json) || \
		echo "npm ci in js/ failed: the Magenta.js client tests will be skipped"; fi
	test -x /usr/bin/chromium || (apt-get update -q && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q chromium) || \
		echo "chromium not installed (needs root): the Magenta.js page test will be skipped"
