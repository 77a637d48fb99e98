/* Fuzz target: the stream reader on arbitrary bytes. Every input either reads as
 * records that re-encode to valid records or stops with an error; never a crash. */
#include <stdio.h>
#include <stdlib.h>

#include "stream/stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    FILE *f = fmemopen((void *)data, size, "rb");
    if (!f)
        return 0;
    t0_error err = {0};
    t0_reader *r = t0_reader_open_file(f, "fuzz", &err);
    t0_record rec;
    while (r && t0_reader_next(r, &rec, &err) > 0) {
        uint8_t *bytes;
        size_t n;
        /* what was read is valid, so it must encode again */
        if (t0_record_encode(&rec, &bytes, &n, &err) != 0)
            abort();
        free(bytes);
    }
    t0_reader_close(r);
    fclose(f);
    return 0;
}
