# Two commands do all the set-up: `make demo` (the main job on the sample corpus) and
# `make test` (the whole test suite). Both create .venv and install coder into it first.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
OUT    := out
export CODER_DB := $(OUT)/coder.db

.PHONY: demo test bench bench-quick clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m compileall -q src
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m compileall -q src
	rm -rf $(OUT) && mkdir -p $(OUT)
	$(BIN)/coder import transcripts --meta transcripts/participants.csv
	$(BIN)/coder transcripts list
	$(BIN)/coder codebook load codebooks/csto-2022.yaml
	$(BIN)/coder codings import codings/alice.csv --coder alice --new-coder
	$(BIN)/coder codings import codings/bob.csv --coder bob --new-coder
	$(BIN)/coder codings import codings/carol.csv --coder carol --new-coder
	$(BIN)/coder status
	$(BIN)/coder agreement --bootstrap 1000
	$(BIN)/coder reconcile --coders alice,bob,carol --rule majority --as consensus
	$(BIN)/coder agreement --bootstrap 1000 --format json -o $(OUT)/agreement.json \
	  --sampling "All 11 interviews were coded independently by all three coders." \
	  --report $(OUT)/reliability.html
	$(BIN)/coder report themes --by country --coder consensus --format md -o $(OUT)/themes-by-country.md
	$(BIN)/coder report themes --by country --coder consensus --format latex -o $(OUT)/themes-by-country.tex
	$(BIN)/coder report themes --by country --coder consensus --codes --format json -o $(OUT)/codes-by-country.json
	$(BIN)/coder report cooccurrence --coder consensus --plot $(OUT)/cooccurrence.svg --format csv -o $(OUT)/cooccurrence.csv
	$(BIN)/coder report saturation --coder consensus --plot $(OUT)/saturation.png --format md -o $(OUT)/saturation.md
	$(BIN)/coder quotes --theme security_community.established --coder consensus -o $(OUT)/quotes-established.md
	$(BIN)/coder report themes --by country --coder consensus --codes --plot $(OUT)/themes-by-country.png
	$(BIN)/coder autocode keywords --themes
	$(BIN)/coder agreement --coders consensus,auto:keywords --by language

test: $(STAMP)
	bash scripts/ensure-postgres
	bash scripts/ensure-texlive
	bash scripts/ensure-chromium
	bash scripts/ensure-python312
	bash scripts/ensure-tmux
	$(BIN)/python -m pytest -q -n 2 -p no:cacheprovider

clean:
	rm -rf $(VENV) $(OUT)
