/* fuzz_torch_pickle: the restricted unpickler (lib/t5/torch_pickle.h) on arbitrary bytes as a
 * data.pkl. Whatever it accepts must be a well-formed state dict: names and storage keys set,
 * at most TP_MAX_DIMS non-negative dimensions and strides. */
#include <stdint.h>
#include <stdlib.h>

#include "t5/torch_pickle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tp_state_dict sd;
    t0_error err = {0};
    if (tp_load(data, size, "fuzz", &sd, &err) != 0) {
        if (err.status == T0_OK || !err.msg[0])
            abort(); /* a failure always says why */
        return 0;
    }
    for (int i = 0; i < sd.n; i++) {
        const tp_tensor *t = &sd.t[i];
        if (!t->name || !t->storage_key || !t->dtype || t->elem_size < 1 || t->ndim < 0 || t->ndim > TP_MAX_DIMS)
            abort();
        for (int d = 0; d < t->ndim; d++)
            if (t->shape[d] < 0 || t->stride[d] < 0)
                abort();
    }
    tp_free(&sd);
    return 0;
}
