/* Fuzzes the model readers: arbitrary bytes as a ModelProto (or, starting with '{', as a
 * tokenizer.json). Whatever loads must then encode and decode without a fault. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spm/spm.h"
#include "spm/tokenizer_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    t0_error err = {0};
    t0_spm *m = size && data[0] == '{' ? t0_spm_from_tokenizer_json((const char *)data, size, &err)
                                       : t0_spm_from_proto(data, size, &err);
    if (!m)
        return 0;
    static const char text[] = "  Hello wor\xC3\xA9ld \xE4\xB8\xAD<extra_id_3> \xFF\x01 \xEF\xAC\x81 abc";
    t0_spm_work w = {0};
    w.want_pieces = 1;
    if (t0_spm_encode(m, text, sizeof text - 1, &w, &err) == 0) {
        for (size_t i = 0; i < w.n_ids; i++)
            if (w.ids[i] < 0 || w.ids[i] >= m->vocab_size)
                abort();
        int32_t *ids = malloc((w.n_ids + 1) * sizeof *ids);
        if (w.n_ids)
            memcpy(ids, w.ids, w.n_ids * sizeof *ids);
        if (t0_spm_decode(m, ids, w.n_ids, &w, &err) != 0)
            abort(); /* ids the encoder made always decode */
        free(ids);
    }
    int32_t all[64];
    for (int i = 0; i < 64; i++)
        all[i] = (int32_t)(i * 7919u % (uint32_t)m->vocab_size);
    t0_spm_decode(m, all, 64, &w, &err);
    t0_spm_work_free(&w);
    t0_spm_free(m);
    return 0;
}
