# SentencePiece tokenizer (lib/spm/, tools/t0-tokenize).
# make test needs nothing beyond the common packages: its fixtures are committed under
# tests/fixtures/spm. Re-making them (make fixtures) and the benchmark (make bench,
# make bench-tokenize) need Debian's sentencepiece for spm_train/spm_encode/spm_decode;
# bench/bench-tokenize.sh says so and stops when it is missing.
.PHONY: bench-tokenize fixtures-tokenize
bench-tokenize: all
	@sh bench/bench-tokenize.sh $(abspath $(BIN))
fixtures-tokenize:
	@sh tests/reference/fixtures-tokenize.sh
