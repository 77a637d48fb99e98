# pipelines/train-mixture.mk: T0's recipe as make rules; the top-level Makefile runs it
# (make train-mixture, make eval, make finetune; see README.md and pipelines/README.md).
#
#   make train-mixture                    the bundled default: WordNet tasks, offline, minutes
#   make train-mixture MIXTURE=t0_train DATA=dir TEMPLATES=dir MODEL=dir
#   make eval [MODEL=dir] [DATA=dir TEMPLATES=dir] [TOKENS=file]
#
# Every intermediate stream is a file under WORK, one a task (a template of a dataset, as in
# T0's seqio registry), so make redoes only what changed: touching one templates.yaml
# re-renders that dataset's tasks and nothing else upstream.

T0_BIN ?= bin
BIN := $(T0_BIN)
export T0_BIN
ifndef MIXTURE
MIXTURE := $(if $(DATA),t0,wordnet)
endif
WORK ?= work/$(MIXTURE)
TRAIN := $(WORK)/train
EVALW := $(WORK)/eval
SEED ?= 1
CAP ?= 500000
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
FORCE:
.PHONY: FORCE train-mixture eval eval-report eval-inputs finetune finetune-run tokens
.DELETE_ON_ERROR:
.SECONDARY:
.SUFFIXES:

T0_MIXTURES := t0_train t0+_train t0++_train t0_train_one_og_prompt t0_train_all_og_prompts

ifeq ($(MIXTURE),wordnet)
# ---- the bundled default: four tasks about a word's class from WordNet, one held out -----
WORDNET ?= /usr/share/wordnet
WN_MAX ?= 20000
WN_FORMS_ROWS ?= 5000
# wordforms.awk: a word's class (part of speech) asked four ways; the default's mixture
WN_FORMS := wordnet_word_class wordnet_class_yes_no wordnet_same_root wordnet_class_in_sentence
# wordnet.awk: word senses and relations (WN_TASKS="$(WN_SENSES)" HELD_OUT=wordnet_gloss);
# the small default model stays at chance on all but wordnet_pos (pipelines/README.md)
WN_SENSES := wordnet_definition wordnet_gloss wordnet_synonyms wordnet_antonyms wordnet_hypernyms wordnet_pos
WN_TASKS ?= $(WN_FORMS)
HELD_OUT ?= wordnet_class_in_sentence
DATA := $(WORK)/data
TEMPLATES ?= prompts
TRAIN_DATASETS := $(filter-out $(HELD_OUT),$(WN_TASKS))
EVAL_DATASETS := $(WN_TASKS)
EVAL_MAX ?= 200
VOCAB ?= 4000
MODEL_CONFIG ?= pipelines/wordnet-model.json
SPM := $(WORK)/spm/spiece.model
PRETRAINED := $(WORK)/pretrained
MODEL ?= $(PRETRAINED)
OUT ?= $(WORK)/model
INPUT_LEN ?= 128
TARGET_LEN ?= 64
ROWS ?= 32
ACCUM ?= 1
STEPS ?= 600
LR ?= 1e-3
STEP_OFFSET ?= 0
SAVE_EVERY ?= 50
KEEP :=
WARMUP ?= $(shell echo $$(($(STEPS) / 10)))
# no dropout: at this size and budget it only slowed learning (pipelines/README.md)
DROPOUT ?= 0
TRAIN_FLAGS ?= --optimizer adamw --schedule linear --warmup $(WARMUP) --dropout $(DROPOUT)
SELECT := all
SIZES :=
DATA_STAMP := $(WORK)/data/.done
EVAL_VARS = SPLIT=validation MAX=$(EVAL_MAX) DATASETS="$(EVAL_DATASETS)"
DECODE_PROMPT ?= "the children played noisily in the yard" What part of speech is "noisily" in this sentence?

WN_CORE ?= 3
WN_FILES = $(WORDNET)/data.noun $(WORDNET)/data.verb $(WORDNET)/data.adj $(WORDNET)/data.adv
# the converters' settings: changing one makes the data (and the text) again
$(WORK)/wordnet.vars: FORCE
	@mkdir -p $(@D); v='$(WORDNET) $(WN_MAX) $(WN_CORE) $(SEED) $(WN_FORMS_ROWS)'; echo "$$v" | cmp -s - $@ || echo "$$v" > $@
