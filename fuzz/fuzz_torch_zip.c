/* fuzz_torch_zip: the zip reader (lib/t5/torch_zip.h) and the whole .bin loader
 * (torch_bin.h) on arbitrary bytes as a pytorch_model.bin. Every entry the zip reader accepts
 * lies inside the buffer; every tensor the loader accepts is readable to its last byte, inside
 * the buffer unless it is a copy. */
#include <stdint.h>
#include <stdlib.h>

#include "t5/torch_bin.h"
#include "t5/torch_zip.h"

static volatile uint8_t sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    t0_error err = {0};
    tz_archive *z = tz_open(data, size, "fuzz", &err);
    for (int i = 0; z && i < tz_count(z); i++) {
        const tz_entry *e = tz_at(z, i);
        if (e->offset > size || e->size > size - e->offset || tz_find(z, e->name) != e)
            abort();
        if (e->size)
            sink ^= data[e->offset] ^ data[e->offset + e->size - 1];
    }
    tz_close(z);
    tb_file *f = tb_open_buffer(data, size, "fuzz", &err);
    for (int i = 0; f && i < tb_count(f); i++) {
        const tb_tensor *t = tb_at(f, i);
        const uint8_t *p = t->data;
        if (!p || !t->name || !t->dtype)
            abort();
        if (!t->copied && (p < data || (size_t)(p - data) > size || t->nbytes > size - (size_t)(p - data)))
            abort();
        if (t->nbytes)
            sink ^= p[0] ^ p[t->nbytes - 1];
    }
    tb_close(f);
    return 0;
}
