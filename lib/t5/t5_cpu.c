/* t5_cpu.c: see t5_cpu.h; also the dispatch tables of the linear kernels
 * (t5_linear_kernels.h) and of the row kernels (t5_row_kernels.h), filled from the probe. */
#include "t5/t5_cpu.h"

#include <pthread.h>
#include <stdlib.h>

#include "t5/t5_linear_kernels.h"
#include "t5/t5_row_kernels.h"

static t5_cpu cpu;
static t5_linear_kernels chosen;
static const t5_row_kernels *chosen_rows;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* The kernel sets. AVX-512 BF16 machines run the AVX2 loops for F32 weights. Thresholds
 * measured with AVX2 at 2048 x 5120 (T0_3B's feed-forward), GFLOPS loops / sgemm: F32 at
 * 16 rows 42 / 37, 32 rows 43 / 44, 64 rows 44 / 67; BF16 (sgemm on widened blocks) at 32
 * rows 64 / 46, 64 rows 51 / 53. The plain loops lose to sgemm from about 4 rows. */
static const t5_linear_kernels plain_set = {"plain", t5_rows_plain, NULL, 3, 3, t5_rows_i8_plain, "plain", NULL};
#if T5_X86_KERNELS
static const t5_linear_kernels avx2_set = {"avx2", t5_rows_avx2, NULL, 16, 48, t5_rows_i8_avx2, "avx2", NULL};
static const t5_linear_kernels bf16_set = {"avx512bf16", t5_rows_avx2, t5_rows_avx512bf16, 16, 48, t5_rows_i8_avx2,
                                           "avx2", t5_bf16_tile_avx512bf16};
/* int8 through VNNI: with or without AVX-512 BF16 (chosen sets get i8 replaced, see probe) */
static const t5_linear_kernels vnni_set = {"avx512vnni", t5_rows_avx2, NULL, 16, 48, t5_rows_i8_avx512vnni, "avx512vnni", NULL};
#endif

static void probe(void)
{
    const char *plain = getenv("T0_BF16_PLAIN"), *emulate = getenv("T0_BF16_EMULATE"), *rows = getenv("T0_FEW_ROWS"), *ahead = getenv("T0_PREFETCH");
#if T5_ROW_KERNELS_X86 /* any x86-64 compiler: the row kernels are built with clang too */
    __builtin_cpu_init();
    cpu.avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    cpu.avx512f = __builtin_cpu_supports("avx512f");
    cpu.avx512bw = __builtin_cpu_supports("avx512bw");
    cpu.avx512bf16 = __builtin_cpu_supports("avx512bf16");
    cpu.avx512vnni = __builtin_cpu_supports("avx512vnni");
#endif
    cpu.plain = plain && *plain == '1';
    cpu.bf16_emulate = emulate && *emulate == '1';
    cpu.few_rows_forced = rows ? atoi(rows) : -1;
    cpu.prefetch_ahead = ahead ? atol(ahead) : 49152;
    chosen = plain_set;
#if T5_X86_KERNELS
    if (!cpu.plain && cpu.avx2_fma) {
        chosen = cpu.avx512bf16 && cpu.avx512bw ? bf16_set : avx2_set;
        if (cpu.avx512vnni && cpu.avx512bw)
            chosen.i8_rows = vnni_set.i8_rows, chosen.i8_name = vnni_set.i8_name;
    }
#endif
    if (cpu.few_rows_forced >= 0)
        chosen.few_rows_f32 = chosen.few_rows_bf16 = cpu.few_rows_forced;
    chosen_rows = t5_row_kernels_plain;
#if T5_ROW_KERNELS_X86
    if (!cpu.plain && cpu.avx2_fma)
        chosen_rows = cpu.avx512f ? t5_row_kernels_avx512 : t5_row_kernels_avx2;
#endif
}

const t5_cpu *t5_cpu_probe(void)
{
    pthread_once(&once, probe);
    return &cpu;
}

const t5_linear_kernels *t5_linear_dispatch(void)
{
    pthread_once(&once, probe);
    return &chosen;
}

int t5_linear_variants(const t5_linear_kernels **sets, int max)
{
    const t5_cpu *c = t5_cpu_probe();
    int n = 0;
    if (n < max)
        sets[n++] = &plain_set;
#if T5_X86_KERNELS
    if (c->avx2_fma && n < max)
        sets[n++] = &avx2_set;
    if (c->avx2_fma && c->avx512bf16 && c->avx512bw && n < max)
        sets[n++] = &bf16_set;
    if (c->avx2_fma && c->avx512vnni && c->avx512bw && n < max)
        sets[n++] = &vnni_set;
#else
    (void)c;
#endif
    return n;
}

const t5_row_kernels *t5_row_dispatch(void)
{
    pthread_once(&once, probe);
    return chosen_rows;
}

int t5_row_variants(const t5_row_kernels **sets, int max)
{
    const t5_cpu *c = t5_cpu_probe();
    int n = 0;
    if (n < max)
        sets[n++] = t5_row_kernels_plain;
#if T5_ROW_KERNELS_X86
    if (c->avx2_fma && n < max)
        sets[n++] = t5_row_kernels_avx2;
    if (c->avx2_fma && c->avx512f && n < max)
        sets[n++] = t5_row_kernels_avx512;
#else
    (void)c;
#endif
    return n;
}