$(DATA_STAMP): pipelines/wordnet-lib.awk pipelines/wordnet.awk pipelines/wordforms.awk $(WORK)/wordnet.vars
	@echo "wordnet  $(WORDNET)/data.* -> $(DATA)/wordnet_*/{train,validation}.jsonl"
	@test -f $(WORDNET)/data.noun || { echo "make: $(WORDNET)/data.noun is missing: install Debian's wordnet-base (make deps)" >&2; exit 1; }
	@rm -rf $(DATA) && for t in $(WN_SENSES) $(WN_FORMS); do mkdir -p $(DATA)/$$t; done
	@LC_ALL=C awk -v out=$(DATA) -v max=$(WN_MAX) -v seed=$(SEED) -v core=$(WN_CORE) -f pipelines/wordnet-lib.awk -f pipelines/wordnet.awk $(WN_FILES)
	@LC_ALL=C awk -v out=$(DATA) -v max=$(WN_FORMS_ROWS) -v seed=$(SEED) -f pipelines/wordnet-lib.awk -f pipelines/wordforms.awk $(WN_FILES)
	@wc -l $(DATA)/*/*.jsonl | sed 's/^/         /'
	@touch $@

include pipelines/pretrain.mk

else ifneq ($(filter $(MIXTURE),$(T0_MIXTURES) t0 finetune),)
# ---- T0's mixtures over a DATA folder and promptsource's templates (finetune: make finetune's
# own run over one dataset) ------------------------------------------------------------------
DATA ?=
TEMPLATES ?=
# a trailing slash (TEMPLATES=promptsource/) would join as // in every path made from it
override DATA := $(patsubst %/,%,$(DATA))
override TEMPLATES := $(patsubst %/,%,$(TEMPLATES))
ifneq ($(wildcard $(TEMPLATES)/templates/ag_news),)
override TEMPLATES := $(TEMPLATES)/templates
endif
STAGES_t0_train := BASE
STAGES_t0+_train := BASE GPT_EVAL
STAGES_t0++_train := BASE GPT_EVAL SGLUE
STAGES_t0_train_one_og_prompt := BASE
STAGES_t0_train_all_og_prompts := BASE
SELECT := $(if $(findstring one_og,$(MIXTURE)),first-original,$(if $(findstring all_og,$(MIXTURE)),original,all))
# ONLY= restricts the mixture to some of its datasets (a trial run on a part of the data)
TRAIN_DATASETS := $(shell awk -F '\t' '!/^\#/ && index(" $(STAGES_$(MIXTURE)) ", " " $$3 " ") { print $$1 }' pipelines/t0/datasets.tsv)
ifneq ($(ONLY),)
TRAIN_DATASETS := $(filter $(ONLY),$(TRAIN_DATASETS))
endif
EVAL_DATASETS := $(ONLY_EVAL)
SIZES := $(WORK)/sizes.tsv
ifeq ($(MIXTURE),finetune)
TRAIN_DATASETS := $(DATASET)
EVAL_DATASETS := $(DATASET)
EVAL_LIST :=
SIZES :=
endif
SPM = $(MODEL)
OUT ?= $(WORK)/model
INPUT_LEN ?= 1024
TARGET_LEN ?= 256
ROWS ?= 8
ACCUM ?= $(shell echo $$((1024 / $(ROWS))))
STEPS ?= 12200
LR ?= 1e-3
STEP_OFFSET ?= 1100000
SAVE_EVERY ?= 1000
KEEP ?= 1
TRAIN_FLAGS ?=
EVAL_MAX ?= 0
DATA_STAMP :=
EVAL_LIST ?= pipelines/t0/eval-templates.tsv
EVAL_VARS = EVAL_LIST=$(EVAL_LIST) SPLIT=validation MAX=$(EVAL_MAX) DATASETS="$(EVAL_DATASETS)"
DECODE_PROMPT ?= Is this review positive or negative? Review: this is the best cast iron skillet you will ever buy

$(SIZES): pipelines/t0/datasets.tsv
	@mkdir -p $(@D) && awk -F '\t' '!/^#/ { print $$1 "\t" $$5 }' $< > $@
else
$(error MIXTURE is wordnet (the default) or one of $(T0_MIXTURES), not $(MIXTURE))
endif

EVAL_MODEL ?= $(if $(and $(filter command line,$(origin MODEL)),$(filter eval eval-report eval-inputs,$(MAKECMDGOALS))),$(MODEL),$(OUT))
EVAL_SPM = $(if $(filter $(OUT),$(EVAL_MODEL)),$(SPM),$(EVAL_MODEL))
MIX := $(TRAIN)/mixture.tsv
TRAIN_VARS = DATA="$(DATA)" TEMPLATES="$(TEMPLATES)" DATASETS="$(TRAIN_DATASETS)" SELECT=$(SELECT) CAP=$(CAP) SIZES="$(SIZES)"

check-inputs = $(if $(DATA),,$(error DATA= is required for MIXTURE=$(MIXTURE): a folder of dataset[/subset]/split.jsonl[.zst] (pipelines/README.md)))$(if $(TEMPLATES),,$(error TEMPLATES= is required for MIXTURE=$(MIXTURE): promptsource's templates folder))
need = @for t in $(1); do test -x $(BIN)/$$t || { echo "make: $(BIN)/$$t is not built yet (it is still being written): stopping before $(2)" >&2; exit 1; }; done

# The task lists, made again when the templates, the data or the settings change.
$(WORK)/train.vars $(WORK)/eval.vars: FORCE
	@mkdir -p $(@D); v='$(if $(findstring train,$(notdir $@)),$(TRAIN_VARS),$(EVAL_VARS) DATA="$(DATA)" TEMPLATES="$(TEMPLATES)")'; \
	    echo "$$v" | cmp -s - $@ || echo "$$v" > $@
$(WORK)/train.mk: $(WORK)/train.vars $(DATA_STAMP) $(SIZES) pipelines/tasks.sh pipelines/templates.awk \
                  $(wildcard $(TRAIN_DATASETS:%=$(TEMPLATES)/%/templates.yaml))
	$(if $(DATA_STAMP),,$(check-inputs))
	@$(TRAIN_VARS) VAR=TRAIN_TASKS DIR=TRAIN sh pipelines/tasks.sh train $@ $(MIX)
EVAL_YAML_DATASETS = $(or $(EVAL_DATASETS),$(if $(EVAL_LIST),$(shell awk -F "\t" "!/^#/ { print \$$1 }" $(EVAL_LIST) | sort -u)))
$(WORK)/eval.mk: $(WORK)/eval.vars $(DATA_STAMP) pipelines/tasks.sh pipelines/templates.awk $(EVAL_LIST) \
                 $(wildcard $(EVAL_YAML_DATASETS:%=$(TEMPLATES)/%/templates.yaml))
	$(if $(DATA_STAMP),,$(check-inputs))
	@$(EVAL_VARS) DATA="$(DATA)" TEMPLATES="$(TEMPLATES)" VAR=EVAL_TASKS DIR=EVALW sh pipelines/tasks.sh eval $@
$(MIX): $(WORK)/train.mk

ifneq ($(filter train-mixture tokens finetune-run,$(MAKECMDGOALS))$(if $(MAKECMDGOALS),,default),)
include $(WORK)/train.mk
endif
ifneq ($(filter train-mixture eval eval-report eval-inputs finetune-run,$(MAKECMDGOALS))$(if $(MAKECMDGOALS),,default),)
ifeq ($(TOKENS),)
include $(WORK)/eval.mk
endif
endif

# make eval scores a model that exists; it never starts a training run
ifneq ($(filter eval eval-report,$(MAKECMDGOALS)),)
ifeq ($(filter train-mixture,$(MAKECMDGOALS))$(TOKENS)$(wildcard $(EVAL_MODEL)/config.json),)
$(error no model at $(EVAL_MODEL): make train-mixture first, or name one with MODEL=dir)
endif
endif

TRAIN_TOK := $(TRAIN_TASKS:%=$(TRAIN)/tok/%.t0)
EVAL_TOK := $(EVAL_TASKS:%=$(EVALW)/tok/%.t0)
EVAL_SCORES := $(EVAL_TASKS:%=$(EVALW)/scores/%.t0)

# T0's inputs carry no EOS and targets one (t0-tokenize's defaults); lengths cut here already.
$(TRAIN)/tok/%.t0: $(TRAIN)/render/%.t0 $(if $(DATA_STAMP),$(SPM),)
	@mkdir -p $(@D)
	@$(BIN)/t0-tokenize -m $(SPM) --input-len $(INPUT_LEN) --target-len $(TARGET_LEN) -o $@ $<
$(EVALW)/tok/%.t0: $(EVALW)/render/%.t0 $(if $(DATA_STAMP),$(EVAL_SPM),)
	@mkdir -p $(@D)
	@$(BIN)/t0-tokenize -m $(EVAL_SPM) --input-len $(INPUT_LEN) -o $@ $<

tokens: $(TRAIN_TOK) $(MIX)
	@echo "tokens   $(words $(TRAIN_TOK)) tasks in $(MIX)"
eval-inputs: $(EVAL_TOK)
	@echo "eval     $(words $(EVAL_TOK)) tasks in $(EVALW)/tok"

# Training: t0-pack draws from the mixture with T0's rates and packs; t0-step trains. Into
# OUT.tmp first: a failed run leaves the last good model as it was.
$(OUT)/config.json: $(MIX) $(TRAIN_TOK) $(MODEL)/config.json
	$(call need,t0-pack t0-step,training)
	@echo "train    $(STEPS) steps of $(ROWS) rows x $(ACCUM), $(INPUT_LEN)/$(TARGET_LEN) tokens, lr $(LR), from $(MODEL)"
	@rm -rf $(OUT).tmp
	@$(BIN)/t0-pack --input-len $(INPUT_LEN) --target-len $(TARGET_LEN) --rows $(ROWS) \
	    --mixture $(MIX) --seed $(SEED) --batches $$(($(STEPS) * $(ACCUM))) | \
	  $(BIN)/t0-step -m $(MODEL) -o $(OUT).tmp --lr $(LR) --accum $(ACCUM) --step-offset $(STEP_OFFSET) \
	    --steps $(STEPS) --save-every $(SAVE_EVERY) $(if $(KEEP),--keep $(KEEP)) --seed $(SEED) $(TRAIN_FLAGS) --log $(WORK)/loss.tsv.tmp
	@rm -rf $(OUT) && mv $(OUT).tmp $(OUT) && mv $(WORK)/loss.tsv.tmp $(WORK)/loss.tsv
$(WORK)/loss.tsv: $(OUT)/config.json
$(WORK)/loss.png: $(WORK)/loss.tsv pipelines/loss.gp
	@awk -F '\t' '$$1 ~ /^[0-9]+$$/ { print $$1 "\t" $$2 "\t" $$10 }' $< > $(WORK)/loss.dat
	@gnuplot -e "in='$(WORK)/loss.dat'; out='$@.tmp'" pipelines/loss.gp && mv $@.tmp $@
	@echo "plot     $@ (final loss $$(tail -n 1 $(WORK)/loss.dat | cut -f 2), per target token $$(tail -n 1 $(WORK)/loss.dat | cut -f 3))"

# Evaluation: rank classification of every original-task template with choices, one score
# stream a task, then the table (median over templates, chance beside it).
$(EVALW)/scores/%.t0: $(EVALW)/tok/%.t0 $(EVAL_MODEL)/config.json
	$(call need,t0-score,scoring)
	@mkdir -p $(@D)
	@$(BIN)/t0-score -m $(EVAL_MODEL) -o $@ $<
$(WORK)/report.txt: $(EVAL_SCORES)
	@bash pipelines/report.sh $^ > $@.tmp && mv $@.tmp $@

eval-report: $(WORK)/report.txt
	@echo "== $(EVAL_MODEL): accuracy (%) by rank classification, $(if $(DATA_STAMP),validation splits; $(HELD_OUT) held out of training,T0's held-out evaluation)"
	@cat $<

# Sharded scoring of one token stream under GNU parallel (pipelines/eval.mk, t0-score's), on
# other hosts with HOSTS=: make eval TOKENS=file, or the evaluation's own tasks with HOSTS= set.
eval_sharded = @test -f pipelines/eval.mk || { echo "make: pipelines/eval.mk (sharded scoring) is not written yet" >&2; exit 1; }; \
	PATH=$(abspath $(BIN)):$$PATH $(MAKE) --no-print-directory -f pipelines/eval.mk eval-tokens EVAL_BIN=$(abspath $(BIN)) MODEL=$(EVAL_MODEL) \
	    TOKENS="$(1)" WORK=$(2) $(if $(SHARDS),SHARDS=$(SHARDS)) $(if $(HOSTS),HOSTS=$(HOSTS))
ifneq ($(TOKENS),)
eval:
	+$(call eval_sharded,$(TOKENS),$(WORK)/sharded)
else ifneq ($(HOSTS),)
eval: $(EVAL_TOK)
	@cat $(EVAL_TOK) > $(EVALW)/all.tmp && mv $(EVALW)/all.tmp $(EVALW)/all.t0
	+$(call eval_sharded,$(EVALW)/all.t0,$(EVALW)/sharded)
else
eval: eval-report
endif

ifeq ($(MIXTURE),wordnet)
include pipelines/wordnet-report.mk
endif
train-mixture: $(WORK)/loss.png $(if $(DATA_STAMP),wordnet-table,eval-report)
	@echo "Try the model:"
	@printf "  echo '%s' | %s/t0-decode -m %s\n" '$(subst ','"'"',$(DECODE_PROMPT))' $(BIN) $(OUT)

# ---- make finetune DATASET=name [MODEL=dir] [SHOTS=n] [SEED=s] [EPOCHS=10] -----------------
# t-zero's examples/single_task_fine_tune.py: every template of one dataset on its train split
# (SHOTS rows drawn with SEED), AdamW at 1e-4, batches of 4 unpacked rows, accuracy on the
# validation split's original-task templates after every epoch (pipelines/finetune.sh).
# t-zero also decays the rate linearly and uses weight decay 0.01: pass t0-step's flags for
# those in STEP_FLAGS. MODEL defaults to this mixture's trained model.
EPOCHS ?= 10
FT_ROWS ?= 4
FT_LR ?= 1e-4
STEP_FLAGS ?=
FT_MODEL = $(if $(filter command line,$(origin MODEL)),$(MODEL),$(OUT))
FT = $(WORK)/finetune/$(subst /,_,$(DATASET))$(if $(SHOTS),-$(SHOTS)shots)
finetune: $(DATA_STAMP)
	@test -n "$(DATASET)" || { echo "make: finetune needs DATASET=name (a folder of DATA and TEMPLATES)" >&2; exit 1; }
	@test -f $(FT_MODEL)/config.json || { echo "make: no model to fine-tune at $(FT_MODEL) (MODEL=dir, or make train-mixture first)" >&2; exit 1; }
	@mkdir -p $(FT)/data/$(DATASET)
	@f=$(DATA)/$(DATASET)/train.jsonl; [ -f $$f ] || f=$$f.zst; \
	  [ -f $$f ] || { echo "make: dataset $(DATASET): no train split: looked for $(DATA)/$(DATASET)/train.jsonl[.zst]" >&2; exit 1; }; \
	  zstd -dcf $$f | awk -v n=$(or $(SHOTS),0) -v seed=$(SEED) -f pipelines/shots.awk > $(FT)/train.tmp; \
	  cmp -s $(FT)/train.tmp $(FT)/data/$(DATASET)/train.jsonl && rm $(FT)/train.tmp || mv $(FT)/train.tmp $(FT)/data/$(DATASET)/train.jsonl
	@f=$(DATA)/$(DATASET)/validation.jsonl; [ -f $$f ] || f=$$f.zst; \
	  [ -f $$f ] || { echo "make: dataset $(DATASET): no validation split: looked for $(DATA)/$(DATASET)/validation.jsonl[.zst]" >&2; exit 1; }; \
	  ln -sfn $$(realpath $$f) $(FT)/data/$(DATASET)/$$(basename $$f)
	@$(MAKE) --no-print-directory -f pipelines/train-mixture.mk MIXTURE=finetune WORK=$(FT) DATA=$(FT)/data \
	    TEMPLATES=$(TEMPLATES) MODEL=$(FT_MODEL) DATASET=$(DATASET) EVAL_MAX=$(EVAL_MAX) \
	    INPUT_LEN=$(INPUT_LEN) TARGET_LEN=$(TARGET_LEN) finetune-run

finetune-run: $(TRAIN_TOK) $(EVAL_TOK)
	$(call need,t0-pack t0-step t0-score,fine-tuning)
	@BIN=$(BIN) MODEL=$(MODEL) WORK=$(WORK) EPOCHS=$(EPOCHS) ROWS=$(FT_ROWS) INPUT_LEN=$(INPUT_LEN) \
	  TARGET_LEN=$(TARGET_LEN) LR=$(FT_LR) SEED=$(SEED) STEP_FLAGS="$(STEP_FLAGS)" \
	  TRAIN_TOK="$(TRAIN_TOK)" EVAL_TOK="$(EVAL_TOK)" sh pipelines/finetune.sh
