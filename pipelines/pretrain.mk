# pipelines/pretrain.mk: the default's language model, made as T5 and T5-LM-adapt were, before
# T0's multitask training starts from it (train-mixture.mk includes this in MIXTURE=wordnet):
#
#   text      WordNet's own text, one dictionary entry a synset (wordnet-text.awk), or TEXT=files
#   spm       a SentencePiece tokenizer trained on that text (T5's settings, + 100 sentinels)
#   init      a random T5 of MODEL_CONFIG's shape (t0-init)
#   pretrain  PT_SPAN_STEPS steps of T5's span corruption, then PT_LM_STEPS of LM adaptation
#             (prefix LM), t0-pack --objective | t0-step, into WORK/pretrained; no dropout
#             (PT_DROPOUT), as T5 v1.1 was pretrained
#
#   make pretrain [TEXT="a.txt b.txt"] [PT_SPAN_STEPS=n] [PT_LM_STEPS=n] [WORK=dir]
#
# T0's own path (MIXTURE=t0_train MODEL=t5-lm-adapt/) never comes here.

TEXT ?=
PT := $(WORK)/pretrain
CORPUS := $(PT)/text.txt
PT_SPAN_STEPS ?= 200
PT_LM_STEPS ?= 400
PT_ROWS ?= 32
PT_INPUT_LEN ?= 128
PT_LM_LEN ?= 64
PT_OPTIMIZER ?= adamw
PT_LR ?= 1e-3
PT_FLAGS ?=
# T5 v1.1 was pretrained without dropout (it is turned back on to fine-tune)
PT_DROPOUT ?= 0
PT_SAVE_EVERY ?= 100

$(PT)/text.vars: FORCE
	@mkdir -p $(@D); echo '$(TEXT)' | cmp -s - $@ || echo '$(TEXT)' > $@
$(CORPUS): $(PT)/text.vars $(if $(TEXT),$(TEXT),pipelines/wordnet-lib.awk pipelines/wordnet-text.awk $(WORK)/wordnet.vars)
	@mkdir -p $(@D)
ifeq ($(TEXT),)
	@test -f $(WORDNET)/data.noun || { echo "make: $(WORDNET)/data.noun is missing: install Debian's wordnet-base (make deps)" >&2; exit 1; }
	@LC_ALL=C awk -v core=$(WN_CORE) -f pipelines/wordnet-lib.awk -f pipelines/wordnet-text.awk $(WN_FILES) > $@.tmp
	@echo "text     WordNet's glosses and examples as a dictionary: $$(wc -l < $@.tmp) entries -> $@"
else
	@cat $(TEXT) > $@.tmp
	@echo "text     $(TEXT): $$(wc -l < $@.tmp) lines -> $@"
endif
	@mv $@.tmp $@

# T5's SentencePiece settings (unigram, pad 0, eos 1, unk 2, no bos); the 100 sentinels are the
# ids past the pieces, counted into the model's vocab_size.
$(SPM): $(CORPUS)
	@echo "spm      spm_train --vocab_size=$(VOCAB) on $(CORPUS)"
	@command -v spm_train >/dev/null || { echo "make: spm_train is missing: install Debian's sentencepiece (make deps)" >&2; exit 1; }
	@mkdir -p $(@D)
	@spm_train --input=$(CORPUS) --model_prefix=$(@D)/spiece.tmp --vocab_size=$(VOCAB) \
	    --model_type=unigram --pad_id=0 --eos_id=1 --unk_id=2 --bos_id=-1 --character_coverage=1.0 \
	    --input_sentence_size=60000 --shuffle_input_sentence=true --random_seed=$(SEED) \
	    --hard_vocab_limit=false --num_threads=2 --minloglevel=2 >$(@D)/spm_train.log 2>&1 \
	    || { cat $(@D)/spm_train.log >&2; exit 1; }
	@wc -l < $(@D)/spiece.tmp.vocab > $(@D)/pieces && rm -f $(@D)/spiece.tmp.vocab
	@mv $(@D)/spiece.tmp.model $@

$(WORK)/init/config.json: $(SPM) $(MODEL_CONFIG)
	@echo "init     t0-init: $(MODEL_CONFIG), $$(cat $(WORK)/spm/pieces) pieces + 100 sentinels, seed $(SEED)"
	@rm -rf $(WORK)/init $(WORK)/init.tmp && mkdir -p $(WORK)
	@v=$$(($$(cat $(WORK)/spm/pieces) + 100)); sed "s/\"vocab_size\": *[0-9]*/\"vocab_size\": $$v/" $(MODEL_CONFIG) > $(WORK)/init.json
	@$(BIN)/t0-init --config $(WORK)/init.json --seed $(SEED) --tokenizer $(SPM) -o $(WORK)/init.tmp >/dev/null
	@mv $(WORK)/init.tmp $(WORK)/init

# the documents: one token record a line of text
$(PT)/text.t0: $(CORPUS) $(SPM)
	@$(BIN)/t0-tokenize -m $(SPM) --lines --task text -o $@ $(CORPUS)

# One stage: t0-pack's objective into t0-step, from $(1) into $(2), $(3) steps of objective $(4)
# with --input-len $(5) and --target-len $(6) (empty: what the objective needs).
define pretrain_stage
	@echo "pretrain $(4): $(3) steps of $(PT_ROWS) rows, $(5) input tokens, $(PT_OPTIMIZER) lr $(PT_LR), from $(1)"
	@rm -rf $(2).tmp
	@$(BIN)/t0-pack --objective $(4) -t $(SPM) --rows $(PT_ROWS) --input-len $(5) $(if $(6),--target-len $(6)) \
	    --seed $(SEED) --batches $(3) -q $(PT)/text.t0 | \
	  $(BIN)/t0-step -m $(1) -o $(2).tmp --optimizer $(PT_OPTIMIZER) --lr $(PT_LR) --dropout $(PT_DROPOUT) $(PT_FLAGS) --steps $(3) \
	    --save-every $(PT_SAVE_EVERY) --keep 1 --seed $(SEED)
	@rm -rf $(2) && mv $(2).tmp $(2)
endef

$(PT)/span/config.json: $(WORK)/init/config.json $(PT)/text.t0
	$(call need,t0-pack t0-step,pretraining)
ifeq ($(PT_SPAN_STEPS),0)
	@rm -rf $(PT)/span && cp -r $(WORK)/init $(PT)/span
else
	$(call pretrain_stage,$(WORK)/init,$(PT)/span,$(PT_SPAN_STEPS),span-corruption,$(PT_INPUT_LEN),)
endif
$(PRETRAINED)/config.json: $(PT)/span/config.json
ifeq ($(PT_LM_STEPS),0)
	@rm -rf $(PRETRAINED) && cp -r $(PT)/span $(PRETRAINED)
else
	$(call pretrain_stage,$(PT)/span,$(PRETRAINED),$(PT_LM_STEPS),prefix-lm,$(PT_LM_LEN),$(PT_LM_LEN))
endif

.PHONY: pretrain
pretrain: $(PRETRAINED)/config.json
	@echo "pretrained: $(PRETRAINED) (loss logs: $(PT)/span/loss.tsv, $(PRETRAINED)/loss.tsv)"
