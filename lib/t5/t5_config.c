/* t5_config.c: config.json in and out, the published presets, the tensor list. */
#include "t5/t5_config.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Files larger than this are not a config.json. */
#define CONFIG_MAX_BYTES (16 << 20)

void t5_config_defaults(t5_config *c)
{
    /* transformers' T5Config.__init__ defaults (t5-small's shape), tie from PretrainedConfig */
    *c = (t5_config){
        .vocab_size = 32128,
        .d_model = 512,
        .d_kv = 64,
        .d_ff = 2048,
        .num_heads = 8,
        .num_layers = 6,
        .num_decoder_layers = 6,
        .relative_attention_num_buckets = 32,
        .relative_attention_max_distance = 128,
        .gated = 0,
        .act = T5_ACT_RELU,
        .tie_word_embeddings = 1,
        .layer_norm_epsilon = 1e-6f,
        .dropout_rate = 0.1f,
        .initializer_factor = 1.0f,
        .pad_token_id = 0,
        .eos_token_id = 1,
        .decoder_start_token_id = 0,
        .scale_decoder_outputs = 1,
    };
}

/* Activation names as transformers' ACT2FN spells them; gelu_pytorch_tanh is gelu_new's formula. */
static int activation_from_name(const char *s, t5_activation *act)
{
    if (!strcmp(s, "relu"))
        *act = T5_ACT_RELU;
    else if (!strcmp(s, "gelu_new") || !strcmp(s, "gelu_pytorch_tanh"))
        *act = T5_ACT_GELU_NEW;
    else if (!strcmp(s, "gelu"))
        *act = T5_ACT_GELU;
    else
        return -1;
    return 0;
}

static const char *activation_name(t5_activation act)
{
    switch (act) {
    case T5_ACT_RELU: return "relu";
    case T5_ACT_GELU_NEW: return "gelu_new";
    case T5_ACT_GELU: return "gelu";
    }
    return "relu";
}

/* T5Config: "[gated-]ACT"; "gated-gelu" is kept as gelu_new for backward compatibility. */
static int parse_ff_proj(const char *s, t5_config *c)
{
    const char *act = s;
    c->gated = 0;
    if (!strncmp(s, "gated-", 6)) {
        c->gated = 1;
        act = s + 6;
    }
    if (strchr(act, '-'))
        return -1;
    if (c->gated && !strcmp(act, "gelu")) {
        c->act = T5_ACT_GELU_NEW;
        return 0;
    }
    if (strcmp(act, "relu") && strcmp(act, "gelu"))
        return -1;
    return activation_from_name(act, &c->act);
}

const char *t5_config_ff_proj(const t5_config *c)
{
    if (c->gated)
        return c->act == T5_ACT_RELU ? "gated-relu" : "gated-gelu";
    return c->act == T5_ACT_RELU ? "relu" : "gelu";
}

/* An integer key: absent keeps *out; present must be an integral number in int range (null keeps too). */
static int get_int(const cJSON *root, const char *key, int *out, const char *what, t0_error *err)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!it || cJSON_IsNull(it))
        return 0;
    double v = it->valuedouble;
    if (!cJSON_IsNumber(it) || !(v >= -2147483648.0 && v <= 2147483647.0) || v != floor(v))
        return t0_fail(err, T0_EINPUT, "%s: key %s: expected an integer", what, key);
    *out = (int)v;
    return 0;
}

static int get_float(const cJSON *root, const char *key, float *out, const char *what, t0_error *err)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!it || cJSON_IsNull(it))
        return 0;
    if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) || fabs(it->valuedouble) > 3.0e38)
        return t0_fail(err, T0_EINPUT, "%s: key %s: expected a number", what, key);
    *out = (float)it->valuedouble;
    return 0;
}

static int get_bool(const cJSON *root, const char *key, int *out, const char *what, t0_error *err)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!it || cJSON_IsNull(it))
        return 0;
    if (!cJSON_IsBool(it))
        return t0_fail(err, T0_EINPUT, "%s: key %s: expected true or false", what, key);
    *out = cJSON_IsTrue(it);
    return 0;
}

