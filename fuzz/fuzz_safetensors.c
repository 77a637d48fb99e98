/* fuzz_safetensors: the safetensors header reader on arbitrary bytes; every tensor it
 * accepts must be readable as float32 within the buffer. An input whose first byte is '{'
 * is taken as the JSON header alone and given a correct length prefix and 1 KiB of data,
 * so the fuzzer spends its time on the header's fields rather than on the length. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "t5/safetensors.h"

static void check(const uint8_t *data, size_t size)
{
    t0_error err = {0};
    st_model *m = st_open_buffer(data, size, "fuzz", &err);
    if (!m)
        return;
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
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || data[0] != '{') {
        check(data, size);
        return 0;
    }
    size_t total = 8 + size + 1024;
    uint8_t *buf = calloc(1, total);
    for (int i = 0; i < 8; i++)
        buf[i] = (uint8_t)((uint64_t)size >> (8 * i));
    memcpy(buf + 8, data, size);
    for (size_t i = 8 + size; i < total; i++)
        buf[i] = (uint8_t)i;
    check(buf, total);
    free(buf);
    return 0;
}
