/* t5_row_kernels_avx2.c: the row kernels (t5_row_kernels.h) built with -mavx2 -mfma
 * (mk/t5.mk): 8 lanes. Run only where the CPU probe (t5_cpu.c) found AVX2 and FMA. The
 * fuzz build, which compiles lib/ in one command, leaves the flags out and gets the
 * baseline code here: correct, only slower. */
#if defined(__x86_64__)
static const char isa_name[] = "avx2";
#include "t5/t5_row_kernels_body.h"

const t5_row_kernels *const t5_row_kernels_avx2 = &this_isa;
#endif
