/* t5_cpu.h: the one probe of the CPU and of the environment's knobs, made once a process
 * (the first kernel call, or a tool's start): what the kernel dispatch (t5_linear_kernels.h)
 * and OpenBLAS's core check (blas.h) decide from. t0-score's threads enter the kernels
 * together, so the decision is made whole before any of them reads it. */
#ifndef T0_T5_CPU_H
#define T0_T5_CPU_H

typedef struct {
    int avx2_fma;        /* AVX2 and FMA */
    int avx512f, avx512bw, avx512bf16, avx512vnni;
    int plain;           /* T0_BF16_PLAIN=1: the plain kernels whatever the CPU (tests, measurements) */
    int bf16_emulate;    /* T0_BF16_EMULATE=1: BF16 training products emulated (rounded operands, F32
                          * sgemm) where the CPU lacks AVX-512 BF16 (t5_mixed.h; tests, measurements) */
    int few_rows_forced; /* T0_FEW_ROWS: the few-row loops below this many rows, or -1 (measurements) */
    long prefetch_ahead; /* T0_PREFETCH: bytes of weights fetched ahead, default 48 KB (measurements) */
} t5_cpu;

const t5_cpu *t5_cpu_probe(void);

#endif
