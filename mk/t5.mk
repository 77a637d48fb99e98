# The row kernels (lib/t5/t5_row_kernels.h): one source built once an instruction set, each
# object with its own flags; the CPU probe (lib/t5/t5_cpu.c) picks one table at run time.
# -O3 and no FP-trap semantics let the vectorizer turn clamps into blends; contraction off
# keeps every build's bits the same (GCC's -std=c11 default, clang's is on). The plain
# product loops (t5_linear_plain.c) are built the same way.
T5_ROW_KERNEL_OBJ = $(BUILD)/lib/t5/t5_row_kernels_plain.o $(BUILD)/lib/t5/t5_row_kernels_avx2.o \
                    $(BUILD)/lib/t5/t5_row_kernels_avx512.o
$(T5_ROW_KERNEL_OBJ) $(BUILD)/lib/t5/t5_linear_plain.o: CFLAGS += -O3 -fno-trapping-math -ffp-contract=off
ifneq ($(findstring x86_64,$(shell $(CC) -dumpmachine)),)
$(BUILD)/lib/t5/t5_row_kernels_avx2.o: CFLAGS += -mavx2 -mfma
$(BUILD)/lib/t5/t5_row_kernels_avx512.o: CFLAGS += -mavx2 -mfma -mavx512f
endif
$(T5_ROW_KERNEL_OBJ) $(BUILD)/lib/t5/t5_linear_plain.o: mk/t5.mk
