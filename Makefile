# quotebot: `make run` and `make test` set everything up on a fresh machine and do the job.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup run test lint clean

setup: $(STAMP)

# CPU torch first: installing sentence-transformers first would pull the CUDA build.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Index seeds/ (incrementally), then serve: the Telegram bot when TELEGRAM_BOT_TOKEN is
# set, else a chat in this terminal with the same answers.
run: setup
	$(BIN)/quotebot index
	@if [ -n "$$TELEGRAM_BOT_TOKEN" ]; then \
		$(BIN)/quotebot bot; \
	else \
		echo "TELEGRAM_BOT_TOKEN is not set: answering in the terminal instead (quotebot chat)."; \
		$(BIN)/quotebot chat; \
	fi

test: setup
	$(BIN)/python -m pytest -q

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf .quotebot .pytest_cache
