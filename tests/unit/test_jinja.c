/* test_jinja.c: the Jinja engine against real jinja2. Every line of
 * tests/fixtures/jinja_cases.jsonl (written by tests/reference/jinja_cases.py) is a
 * template, a context, a seed and jinja2's output or error; the engine must produce
 * the same output byte for byte, or fail where jinja2 failed. jinja_random.jsonl holds
 * random expressions from tests/reference/jinja_fuzzdiff.py, jinja_corpus.jsonl real
 * promptsource templates with synthetic examples (tests/reference/jinja_corpus.py). */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render/jinja.h"
#include "render/pyval.h"
#include "unit.h"

static int shown;

static void run_case(const char *line, size_t len, int lineno)
{
    t0_error err;
    pyval *row = pv_from_json(line, len, &err);
    if (!CHECK(row != NULL)) {
        fprintf(stderr, "fixture line %d: %s\n", lineno, err.msg);
        return;
    }
    size_t tlen;
    const char *tsrc = pv_str_value(pv_dict_get(row, "template"), &tlen);
    pyval *ctx = pv_dict_get(row, "context");
    pyval *seedv = pv_dict_get(row, "seed");
    pyval *expv = pv_dict_get(row, "expected");
    pyval *strictv = pv_dict_get(row, "strict");
    jinja_options opt = {.seed = (uint64_t)(seedv ? pv_int_value(seedv) : 0), .strict = strictv ? pv_truthy(strictv) : 0};
    char *out = NULL;
    size_t out_len = 0;
    int ok = -1;
    jinja_template *t = jinja_parse(tsrc, tlen, &err);
    if (t)
        ok = jinja_render(t, ctx, &opt, &out, &out_len, &err);
    size_t elen = 0;
    const char *exp = expv ? pv_str_value(expv, &elen) : NULL;
    int pass = exp ? (ok == 0 && out_len == elen && memcmp(out, exp, elen) == 0) : ok != 0;
    if (!CHECK(pass) && shown++ < 40) {
        fprintf(stderr, "  line %d template%s: %s\n", lineno, opt.strict ? " (strict)" : "", tsrc);
        if (exp)
            fprintf(stderr, "  expected: [%s]\n", exp);
        else
            fprintf(stderr, "  expected error: %s\n", pv_str_value(pv_dict_get(row, "error"), NULL));
        if (ok == 0)
            fprintf(stderr, "  got:      [%s]\n", out);
        else
            fprintf(stderr, "  got error: %s\n", err.msg);
    }
    free(out);
    jinja_free(t);
    pv_free(row);
}

static void test_fixtures(const char *path, int min_cases)
{
    FILE *f = fopen(path, "rb");
    if (!CHECK(f != NULL)) {
        fprintf(stderr, "cannot open %s\n", path);
        return;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lineno = 0, cases = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        lineno++;
        if (line[n - 1] == '\n')
            n--;
        run_case(line, (size_t)n, lineno);
        cases++;
    }
    free(line);
    fclose(f);
    CHECK(cases >= min_cases);
}

/* The seeded rule of jinja.h against tests/fixtures/prng_draws.txt (from tests/reference/prng.py). */
static void test_prng(void)
{
    FILE *f = fopen("tests/fixtures/prng_draws.txt", "r");
    if (!CHECK(f != NULL))
        return;
    unsigned long long seed, want;
    int rows = 0;
    while (fscanf(f, "%llu", &seed) == 1) {
        uint64_t state = seed;
        for (int k = 0; k < 5; k++) {
            if (!CHECK(fscanf(f, "%llu", &want) == 1))
                break;
            CHECK(jinja_splitmix64(&state) == want);
        }
        rows++;
    }
    fclose(f);
    CHECK(rows == 5);
}

static char *render1(const char *src, const char *json, int strict, t0_error *err)
{
    pyval *ctx = json ? pv_from_json(json, strlen(json), err) : NULL;
    jinja_template *t = jinja_parse(src, strlen(src), err);
    char *out = NULL;
    jinja_options opt = {.strict = strict};
    if (t && jinja_render(t, ctx, &opt, &out, NULL, err) < 0)
        out = NULL;
    jinja_free(t);
    pv_free(ctx);
    return out;
}

