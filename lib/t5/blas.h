/* blas.h: is OpenBLAS running the kernels this CPU can run?
 *
 * OpenBLAS picks its kernels (its "core") from CPUID when the library loads. On CPUs its
 * build does not recognise (often virtual machines) it falls back to Prescott's SSE3
 * kernels, 3-5x slower than its Haswell (AVX2) or SkylakeX (AVX-512) ones. The core can
 * only be chosen before the library loads, through the environment (OPENBLAS_CORETYPE), so
 * the fix is to run the program again with it set: t5_blas_fix does that once.
 *
 * The programs that multiply matrices (t0-step, t0-score, t0-decode) call t5_blas_fix
 * after parsing their options and before reading any input (a re-run must find it unread). */
#ifndef T0_T5_BLAS_H
#define T0_T5_BLAS_H

#include <stddef.h>

/* The core OpenBLAS runs (openblas_get_corename), e.g. "Haswell", "Zen", "Prescott". */
const char *t5_blas_core(void);

/* The core this CPU should run when OpenBLAS's is a fallback: "SkylakeX" when the CPU
 * probe (t5_cpu.h) found AVX-512F, "Haswell" when it found AVX2 + FMA; NULL when the core in use
 * already has kernels of that width (or the CPU has neither). */
const char *t5_blas_better_core(void);

/* When OpenBLAS runs a fallback core: if OPENBLAS_CORETYPE is unset and this program was
 * not re-run for it already (environment marker T0_BLAS_REEXEC), sets both and re-executes
 * argv (/proc/self/exe), so it does not return on success. Otherwise (the user set
 * OPENBLAS_CORETYPE, the re-run did not help, or exec failed) writes into note one line
 * that says what to set and returns 1. Returns 0 when the core is fine. */
int t5_blas_fix(char **argv, char *note, size_t n);

#endif