/* A string key or NULL when absent; fails when present and not a string. */
static int get_string(const cJSON *root, const char *key, const char **out, const char *what, t0_error *err)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, key);
    *out = NULL;
    if (!it || cJSON_IsNull(it))
        return 0;
    if (!cJSON_IsString(it))
        return t0_fail(err, T0_EINPUT, "%s: key %s: expected a string", what, key);
    *out = it->valuestring;
    return 0;
}

/* The activation keys. T5Config derives dense_act_fn and is_gated_act from feed_forward_proj,
 * but explicit dense_act_fn / is_gated_act keys in the file override them (PretrainedConfig
 * sets every remaining key as an attribute), so they do here too. */
static int read_activation(const cJSON *root, t5_config *c, const char *what, t0_error *err)
{
    const char *ff, *act;
    if (get_string(root, "feed_forward_proj", &ff, what, err) ||
        get_string(root, "dense_act_fn", &act, what, err))
        return -1;
    if (ff && parse_ff_proj(ff, c))
        return t0_fail(err, T0_EINPUT,
                       "%s: key feed_forward_proj: unknown value \"%s\" (want relu, gelu, gated-gelu or gated-relu)",
                       what, ff);
    if (act && activation_from_name(act, &c->act))
        return t0_fail(err, T0_EINPUT,
                       "%s: key dense_act_fn: unknown value \"%s\" (want relu, gelu, gelu_new or gelu_pytorch_tanh)",
                       what, act);
    return get_bool(root, "is_gated_act", &c->gated, what, err);
}

static int read_fields(const cJSON *root, t5_config *c, const char *what, t0_error *err)
{
    struct { const char *key; int *val; } ints[] = {
        {"vocab_size", &c->vocab_size},
        {"d_model", &c->d_model},
        {"d_kv", &c->d_kv},
        {"d_ff", &c->d_ff},
        {"num_heads", &c->num_heads},
        {"num_layers", &c->num_layers},
        {"relative_attention_num_buckets", &c->relative_attention_num_buckets},
        {"relative_attention_max_distance", &c->relative_attention_max_distance},
        {"pad_token_id", &c->pad_token_id},
        {"eos_token_id", &c->eos_token_id},
        {"decoder_start_token_id", &c->decoder_start_token_id},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        if (get_int(root, ints[i].key, ints[i].val, what, err))
            return -1;
    c->num_decoder_layers = c->num_layers;
    if (get_int(root, "num_decoder_layers", &c->num_decoder_layers, what, err) ||
        get_float(root, "layer_norm_epsilon", &c->layer_norm_epsilon, what, err) ||
        get_float(root, "dropout_rate", &c->dropout_rate, what, err) ||
        get_float(root, "initializer_factor", &c->initializer_factor, what, err) ||
        get_bool(root, "tie_word_embeddings", &c->tie_word_embeddings, what, err))
        return -1;
    c->scale_decoder_outputs = c->tie_word_embeddings;
    if (get_bool(root, "scale_decoder_outputs", &c->scale_decoder_outputs, what, err))
        return -1;
    return read_activation(root, c, what, err);
}

int t5_config_validate(const t5_config *c, t0_error *err)
{
    struct { const char *key; int val; } dims[] = {
        {"vocab_size", c->vocab_size},
        {"d_model", c->d_model},
        {"d_kv", c->d_kv},
        {"d_ff", c->d_ff},
        {"num_heads", c->num_heads},
        {"num_layers", c->num_layers},
        {"num_decoder_layers", c->num_decoder_layers},
        {"relative_attention_num_buckets", c->relative_attention_num_buckets},
        {"relative_attention_max_distance", c->relative_attention_max_distance},
    };
    for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++)
        if (dims[i].val <= 0)
            return t0_fail(err, T0_EINPUT, "key %s: %d, expected a positive integer", dims[i].key, dims[i].val);
    /* heads*d_kv and the largest matrix's element count must fit the int64 products we make */
    if ((int64_t)c->num_heads * c->d_kv > (1 << 30))
        return t0_fail(err, T0_EINPUT, "keys num_heads, d_kv: num_heads*d_kv %lld too large",
                       (long long)c->num_heads * c->d_kv);
    if (c->num_layers > 1000 || c->num_decoder_layers > 1000)
        return t0_fail(err, T0_EINPUT, "key num_layers: more than 1000 layers");
    if (!(c->layer_norm_epsilon > 0))
        return t0_fail(err, T0_EINPUT, "key layer_norm_epsilon: %g, expected a positive number",
                       (double)c->layer_norm_epsilon);
    if (!(c->dropout_rate >= 0 && c->dropout_rate < 1))
        return t0_fail(err, T0_EINPUT, "key dropout_rate: %g, expected 0 <= p < 1", (double)c->dropout_rate);
    int ids[] = {c->pad_token_id, c->eos_token_id, c->decoder_start_token_id};
    const char *id_keys[] = {"pad_token_id", "eos_token_id", "decoder_start_token_id"};
    for (int i = 0; i < 3; i++)
        if (ids[i] < 0 || ids[i] >= c->vocab_size)
            return t0_fail(err, T0_EINPUT, "key %s: %d, outside the vocabulary (%d)", id_keys[i], ids[i],
                           c->vocab_size);
    return 0;
}

