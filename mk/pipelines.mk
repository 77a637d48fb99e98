# The pipelines (pipelines/, README.md): make train-mixture, make eval, make finetune.
# wordnet-base is the bundled default's data, sentencepiece its tokenizer trainer (spm_train),
# gnuplot-nox draws the loss curve.
DEB_PACKAGES += wordnet-base sentencepiece gnuplot-nox
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
PIPELINE = $(MAKE) --no-print-directory -f pipelines/train-mixture.mk T0_BIN=$(abspath $(BIN))
.PHONY: train-mixture eval finetune pretrain budget
train-mixture: all
	@$(PIPELINE) -j$(JOBS) train-mixture
eval: all
	@$(PIPELINE) -j$(JOBS) eval
finetune: all
	@$(PIPELINE) -j$(JOBS) finetune
pretrain: all
	@$(PIPELINE) -j$(JOBS) pretrain
budget: all
	@$(PIPELINE) -j$(JOBS) budget
