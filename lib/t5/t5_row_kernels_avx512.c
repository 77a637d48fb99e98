/* t5_row_kernels_avx512.c: the row kernels (t5_row_kernels.h) built with -mavx512f as well
 * (mk/t5.mk): 16 lanes. Run only where the CPU probe (t5_cpu.c) found AVX-512F. The fuzz
 * build, which compiles lib/ in one command, leaves the flags out and gets the baseline
 * code here: correct, only slower. */
#if defined(__x86_64__)
static const char isa_name[] = "avx512";
#include "t5/t5_row_kernels_body.h"

const t5_row_kernels *const t5_row_kernels_avx512 = &this_isa;
#endif