int t5_config_parse(const char *json, size_t len, const char *what, t5_config *c, t0_error *err)
{
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root)
        return t0_fail(err, T0_EINPUT, "%s: malformed JSON", what);
    int rc = -1;
    t5_config tmp;
    t5_config_defaults(&tmp);
    if (!cJSON_IsObject(root))
        t0_fail(err, T0_EINPUT, "%s: expected a JSON object", what);
    else if (read_fields(root, &tmp, what, err) == 0) {
        if (t5_config_validate(&tmp, err))
            t0_error_prefix(err, "%s", what);
        else {
            *c = tmp;
            rc = 0;
        }
    }
    cJSON_Delete(root);
    return rc;
}

int t5_config_load(const char *path, t5_config *c, t0_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return t0_fail(err, T0_EINPUT, "%s: %s", path, strerror(errno));
    char *buf = malloc(CONFIG_MAX_BYTES);
    if (!buf) {
        fclose(f);
        return t0_fail(err, T0_EINTERNAL, "%s: out of memory", path);
    }
    size_t len = fread(buf, 1, CONFIG_MAX_BYTES, f);
    int bad = ferror(f), big = !bad && len == CONFIG_MAX_BYTES && fgetc(f) != EOF;
    fclose(f);
    int rc;
    if (bad)
        rc = t0_fail(err, T0_EINPUT, "%s: read error", path);
    else if (big)
        rc = t0_fail(err, T0_EINPUT, "%s: larger than %d bytes, not a config.json", path, CONFIG_MAX_BYTES);
    else
        rc = t5_config_parse(buf, len, path, c, err);
    free(buf);
    return rc;
}

/* google/t5-v1_1-* as published on the Hub: gated-gelu, untied, vocab 32128. */
static void v1_1(t5_config *c, int d_model, int d_ff, int heads, int layers)
{
    t5_config_defaults(c);
    c->d_model = d_model;
    c->d_kv = 64;
    c->d_ff = d_ff;
    c->num_heads = heads;
    c->num_layers = c->num_decoder_layers = layers;
    c->gated = 1;
    c->act = T5_ACT_GELU_NEW;
    c->tie_word_embeddings = 0;
    c->scale_decoder_outputs = 0;
}

int t5_config_preset(const char *name, t5_config *c, t0_error *err)
{
    if (!strcmp(name, "small"))
        v1_1(c, 512, 1024, 6, 8);
    else if (!strcmp(name, "base"))
        v1_1(c, 768, 2048, 12, 12);
    else if (!strcmp(name, "large"))
        v1_1(c, 1024, 2816, 16, 24);
    else if (!strcmp(name, "xl"))
        v1_1(c, 2048, 5120, 32, 24);
    else if (!strcmp(name, "xxl"))
        v1_1(c, 4096, 10240, 64, 24);
    else if (!strcmp(name, "tiny")) {
        v1_1(c, 64, 128, 4, 2);
        c->d_kv = 16;
        c->vocab_size = 512;
    } else
        return t0_fail(err, T0_EINPUT, "unknown preset \"%s\" (want tiny, small, base, large, xl or xxl)", name);
    return 0;
}

