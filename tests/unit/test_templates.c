/* Unit tests of lib/templates.c (YAML loading, the truncate rewrite, str.strip, seeds,
 * apply) and lib/textlines.c (plain and .zst line reading, UTF-8 checks). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "render/templates.h"
#include "common/textlines.h"
#include "common/utf8.h"
#include "unit.h"

static const char yaml_text[] =
    "dataset: demo\n"
    "subset: s1\n"
    "templates:\n"
    "  k1: !Template\n"
    "    answer_choices: No ||| Yes\n"
    "    id: id-1\n"
    "    jinja: '{{a}} ||| {{answer_choices[label]}}'\n"
    "    metadata: !TemplateMetadata\n"
    "      original_task: true\n"
    "      choices_in_prompt: no\n"
    "    name: first\n"
    "    reference: ''\n"
    "  k2: !Template\n"
    "    answer_choices: null\n"
    "    jinja: \"{% if a %}{{a | upper}}\\n|||\\n{{ b }}{% endif %}\"\n"
    "    metadata: !TemplateMetadata\n"
    "      original_task: ~\n"
    "    name: second\n"
    "    unknown_key: 3\n";

static void test_parse(void)
{
    t0_error err = {0};
    t0_template_set *s = t0_templates_parse(yaml_text, sizeof yaml_text - 1, "demo.yaml", &err);
    CHECK(s != NULL);
    if (!s) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    CHECK(!strcmp(s->task, "demo/s1"));
    CHECK(s->n == 2);
    CHECK(!strcmp(s->templates[0].id, "id-1") && !strcmp(s->templates[0].name, "first"));
    CHECK(!strcmp(s->templates[0].answer_choices, "No ||| Yes"));
    CHECK(s->templates[0].original_task == 1 && s->templates[0].choices_in_prompt == 0);
    CHECK(s->templates[0].line == 4);
    CHECK(!strcmp(s->templates[1].id, "k2")); /* no id: the key */
    CHECK(s->templates[1].answer_choices == NULL && s->templates[1].original_task == -1);
    CHECK(!strcmp(s->templates[1].reference, ""));
    CHECK(!strcmp(s->templates[1].jinja, "{% if a %}{{a | upper}}\n|||\n{{ b }}{% endif %}"));
    int keep[2] = {0, 1};
    t0_templates_filter(s, keep);
    CHECK(s->n == 1 && !strcmp(s->templates[0].name, "second"));
    t0_templates_free(s);
}

static void expect_error(const char *text, const char *want)
{
    t0_error err = {0};
    t0_template_set *s = t0_templates_parse(text, strlen(text), "x.yaml", &err);
    CHECK(s == NULL);
    CHECK(strstr(err.msg, want) != NULL);
    if (!strstr(err.msg, want))
        fprintf(stderr, "  got: %s (wanted %s)\n", err.msg, want);
    t0_templates_free(s);
}

static void test_parse_errors(void)
{
    expect_error("dataset: [a\n", "x.yaml: line 2, column 1:");
    expect_error("templates: {}\n", "no `dataset`");
    expect_error("- a\n- b\n", "no top-level mapping");
    expect_error("dataset: d\ntemplates: [1]\n", "`templates` is not a mapping");
    expect_error("dataset: d\ntemplates:\n  k: !Template\n    name: n\n", "template 'n' has no jinja");
    expect_error("dataset: d\ntemplates:\n  k: !Template\n    jinja: x\n", "template k has no name");
    expect_error("dataset: d\ntemplates:\n  k: !Template\n    name: [1]\n    jinja: x\n", "`name` is not a string");
    expect_error("dataset: caf\xe9\n", "x.yaml: line");
    expect_error("", "no top-level mapping");
}

static void test_rewrite_strip_seed(void)
{
    char *r = t0_truncate_rewrite("a {{ x }} b {{y}}}");
    CHECK(!strcmp(r, "a {{ x  | string | truncate(2048) }} b {{y | string | truncate(2048) }}}"));
    free(r);
    size_t a, n;
    const char *s = "\xe3\x80\x80 \t\xc2\xa0 hi there\xe2\x80\xa8\n\x1c";
    n = t0_py_strip(s, strlen(s), &a);
    CHECK(n == 8 && !memcmp(s + a, "hi there", 8));
    n = t0_py_strip("\xc2\x85", 2, &a);
    CHECK(n == 0);
    n = t0_py_strip("\xe2\x80\x8b x", 5, &a); /* U+200B is not whitespace in Python */
    CHECK(n == 5 && a == 0);
    /* the same numbers tests/reference/render_ref.py gives */
    CHECK(t0_template_seed(0, 0, "0a000000-0000-4000-8000-000000000001") == 0xa9c5f7041d472f2aull);
    CHECK(t0_template_seed(7, 12345, "abc") == 0x77c2a5eaf35cf954ull);
    CHECK(t0_choices_seed(0x77c2a5eaf35cf954ull) == 0x4984c616619b5d60ull);
}

