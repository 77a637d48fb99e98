/* fuzz_t5_config: config.json parsing on arbitrary bytes; an accepted config must give a
 * tensor list whose every shape is positive. */
#include <stdint.h>
#include <stdlib.h>

#include "t5/t5_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    t5_config c;
    t0_error err = {0};
    if (t5_config_parse((const char *)data, size, "fuzz", &c, &err))
        return 0;
    t5_tensor_spec *specs;
    int n;
    if (t5_tensor_specs(&c, &specs, &n, &err))
        abort(); /* validated configs always list */
    for (int i = 0; i < n; i++)
        if (specs[i].shape[0] <= 0 || (specs[i].ndim == 2 && specs[i].shape[1] <= 0))
            abort();
    free(specs);
    t5_config_ff_proj(&c);
    return 0;
}