/* The shortest decimal that reads back as the same float, so 1e-6f is written "1e-06". */
static void format_float(char *buf, size_t size, float v)
{
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(buf, size, "%.*g", prec, (double)v);
        if (strtof(buf, NULL) == v)
            break;
    }
    if (!strpbrk(buf, ".eEn")) /* keep it a float in Python: 1 -> 1.0 */
        strncat(buf, ".0", size - strlen(buf) - 1);
}

static int write_config_json(FILE *f, const t5_config *c)
{
    char eps[32], drop[32], factor[32];
    format_float(eps, sizeof eps, c->layer_norm_epsilon);
    format_float(drop, sizeof drop, c->dropout_rate);
    format_float(factor, sizeof factor, c->initializer_factor);
    return fprintf(f,
                   "{\n"
                   "  \"architectures\": [\"T5ForConditionalGeneration\"],\n"
                   "  \"model_type\": \"t5\",\n"
                   "  \"d_ff\": %d,\n"
                   "  \"d_kv\": %d,\n"
                   "  \"d_model\": %d,\n"
                   "  \"decoder_start_token_id\": %d,\n"
                   "  \"dense_act_fn\": \"%s\",\n"
                   "  \"dropout_rate\": %s,\n"
                   "  \"eos_token_id\": %d,\n"
                   "  \"feed_forward_proj\": \"%s\",\n"
                   "  \"initializer_factor\": %s,\n"
                   "  \"is_encoder_decoder\": true,\n"
                   "  \"is_gated_act\": %s,\n"
                   "  \"layer_norm_epsilon\": %s,\n"
                   "  \"num_decoder_layers\": %d,\n"
                   "  \"num_heads\": %d,\n"
                   "  \"num_layers\": %d,\n"
                   "  \"pad_token_id\": %d,\n"
                   "  \"relative_attention_max_distance\": %d,\n"
                   "  \"relative_attention_num_buckets\": %d,\n"
                   "  \"scale_decoder_outputs\": %s,\n"
                   "  \"tie_word_embeddings\": %s,\n"
                   "  \"torch_dtype\": \"float32\",\n"
                   "  \"use_cache\": true,\n"
                   "  \"vocab_size\": %d\n"
                   "}\n",
                   c->d_ff, c->d_kv, c->d_model, c->decoder_start_token_id, activation_name(c->act), drop,
                   c->eos_token_id, t5_config_ff_proj(c), factor, c->gated ? "true" : "false", eps,
                   c->num_decoder_layers, c->num_heads, c->num_layers, c->pad_token_id,
                   c->relative_attention_max_distance, c->relative_attention_num_buckets,
                   c->scale_decoder_outputs ? "true" : "false", c->tie_word_embeddings ? "true" : "false",
                   c->vocab_size) < 0
               ? -1
               : 0;
}

