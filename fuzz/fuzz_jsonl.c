/* Fuzz target: the JSON-lines record reader. A line that parses must survive
 * encode -> decode -> print -> parse -> encode with identical bytes. */
#include <stdlib.h>
#include <string.h>

#include "stream/record_json.h"
#include "stream/stream.h"

static void roundtrip(const t0_record *rec)
{
    t0_error err = {0};
    uint8_t *a, *b;
    size_t na, nb;
    if (t0_record_encode(rec, &a, &na, &err) != 0)
        return; /* parsed but not encodable (e.g. a label out of range): rejected cleanly */
    t0_arena arena = {0};
    t0_record back;
    if (t0_record_decode(rec->kind, a + T0_RECORD_HEADER, na - T0_RECORD_HEADER, &arena, &back, &err))
        abort();
    t0_buf json = {0};
    if (t0_record_to_json(&back, &json, &err))
        abort();
    t0_record_parser *p = t0_record_parser_new(&err);
    t0_record again;
    if (t0_record_from_json(p, json.p, json.len, &again, &err) || t0_record_encode(&again, &b, &nb, &err))
        abort();
    if (na != nb || memcmp(a, b, na) != 0)
        abort();
    free(a);
    free(b);
    free(arena.p);
    t0_buf_free(&json);
    t0_record_parser_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    t0_error err = {0};
    t0_record_parser *p = t0_record_parser_new(&err);
    t0_record rec;
    if (t0_record_from_json(p, (const char *)data, size, &rec, &err) == 0)
        roundtrip(&rec);
    t0_record_parser_free(p);
    return 0;
}
