# Rank-classification scoring (lib/eval, tools/t0-score) and sharded evaluation.
# make eval-tokens: pipelines/eval.mk (GNU parallel, in DEB_PACKAGES already).
# make bench-score: bench/bench-score.sh (transformers and CTranslate2 beside t0-score).
# make fixtures-score: tests/reference/fixtures-score.sh.
include pipelines/eval.mk
.PHONY: bench-score fixtures-score
bench-score: all
	@sh bench/bench-score.sh $(abspath $(BIN))
fixtures-score:
	@sh tests/reference/fixtures-score.sh
