/* blas.c: see blas.h. */
#include "t5/blas.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "t5/t5_cpu.h"

char *openblas_get_corename(void);

const char *t5_blas_core(void)
{
    const char *c = openblas_get_corename();
    return c ? c : "unknown";
}

static int core_in(const char *core, const char *const *list)
{
    for (; *list; list++)
        if (!strcasecmp(core, *list))
            return 1;
    return 0;
}

const char *t5_blas_better_core(void)
{
    static const char *const avx512[] = {"SkylakeX", "Cooperlake", "SapphireRapids", NULL};
    static const char *const avx2[] = {"Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids", NULL};
    const char *core = t5_blas_core();
    const t5_cpu *cpu = t5_cpu_probe();
    if (cpu->avx512f && !core_in(core, avx512))
        return core_in(core, avx2) ? NULL : "SkylakeX"; /* AVX2 kernels are close enough for sgemm */
    if (cpu->avx2_fma && !core_in(core, avx2))
        return "Haswell";
    return NULL;
}

int t5_blas_fix(char **argv, char *note, size_t n)
{
    const char *want = t5_blas_better_core();
    if (!want)
        return 0;
    const char *set = getenv("OPENBLAS_CORETYPE");
    if (!set && !getenv("T0_BLAS_REEXEC")) {
        setenv("OPENBLAS_CORETYPE", want, 1);
        setenv("T0_BLAS_REEXEC", "1", 1);
        execv("/proc/self/exe", argv);
        unsetenv("OPENBLAS_CORETYPE"); /* exec failed: say what to set instead */
    }
    snprintf(note, n, "OpenBLAS runs its %s kernels on a CPU with %s: set OPENBLAS_CORETYPE=%s for 3-5x faster "
             "matrix products", t5_blas_core(), strcmp(want, "SkylakeX") ? "AVX2" : "AVX-512", want);
    return 1;
}
