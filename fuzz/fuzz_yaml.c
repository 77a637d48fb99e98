/* Fuzzes the promptsource templates.yaml loader (lib/render/templates.c on libyaml): any bytes
 * must give a template set or an error message, never a crash, a leak or a hang. Sets
 * that load are also compiled (the truncate rewrite and jinja_parse of every template). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "render/templates.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    t0_error err = {0};
    t0_template_set *s = t0_templates_parse((const char *)data, size, "fuzz.yaml", &err);
    if (!s) {
        if (!err.msg[0]) /* every failure says why */
            __builtin_trap();
        return 0;
    }
    t0_templates_compile(s, &err);
    t0_templates_free(s);
    return 0;
}