static void test_strict_and_errors(void)
{
    t0_error err;
    char *out = render1("{{ title }}", "{}", 1, &err);
    CHECK(out == NULL && strstr(err.msg, "'title' is undefined"));
    out = render1("{{ title | default('x') }}", "{}", 1, &err);
    CHECK(out && !strcmp(out, "x"));
    free(out);
    out = render1("{{ title }}", "{}", 0, &err);
    CHECK(out && !strcmp(out, ""));
    free(out);
    out = render1("a\n{{ 1 +* 2 }}", NULL, 0, &err);
    CHECK(out == NULL && !strncmp(err.msg, "line 2, column", 14));
    /* limits: a huge loop and a huge string fail instead of hanging or exhausting memory */
    out = render1("{% for i in range(100000000) %}{% endfor %}", NULL, 0, &err);
    CHECK(out == NULL && strstr(err.msg, "iterations"));
    out = render1("{{ 'x' * 1000000000 }}", NULL, 0, &err);
    CHECK(out == NULL);
    out = render1("{% set ns = namespace(s='xxxxxxxx') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}", NULL, 0, &err);
    CHECK(out == NULL);
    out = render1("{% set l = [] %}{{ l.append(l) }}{{ l }}", NULL, 0, &err);
    CHECK(out && !strcmp(out, "None[[...]]"));
    free(out);
    /* the context is never modified */
    out = render1("{{ xs.append(1) }}", "{\"xs\": []}", 0, &err);
    CHECK(out == NULL && strstr(err.msg, "cannot modify"));
    /* deep nesting is an error, not a stack overflow */
    char deep[5000];
    strcpy(deep, "{{ ");
    memset(deep + 3, '(', 2000);
    strcpy(deep + 2003, "1 }}");
    CHECK(render1(deep, NULL, 0, &err) == NULL);
}

static void test_undeclared(void)
{
    t0_error err;
    const char *fixed[] = {"Yes ||| No", "{{ range(3) | join }}", "{% set y = 1 %}{{ y }}",
                           "{% for i in [1] %}{{ loop.index }}{% endfor %}"};
    const char *varying[] = {"{{ x }}", "{{ y }}{% set y = 1 %}", "{% if a %}{% endif %}",
                             "{% for i in [1] %}{% set z = 1 %}{% endfor %}{{ z }}", "{{ choices.text | join('|||') }}"};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) {
        jinja_template *t = jinja_parse(fixed[i], strlen(fixed[i]), &err);
        CHECK(t && !jinja_has_undeclared(t));
        jinja_free(t);
    }
    for (size_t i = 0; i < sizeof varying / sizeof *varying; i++) {
        jinja_template *t = jinja_parse(varying[i], strlen(varying[i]), &err);
        CHECK(t && jinja_has_undeclared(t));
        jinja_free(t);
    }
}

/* The fuzzer's regression inputs (fuzz/corpus/fuzz_jinja/regress-*: template, NUL, JSON
 * context) must parse and render (or fail) cleanly; make check SAN=1 watches memory. */
static void test_fuzz_regressions(void)
{
    const char *dir = "fuzz/corpus/fuzz_jinja";
    DIR *d = opendir(dir);
    if (!CHECK(d != NULL))
        return;
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "regress-", 8))
            continue;
        char path[512], buf[1 << 16];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        if (!CHECK(f != NULL))
            continue;
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        const char *nul = memchr(buf, 0, len);
        size_t tlen = nul ? (size_t)(nul - buf) : len;
        t0_error err;
        pyval *ctx = nul ? pv_from_json(nul + 1, len - tlen - 1, &err) : NULL;
        jinja_template *t = jinja_parse(buf, tlen, &err);
        char *out = NULL;
        if (t && jinja_render(t, ctx, NULL, &out, NULL, &err) == 0)
            free(out);
        jinja_free(t);
        pv_free(ctx);
        n++;
    }
    closedir(d);
    CHECK(n >= 3);
}

/* A parsed template is read-only while rendering: threads may share it. */
static jinja_template *shared_t;
static pyval *shared_ctx;

