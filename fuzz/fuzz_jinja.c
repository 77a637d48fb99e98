/* fuzz_jinja.c: template bytes, then optionally a NUL byte and a JSON context; the
 * template is parsed and rendered (strict when the input size is odd). No crash, hang or leak allowed. */
#include <stdlib.h>
#include <string.h>

#include "render/jinja.h"
#include "render/pyval.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    const char *src = (const char *)data;
    const char *nul = memchr(data, 0, size);
    size_t tlen = nul ? (size_t)(nul - src) : size;
    t0_error err;
    pyval *ctx = NULL;
    if (nul)
        ctx = pv_from_json(nul + 1, size - tlen - 1, &err);
    jinja_template *t = jinja_parse(src, tlen, &err);
    if (t) {
        jinja_has_undeclared(t);
        jinja_options opt = {.seed = (uint64_t)size, .strict = (int)(size & 1)}; /* strict for odd sizes */
        char *out = NULL;
        size_t out_len;
        if (jinja_render(t, ctx, &opt, &out, &out_len, &err) == 0)
            free(out);
        jinja_free(t);
    }
    if (ctx) {
        char *s;
        size_t n;
        if (pv_repr(ctx, &s, &n, &err) == 0)
            free(s);
    }
    pv_free(ctx);
    return 0;
}
