# The two commands that matter on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
PIP := $(PYTHON) -m pip
DEMO_OUT ?= demo_output

.PHONY: install install-magenta demo test

install:
	$(PIP) install -q -e ".[test]"

# magenta is the reference oracle of the parity tests; it pins TF 2.9, so no dependency resolution.
install-magenta: install
	$(PIP) install -q --no-deps magenta==2.1.4
	$(PIP) install -q -r requirements-magenta.txt

demo: install
	TF_CPP_MIN_LOG_LEVEL=2 $(PYTHON) -m sequence_tutor_tf.cli.main demo --output-dir $(DEMO_OUT)

test: install-magenta
	TF_CPP_MIN_LOG_LEVEL=2 $(PYTHON) -m pytest -q tests
