# govbot tasks. The two commands a new user needs:
#   make run    install everything, train the model if needed, start the assistant
#   make test   install everything and run the whole test suite (what CI runs)
# `make help` lists the rest.

SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
export RASA_TELEMETRY_ENABLED ?= false

.PHONY: help run test install uv system lint train eval report bench validate clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

uv: ## make sure the uv package manager is available (installed from PyPI if missing)
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet --user uv \
	  || python3 -m pip install --quiet --user --break-system-packages uv

install: uv ## create .venv with the locked dependencies
	$(UV) sync --frozen

run: install ## train if needed, then start the web application, action server and Rasa server
	$(UV) run govbot run

test: install system ## lint, then the whole test suite (trains the model if needed)
	$(UV) run ruff check .
	$(UV) run pytest

SYSTEM_PACKAGES = chromium fonts-noto-cjk nginx-light

system: ## Debian packages the tests use: Chromium + CJK fonts (browser), nginx (cluster)
	@if command -v chromium >/dev/null && command -v nginx >/dev/null \
	    && fc-list :lang=zh | grep -q .; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(SYSTEM_PACKAGES) >/dev/null \
	  || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive \
	       apt-get install -y -q $(SYSTEM_PACKAGES) >/dev/null; }; \
	else echo "The tests need: sudo apt install $(SYSTEM_PACKAGES)"; exit 1; fi

lint: install ## ruff
	$(UV) run ruff check .

train: install ## train the Rasa model into models/ (skipped when current)
	$(UV) run govbot train

eval: install ## score the model and the baseline on both held-out sets; writes reports/
	$(UV) run govbot eval
	$(UV) run govbot eval --test data/nlu/heldout/real.yml --report

validate: install ## rasa data validate
	$(UV) run rasa data validate --data data/nlu data/rules

kb-eval: install ## score the knowledge base on its tuning and held-out question sets; writes reports/
	rm -rf var/kb-eval
	$(UV) run govbot kb ingest data/kb/policies --kb var/kb-eval
	for set in questions questions_holdout questions_holdout_2026; do \
	  $(UV) run govbot kb eval data/kb/$$set.yml --kb var/kb-eval --report || exit 1; done

report: eval kb-eval ## the evaluation reports, then the README's figure tables from the results files
	$(UV) run python bench/report.py

bench: install ## speed and memory benchmark; writes bench/results/
	$(UV) run python bench/speed.py

clean: ## remove trained models and run-time files
	rm -rf models/*.tar.gz models/*.fingerprint var .rasa