static void test_apply(void)
{
    t0_error err = {0};
    t0_template_set *s = t0_templates_parse(yaml_text, sizeof yaml_text - 1, "demo.yaml", &err);
    CHECK(s && !t0_templates_compile(s, &err));
    const char *line = "{\"a\": \" x ||| y \", \"b\": \"\", \"label\": 1, \"c-d\": 2}";
    pyval *json = pv_from_json(line, strlen(line), &err);
    t0_example ex;
    CHECK(json && !t0_example_prepare(&ex, json, &err));
    CHECK(pv_dict_get(ex.context, "c_d") != NULL && pv_dict_get(ex.context, "c-d") == NULL);
    t0_rendered out;
    CHECK(!t0_template_apply(&s->templates[0], &ex, 0, 0, 0, &out, &err));
    CHECK(!out.dropped && !strcmp(out.input, "x ||| y") && !strcmp(out.target, "Yes"));
    CHECK(out.n_choices == 2 && out.label == 1);
    t0_rendered_clear(&out);
    CHECK(!t0_template_apply(&s->templates[1], &ex, 0, 0, 0, &out, &err));
    /* `upper` uppercases the protector token too, so promptsource does not restore it */
    CHECK(!out.dropped && !strcmp(out.input, "X 3ED2DFACE8203C4C9DFB1A5DC58E41E0 Y"));
    CHECK(!strcmp(out.target, T0_NO_LABEL));
    CHECK(out.n_choices == 0 && out.label == -1);
    t0_rendered_clear(&out);
    t0_example_clear(&ex);
    pv_free(json);
    /* a false {% if %}: one empty part, dropped */
    line = "{\"a\": \"\"}";
    json = pv_from_json(line, strlen(line), &err);
    CHECK(!t0_example_prepare(&ex, json, &err));
    CHECK(!t0_template_apply(&s->templates[1], &ex, 0, 0, 0, &out, &err) && out.dropped);
    t0_rendered_clear(&out);
    /* strict: the undefined field is an error naming the template */
    CHECK(t0_template_apply(&s->templates[0], &ex, 0, 0, 1, &out, &err) == -1);
    CHECK(strstr(err.msg, "template 'first'") != NULL);
    t0_example_clear(&ex);
    pv_free(json);
    /* several protected separators, at the edges too, come back in place */
    line = "{\"a\": \"|||a|||b||| |||\", \"label\": 0}";
    json = pv_from_json(line, strlen(line), &err);
    CHECK(!t0_example_prepare(&ex, json, &err));
    CHECK(!t0_template_apply(&s->templates[0], &ex, 0, 0, 0, &out, &err));
    CHECK(!strcmp(out.input, "|||a|||b||| |||") && !strcmp(out.target, "No") && out.label == 0);
    t0_rendered_clear(&out);
    t0_example_clear(&ex);
    pv_free(json);
    line = "{\"answer-choices\": 1}";
    json = pv_from_json(line, strlen(line), &err);
    CHECK(t0_example_prepare(&ex, json, &err) == -1 && strstr(err.msg, "answer_choices"));
    pv_free(json);
    t0_templates_free(s);
}

/* Writes n lines of growing length to a plain and a .zst file and reads both back. */
static void test_lines(void)
{
    char plain[] = "/tmp/t0-lines-XXXXXX";
    int fd = mkstemp(plain);
    CHECK(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    size_t total = 0;
    char *all = NULL;
    size_t all_len = 0;
    FILE *mem = open_memstream(&all, &all_len);
    for (int i = 0; i < 3000; i++) {
        for (int j = 0; j < i * 7 % 1000; j++)
            fputc('a' + (j % 26), mem);
        fputc('\n', mem);
    }
    fputs("last line without newline", mem);
    fclose(mem);
    fwrite(all, 1, all_len, f);
    fclose(f);
    char zst[64];
    snprintf(zst, sizeof zst, "%s.zst", plain);
    size_t cap = ZSTD_compressBound(all_len);
    char *z = malloc(cap);
    size_t zl = ZSTD_compress(z, cap, all, all_len, 3);
    CHECK(!ZSTD_isError(zl));
    f = fopen(zst, "wb");
    fwrite(z, 1, zl, f);
    fclose(f);
    const char *paths[2] = {plain, zst};
    for (int p = 0; p < 2; p++) {
        t0_error err = {0};
        t0_lines *r = t0_lines_open(paths[p], &err);
        const char *line;
        size_t len, off = 0;
        int ok = 1, rc;
        uint64_t count = 0;
        while ((rc = t0_lines_next(r, &line, &len, &err)) > 0) {
            ok &= off + len <= all_len && !memcmp(all + off, line, len) && line[len] == '\0';
            off += len + 1;
            count++;
        }
        CHECK(rc == 0 && ok && count == 3001 && t0_lines_number(r) == 3001);
        t0_lines_close(r);
        total += count;
    }
    /* a cut .zst is an error, not a short read */
    f = fopen(zst, "wb");
    fwrite(z, 1, zl / 2, f);
    fclose(f);
    t0_error err = {0};
    t0_lines *r = t0_lines_open(zst, &err);
    const char *line;
    size_t len;
    int rc;
    while ((rc = t0_lines_next(r, &line, &len, &err)) > 0)
        ;
    CHECK(rc == -1 && strstr(err.msg, "zstd") != NULL);
    t0_lines_close(r);
    unlink(plain);
    unlink(zst);
    free(z);
    free(all);
    CHECK(total == 6002);
}

static void test_utf8(void)
{
    CHECK(t0_utf8_invalid("ok \xc3\xa9 \xf0\x9f\x98\x80", 10) == 10);
    CHECK(t0_utf8_invalid("a\xe9z", 3) == 1);
    CHECK(t0_utf8_invalid("\xc0\xaf", 2) < 2);         /* overlong */
    CHECK(t0_utf8_invalid("\xed\xa0\x80", 3) < 3);     /* surrogate */
    CHECK(t0_utf8_invalid("\xf4\x90\x80\x80", 4) < 4); /* > U+10FFFF */
    CHECK(t0_utf8_invalid("ab\xe2\x82", 4) == 2);
    CHECK(t0_utf8_invalid("a\0b", 3) == 1);
}

int main(void)
{
    test_parse();
    test_parse_errors();
    test_rewrite_strip_seed();
    test_apply();
    test_lines();
    test_utf8();
    return unit_summary("templates");
}
