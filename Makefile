# quotebot: `make run` and `make test` set everything up on a fresh machine and do the job.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup system run test lint clean

setup: system $(STAMP)

# Tesseract reads scanned PDF pages (OCR). Installed with apt-get when run as root; otherwise
# say how, and go on: quotebot then lists scanned pages as skipped in its build report.
system:
	@command -v tesseract >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing Tesseract (OCR of scanned PDF pages)"; \
			(apt-get update -qq && apt-get install -y -qq tesseract-ocr tesseract-ocr-eng) >/dev/null; \
		else \
			echo "note: Tesseract is not installed, scanned PDF pages will be skipped;" \
			     "install it with: sudo apt-get install tesseract-ocr tesseract-ocr-eng"; \
		fi; }

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

# The tests, then the layering contract (pyproject.toml [tool.importlinter]). The store
# backend suite runs on FAISS and embedded Qdrant; set QDRANT_URL to add a Qdrant server.
test: setup
	$(BIN)/python -m pytest -q --durations=15
	$(BIN)/lint-imports

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf .quotebot .pytest_cache
