# Sharded evaluation (included by mk/score.mk): score token streams with t0-score under GNU
# parallel and print the accuracy report.
#
#   make eval-tokens MODEL=DIR TOKENS='a.tokens b.tokens' [SHARDS=N] [WORK=DIR] [HOSTS=h1,h2]
#
# The token streams (taken as one stream) are cut into SHARDS shards with t0-cat --shard
# I/N (record p goes to shard p % N), one single-thread t0-score runs per shard, SHARDS at a
# time (default: one per core; on many examples this beats threads inside one process),
# and the score streams are concatenated into WORK/scores, then reported. Scores do not
# depend on how examples are sharded, so the report equals an unsharded run's, byte for byte.
# WORK/joblog is GNU parallel's job log; the first failing shard stops the others.
#
# HOSTS=h1,h2 runs the shards over ssh (parallel --sshlogin; ':' is this machine): each
# host gets the model once (--basefile), its shards (--transferfile) and sends the scores
# back (--return, --cleanup); t0-score must be on the hosts' PATH (make install).
# tests/ssh.bats runs it over ssh, with an sshd of its own on 127.0.0.1 as two hosts.
# EVAL_BIN names the directory of the local tools (default: this build's).

SHARDS ?= $(shell nproc)
WORK ?= build/eval
EVAL_BIN ?=
HOSTS ?=
eval_bin = $(if $(EVAL_BIN),$(EVAL_BIN),$(abspath $(BIN)))
eval_model = $(abspath $(MODEL))
eval_ids = $(shell seq 0 $$(($(SHARDS) - 1)))
# Jobs run in WORK's path on every host (--workdir .: relative to the home directory when
# WORK is inside it); the model lands there under its own name, and here WORK holds a
# link of that name, so ':' (this machine) in HOSTS works too.
# The weights sent: the safetensors files (one or sharded), else the PyTorch .bin files, as t0-score reads them.
eval_weights = $(notdir $(or $(wildcard $(eval_model)/model*.safetensors $(eval_model)/model.safetensors.index.json),\
    $(wildcard $(eval_model)/pytorch_model*.bin $(eval_model)/pytorch_model.bin.index.json)))
eval_remote = --sshlogin $(HOSTS) --workdir . \
    $(foreach f,config.json $(eval_weights),--basefile $(dir $(eval_model))./$(notdir $(eval_model))/$(f)) \
    --transferfile shard-{}.tokens --return shard-{}.scores --cleanup

.PHONY: eval-tokens
eval-tokens: $(if $(EVAL_BIN),,all)
	@test -n "$(MODEL)" || { echo "make eval-tokens: MODEL=DIR is required" >&2; exit 1; }
	@test -n "$(TOKENS)" || { echo "make eval-tokens: TOKENS='FILE...' (token streams) is required" >&2; exit 1; }
	@command -v parallel >/dev/null || { echo "make eval-tokens: GNU parallel is missing (make deps)" >&2; exit 1; }
	@rm -rf $(WORK)/shard-* $(WORK)/scores $(WORK)/joblog && mkdir -p $(WORK)
	@$(if $(HOSTS),ln -sfn $(eval_model) $(WORK)/$(notdir $(eval_model)),true)
	@parallel --halt now,fail=1 '$(eval_bin)/t0-cat --stream --shard {}/$(SHARDS) -o $(abspath $(WORK))/shard-{}.tokens $(abspath $(TOKENS))' ::: $(eval_ids)
	@cd $(WORK) && PATH=$(eval_bin):$$PATH parallel --joblog joblog --halt now,fail=1 -j $(SHARDS) \
	    $(if $(HOSTS),$(eval_remote) 't0-score -m $(notdir $(eval_model)) --threads 1 -o shard-{}.scores shard-{}.tokens',\
	    '$(eval_bin)/t0-score -m $(eval_model) --threads 1 -o shard-{}.scores shard-{}.tokens') ::: $(eval_ids)
	@cat $(addprefix $(WORK)/shard-,$(addsuffix .scores,$(eval_ids))) > $(WORK)/scores.tmp && mv $(WORK)/scores.tmp $(WORK)/scores
	@$(eval_bin)/t0-score --report $(WORK)/scores
