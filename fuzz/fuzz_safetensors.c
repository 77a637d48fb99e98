/* fuzz_safetensors: the safetensors header reader on arbitrary bytes; every tensor it
 * accepts must be readable as float32 within the buffer. */
#include <stdint.h>
#include <stdlib.h>

#include "safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    t0_error err = {0};
    st_model *m = st_open_buffer(data, size, "fuzz", &err);
    if (!m)
        return 0;
    for (int i = 0; i < st_count(m); i++) {
        const st_tensor *t = st_at(m, i);
        if (t->dtype == ST_OTHER || t->nbytes > size)
            continue;
        float *dst = malloc(t->nbytes * 2 + 4); /* 2-byte dtypes widen to 4 */
        if (st_read_f32(m, t->name, t->ndim, t->shape, dst, &err) != 0)
            abort(); /* its own shape and a float dtype must read */
        free(dst);
    }
    st_metadata(m, "format");
    st_find_any(m, T5_SHARED_NAMES);
    st_close(m);
    return 0;
}