int t5_config_write(const char *path, const t5_config *c, t0_error *err)
{
    if (t5_config_validate(c, err))
        return -1;
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp)
        return t0_fail(err, T0_EINTERNAL, "%s: out of memory", path);
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        t0_fail(err, T0_EINPUT, "%s: %s", path, strerror(errno));
        free(tmp);
        return -1;
    }
    fchmod(fd, 0644); /* mkstemp makes it 0600 */
    FILE *f = fdopen(fd, "w");
    int bad = !f || write_config_json(f, c);
    if (f)
        bad |= fclose(f) != 0;
    else
        close(fd);
    if (bad || rename(tmp, path)) {
        t0_fail(err, T0_EINTERNAL, "%s: write failed: %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

/* ---- tensor list ---- */

typedef struct {
    t5_tensor_spec *v;
    int n, cap;
} spec_list;

static int add_spec(spec_list *l, int64_t d0, int64_t d1, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int add_spec(spec_list *l, int64_t d0, int64_t d1, const char *fmt, ...)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        t5_tensor_spec *v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    t5_tensor_spec *s = &l->v[l->n++];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->name, sizeof s->name, fmt, ap);
    va_end(ap);
    s->ndim = d1 ? 2 : 1;
    s->shape[0] = d0;
    s->shape[1] = d1;
    return 0;
}

/* q, k, v, o of one attention, and the relative position bias table when it has one. */
static int add_attention(spec_list *l, const t5_config *c, const char *prefix, int with_bias)
{
    int64_t inner = (int64_t)c->num_heads * c->d_kv;
    int rc = add_spec(l, inner, c->d_model, "%s.q.weight", prefix) |
             add_spec(l, inner, c->d_model, "%s.k.weight", prefix) |
             add_spec(l, inner, c->d_model, "%s.v.weight", prefix) |
             add_spec(l, c->d_model, inner, "%s.o.weight", prefix);
    if (with_bias)
        rc |= add_spec(l, c->relative_attention_num_buckets, c->num_heads, "%s.relative_attention_bias.weight",
                       prefix);
    return rc;
}

static int add_feed_forward(spec_list *l, const t5_config *c, const char *prefix)
{
    int rc = 0;
    if (c->gated)
        rc |= add_spec(l, c->d_ff, c->d_model, "%s.DenseReluDense.wi_0.weight", prefix) |
              add_spec(l, c->d_ff, c->d_model, "%s.DenseReluDense.wi_1.weight", prefix);
    else
        rc |= add_spec(l, c->d_ff, c->d_model, "%s.DenseReluDense.wi.weight", prefix);
    return rc | add_spec(l, c->d_model, c->d_ff, "%s.DenseReluDense.wo.weight", prefix) |
           add_spec(l, c->d_model, 0, "%s.layer_norm.weight", prefix);
}

static int add_block(spec_list *l, const t5_config *c, const char *stack, int i)
{
    char p[64], q[80];
    int rc = 0;
    snprintf(p, sizeof p, "%s.block.%d.layer.0", stack, i);
    snprintf(q, sizeof q, "%s.SelfAttention", p);
    rc |= add_attention(l, c, q, i == 0) | add_spec(l, c->d_model, 0, "%s.layer_norm.weight", p);
    int ff = 1;
    if (!strcmp(stack, "decoder")) {
        snprintf(p, sizeof p, "%s.block.%d.layer.1", stack, i);
        snprintf(q, sizeof q, "%s.EncDecAttention", p);
        rc |= add_attention(l, c, q, 0) | add_spec(l, c->d_model, 0, "%s.layer_norm.weight", p);
        ff = 2;
    }
    snprintf(p, sizeof p, "%s.block.%d.layer.%d", stack, i, ff);
    return rc | add_feed_forward(l, c, p);
}

int t5_tensor_specs(const t5_config *c, t5_tensor_spec **specs, int *n, t0_error *err)
{
    if (t5_config_validate(c, err))
        return -1;
    spec_list l = {0};
    int rc = add_spec(&l, c->vocab_size, c->d_model, "shared.weight");
    for (int i = 0; i < c->num_layers; i++)
        rc |= add_block(&l, c, "encoder", i);
    rc |= add_spec(&l, c->d_model, 0, "encoder.final_layer_norm.weight");
    for (int i = 0; i < c->num_decoder_layers; i++)
        rc |= add_block(&l, c, "decoder", i);
    rc |= add_spec(&l, c->d_model, 0, "decoder.final_layer_norm.weight");
    if (!c->tie_word_embeddings)
        rc |= add_spec(&l, c->vocab_size, c->d_model, "lm_head.weight");
    if (rc) {
        free(l.v);
        return t0_fail(err, T0_EINTERNAL, "out of memory listing tensors");
    }
    *specs = l.v;
    *n = l.n;
    return 0;
}
