/* t5_row_kernels_plain.c: the row kernels (t5_row_kernels.h) for the build's baseline CPU
 * (SSE2 on x86-64, 4 lanes): the plain reference, and what a CPU without AVX2 runs. */
static const char isa_name[] = "plain";
#include "t5/t5_row_kernels_body.h"

const t5_row_kernels *const t5_row_kernels_plain = &this_isa;
