# model-math: the training-step benchmark program (bench/bench-model.sh runs it).
MODEL_BENCH = $(BUILD)/bench/t5_step_bench
$(MODEL_BENCH): bench/t5_step_bench.c $(LIBT0)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIBT0) $(LDLIBS)
bench: $(MODEL_BENCH)
all: $(MODEL_BENCH)