static void *render_many(void *arg)
{
    (void)arg;
    int ok = 1;
    for (int i = 0; i < 2000; i++) {
        char *out;
        t0_error err;
        jinja_options opt = {.seed = (uint64_t)i};
        if (jinja_render(shared_t, shared_ctx, &opt, &out, NULL, &err) < 0)
            return NULL;
        ok &= strncmp(out, "The cat|", 8) == 0;
        free(out);
    }
    return ok ? (void *)1 : NULL;
}

static void test_threads(void)
{
    const char *src = "{{ premise.split()[:2] | join(' ') }}|{% for w in words if w %}{{ loop.index }}{{ w | upper }}"
                      "{% endfor %}{{ words | choice }}{% set ns = namespace(n=0) %}{% set ns.n = ns.n + 1 %}{{ ns.n }}";
    const char *json = "{\"premise\": \"The cat sat\", \"words\": [\"a\", \"\", \"b\"]}";
    t0_error err;
    shared_t = jinja_parse(src, strlen(src), &err);
    shared_ctx = pv_from_json(json, strlen(json), &err);
    if (!CHECK(shared_t && shared_ctx))
        return;
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        CHECK(pthread_create(&th[i], NULL, render_many, NULL) == 0);
    for (int i = 0; i < 4; i++) {
        void *res;
        pthread_join(th[i], &res);
        CHECK(res != NULL);
    }
    jinja_free(shared_t);
    pv_free(shared_ctx);
}

/* The builtins reached through their tables and across the layers: filters and tests
 * named at render time (map, select), the `loop` attribute the walker hands down, `%` and
 * split from the str layer. Expected outputs are jinja2 3.1's. */
static void test_builtin_layers(void)
{
    static const char *const cases[][2] = {
        {"{% for x in 'ab' %}{{ [loop] | map(attribute='index') | list }}{% endfor %}", "[1][2]"},
        {"{{ ['b','a'] | map('upper') | join(',') }}", "B,A"},
        {"{{ [1,2,3,4] | select('odd') | list }}", "[1, 3]"},
        {"{{ [1,2,3,4] | reject('divisibleby', 3) | list }}", "[1, 2, 4]"},
        {"{{ 'ab' is lower }}{{ 'AB' is upper }}{{ '' is lower }}", "TrueTrueFalse"},
        {"{{ '%s-%d' % ('a', 2) }}", "a-2"},
        {"{{ 'a b  c'.split() }}{{ ' a b c '.rsplit(None, 1) }}", "['a', 'b', 'c'][' a b', 'c']"},
    };
    t0_error err;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = render1(cases[i][0], NULL, 0, &err);
        CHECK(out && !strcmp(out, cases[i][1]));
        if (!out || strcmp(out, cases[i][1]))
            fprintf(stderr, "  %s -> %s (want %s)\n", cases[i][0], out ? out : err.msg, cases[i][1]);
        free(out);
    }
    /* a method without parameters refuses arguments, as Python does */
    CHECK(render1("{{ 'abc'.upper(1) }}", NULL, 0, &err) == NULL && strstr(err.msg, "upper() takes no arguments"));
    CHECK(render1("{{ 'abc' | nosuchfilter }}", NULL, 0, &err) == NULL && strstr(err.msg, "No filter named 'nosuchfilter'"));
}

int main(void)
{
    test_prng();
    if (getenv("JINJA_CASES")) { /* e.g. the output of tests/reference/jinja_fuzzdiff.py */
        test_fixtures(getenv("JINJA_CASES"), 1);
        return unit_summary("test_jinja");
    }
    test_fixtures("tests/fixtures/jinja_cases.jsonl", 300);
    test_fixtures("tests/fixtures/jinja_random.jsonl", 500); /* jinja_fuzzdiff.py, seed 1 */
    test_fixtures("tests/fixtures/jinja_corpus.jsonl", 500); /* promptsource templates, jinja_corpus.py */
    test_strict_and_errors();
    test_builtin_layers();
    test_undeclared();
    test_fuzz_regressions();
    test_threads();
    return unit_summary("test_jinja");
}
