/* test_pyval.c: JSON parsing and Python's str()/repr() of values (expectations from
 * CPython 3.11: print(str(json.loads(x)))). */
#include <stdlib.h>
#include <string.h>

#include "render/pyval.h"
#include "unit.h"

static int str_is(const char *json, const char *want)
{
    t0_error err;
    pyval *v = pv_from_json(json, strlen(json), &err);
    if (!v) {
        fprintf(stderr, "parse failed: %s: %s\n", json, err.msg);
        return 0;
    }
    char *s;
    size_t n;
    int ok = pv_str(v, &s, &n, &err) == 0 && n == strlen(want) && memcmp(s, want, n) == 0;
    if (!ok)
        fprintf(stderr, "str(%s): got [%s] want [%s]\n", json, s, want);
    free(s);
    pv_free(v);
    return ok;
}

static int fails_at(const char *json, const char *col)
{
    t0_error err;
    pyval *v = pv_from_json(json, strlen(json), &err);
    if (v) {
        pv_free(v);
        return 0;
    }
    return strncmp(err.msg, col, strlen(col)) == 0;
}

static void test_str(void)
{
    CHECK(str_is("1", "1"));
    CHECK(str_is("-0", "0"));
    CHECK(str_is("1.0", "1.0"));
    CHECK(str_is("1e5", "100000.0"));
    CHECK(str_is("1e16", "1e+16"));
    CHECK(str_is("0.00001", "1e-05"));
    CHECK(str_is("0.1", "0.1"));
    CHECK(str_is("-2.50", "-2.5"));
    CHECK(str_is("123456789012345678901234567890", "123456789012345678901234567890"));
    CHECK(str_is("true", "True"));
    CHECK(str_is("null", "None"));
    CHECK(str_is("NaN", "nan"));
    CHECK(str_is("-Infinity", "-inf"));
    CHECK(str_is("\"plain\"", "plain"));
    CHECK(str_is("[\"a\", 1, null, true, 1.5]", "['a', 1, None, True, 1.5]"));
    CHECK(str_is("[\"it's\"]", "[\"it's\"]"));
    CHECK(str_is("[\"it's \\\"x\\\"\"]", "['it\\'s \"x\"']"));
    CHECK(str_is("[\"a\\tb\\nc\\u0001\\u007f\\u00a0\\u00e9\\u2028\"]", "['a\\tb\\nc\\x01\\x7f\\xa0é\\u2028']"));
    CHECK(str_is("[\"\\ud83d\\ude00\"]", "['\xf0\x9f\x98\x80']"));
    CHECK(str_is("[\"back\\\\slash\"]", "['back\\\\slash']"));
    CHECK(str_is("{\"k\": 1, \"a\": [1, {\"b\": null}]}", "{'k': 1, 'a': [1, {'b': None}]}"));
    CHECK(str_is("{\"k\": 1, \"a\": 2, \"k\": 3}", "{'k': 3, 'a': 2}"));
    CHECK(str_is("{}", "{}"));
    CHECK(str_is("[]", "[]"));
    CHECK(str_is("  [ 1 , 2 ]  ", "[1, 2]"));
}

static void test_errors(void)
{
    CHECK(fails_at("", "column 1"));
    CHECK(fails_at("[1, 2", "column 6"));
    CHECK(fails_at("{\"a\" 1}", "column 6"));
    CHECK(fails_at("[1,]", "column 4"));
    CHECK(fails_at("01", "column 2"));
    CHECK(fails_at("\"\\ud800\"", "column"));
    CHECK(fails_at("\"a\nb\"", "column 3"));
    CHECK(fails_at("\"\xff\"", "column 2"));
    CHECK(fails_at("tru", "column 1"));
    CHECK(fails_at("1 2", "column 3"));
    char deep[2000];
    memset(deep, '[', sizeof deep - 1);
    deep[sizeof deep - 1] = '\0';
    CHECK(fails_at(deep, "column"));
}

static void test_api(void)
{
    pyval *d = pv_new_dict();
    CHECK(pv_dict_set(d, "b", pv_new_str("x|||y", 5)) == 0);
    CHECK(pv_dict_set(d, "a", pv_new_int(3)) == 0);
    pyval *l = pv_new_list();
    CHECK(pv_list_append(l, pv_new_str("Yes", 3)) == 0);
    CHECK(pv_list_append(l, pv_new_none()) == 0);
    CHECK(pv_dict_set(d, "answer_choices", l) == 0);
    CHECK(pv_dict_set(d, "a", pv_new_float(0.5)) == 0); /* replaced in place */
    CHECK(pv_dict_len(d) == 3);
    CHECK(pv_typeof(pv_dict_get(d, "a")) == PV_FLOAT);
    CHECK(pv_dict_get(d, "zz") == NULL);
    size_t n;
    CHECK(pv_is_str(pv_dict_value_at(d, 0)) && !strcmp(pv_str_value(pv_dict_value_at(d, 0), &n), "x|||y") && n == 5);
    CHECK(!strcmp(pv_str_value(pv_dict_key_at(d, 2), NULL), "answer_choices"));
    CHECK(pv_list_len(l) == 2 && pv_is_str(pv_list_get(l, 0)) && pv_list_get(l, 2) == NULL);
    char *s;
    t0_error err;
    CHECK(pv_str(d, &s, &n, &err) == 0 && !strcmp(s, "{'b': 'x|||y', 'a': 0.5, 'answer_choices': ['Yes', None]}"));
    free(s);
    CHECK(pv_repr(pv_dict_value_at(d, 0), &s, &n, &err) == 0 && !strcmp(s, "'x|||y'"));
    free(s);
    pyval *shared = pv_ref(l); /* a second owner keeps the list alive */
    pv_free(d);
    CHECK(pv_list_len(shared) == 2);
    pv_free(shared);
    char buf[32];
    CHECK(pv_float_repr(1e22, buf) == 5 && !strcmp(buf, "1e+22"));
    CHECK(pv_float_repr(123456789.125, buf) && !strcmp(buf, "123456789.125"));
    CHECK(pv_float_repr(-0.0, buf) && !strcmp(buf, "-0.0"));
}

int main(void)
{
    test_str();
    test_errors();
    test_api();
    return unit_summary("test_pyval");
}
