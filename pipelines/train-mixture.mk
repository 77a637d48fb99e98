# The bundled default mixture: render -> tokenize -> pack -> train.
# t0-pack and t0-step are not written yet; until they are, say so plainly.
T0_BIN ?= bin
.PHONY: train-mixture
train-mixture:
	@for t in t0-render t0-tokenize t0-pack t0-step; do \
	    if [ ! -x "$(T0_BIN)/$$t" ]; then \
	        echo "make train-mixture: $$t is not built yet (it is still being written); nothing was trained." >&2; \
	        exit 1; \
	    fi; \
	done
	@echo "make train-mixture: all programs present, but the mixture pipeline is not wired up yet." >&2; exit 1
