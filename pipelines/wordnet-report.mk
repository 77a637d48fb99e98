# pipelines/wordnet-report.mk: the default's evaluation beyond the plain report (train-mixture.mk
# includes it in MIXTURE=wordnet): the pretrained model scored on the same prompts, the held-out
# task scored at every checkpoint, the table against the trivial baselines (table.sh) and the
# held-out curve beside the loss (heldout.gp).

PRE_SCORES := $(EVAL_TASKS:%=$(EVALW)/pretrained/%.t0)
HELD_TOK := $(filter $(EVALW)/tok/$(HELD_OUT)/%,$(EVAL_TOK))

$(EVALW)/pretrained/%.t0: $(EVALW)/tok/%.t0 $(PRETRAINED)/config.json
	$(call need,t0-score,scoring)
	@mkdir -p $(@D)
	@$(BIN)/t0-score -m $(PRETRAINED) -o $@ $<

$(WORK)/table.txt: $(EVAL_SCORES) $(PRE_SCORES) pipelines/table.sh
	@bash pipelines/table.sh $(HELD_OUT) $(EVALW)/tok $(EVALW)/pretrained $(EVALW)/scores > $@.tmp && mv $@.tmp $@

$(WORK)/heldout.tsv: $(OUT)/config.json $(PRETRAINED)/config.json $(HELD_TOK) pipelines/curve.sh
	@echo "curve    $(HELD_OUT) scored at every checkpoint of $(OUT)"
	@bash pipelines/curve.sh $(OUT) $(PRETRAINED) $(HELD_TOK) > $@.tmp && mv $@.tmp $@
$(WORK)/heldout.png: $(WORK)/heldout.tsv $(WORK)/loss.png pipelines/heldout.gp
	@gnuplot -e "loss='$(WORK)/loss.dat'; acc='$<'; task='$(HELD_OUT)'; out='$@.tmp'" pipelines/heldout.gp && mv $@.tmp $@
	@echo "plot     $@ ($(HELD_OUT) at each checkpoint, beside the loss)"

.PHONY: wordnet-table
wordnet-table: $(WORK)/table.txt $(WORK)/heldout.png
	@echo "== accuracy (%) by rank classification on the validation splits, median over prompts;"
	@echo "   $(HELD_OUT) never trained on (zero-shot); pretrained: before multitask training"
	@cat $<

# make budget [BUDGETS="1 2 4"] [BUDGET_ARGS="HELD_OUT=... ROWS=..."]: the default at several
# multiples of its step counts, each from scratch under WORK/budget/, and the held-out task
# against each run's wall time (budget.sh, budget.gp): where the budget that shows T0's effect is.
BUDGETS ?= 1 2 4
.PHONY: budget
budget:
	$(call need,t0-pack t0-step t0-score,the budget runs)
	@BUDGET_MAKE="$(MAKE) --no-print-directory -f pipelines/train-mixture.mk T0_BIN=$(BIN)" \
	    bash pipelines/budget.sh $(WORK)/budget "$(PT_SPAN_STEPS) $(PT_LM_STEPS) $(STEPS) $(SAVE_EVERY) $(PT_SAVE_EVERY)" $(BUDGETS)
