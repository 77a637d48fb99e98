#include "spm/tokenizer_json.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

static int base64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Standard base64 (padding optional); NULL on a bad character. */
static uint8_t *base64_decode(const char *s, size_t *out_len)
{
    size_t n = strlen(s);
    uint8_t *out = malloc(n / 4 * 3 + 4);
    if (!out)
        return NULL;
    uint32_t acc = 0;
    int bits = 0;
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=')
            break;
        int v = base64_value((unsigned char)s[i]);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[len++] = (uint8_t)(acc >> bits);
        }
    }
    *out_len = len;
    return out;
}

static const char *type_of(const cJSON *node)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(node, "type");
    return cJSON_IsString(t) ? t->valuestring : "";
}

/* The first node of the given type: node itself, or a member of its list field. */
static const cJSON *find_typed(const cJSON *node, const char *type, const char *list)
{
    if (!cJSON_IsObject(node))
        return NULL;
    if (strcmp(type_of(node), type) == 0)
        return node;
    const cJSON *item;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(node, list))
        if (cJSON_IsObject(item) && strcmp(type_of(item), type) == 0)
            return item;
    return NULL;
}

static int read_charsmap(t0_spm *m, const cJSON *root, t0_error *err)
{
    const cJSON *pre = find_typed(cJSON_GetObjectItemCaseSensitive(root, "normalizer"),
                                  "Precompiled", "normalizers");
    if (!pre)
        return t0_spm_set_charsmap(m, NULL, 0, err);
    const cJSON *b64 = cJSON_GetObjectItemCaseSensitive(pre, "precompiled_charsmap");
    if (!cJSON_IsString(b64))
        return cJSON_IsNull(b64) ? t0_spm_set_charsmap(m, NULL, 0, err)
                                 : t0_fail(err, T0_EINPUT, "precompiled_charsmap is not a string");
    size_t n = 0;
    uint8_t *blob = base64_decode(b64->valuestring, &n);
    if (!blob)
        return t0_fail(err, T0_EINPUT, "precompiled_charsmap is not base64");
    int rc = t0_spm_set_charsmap(m, blob, n, err);
    free(blob);
    return rc;
}

static void read_prefix_flag(t0_spm *m, const cJSON *root)
{
    const cJSON *meta = find_typed(cJSON_GetObjectItemCaseSensitive(root, "pre_tokenizer"),
                                   "Metaspace", "pretokenizers");
    if (!meta)
        return;
    const cJSON *add = cJSON_GetObjectItemCaseSensitive(meta, "add_prefix_space");
    const cJSON *scheme = cJSON_GetObjectItemCaseSensitive(meta, "prepend_scheme");
    if (cJSON_IsBool(add))
        m->add_dummy_prefix = cJSON_IsTrue(add);
    if (cJSON_IsString(scheme))
        m->add_dummy_prefix = strcmp(scheme->valuestring, "never") != 0;
}

/* The token TemplateProcessing appends to a single sequence (T5: "</s>"). */
static const char *eos_name(const cJSON *root)
{
    const cJSON *post = find_typed(cJSON_GetObjectItemCaseSensitive(root, "post_processor"),
                                   "TemplateProcessing", "processors");
    const cJSON *single = post ? cJSON_GetObjectItemCaseSensitive(post, "single") : NULL;
    const char *name = NULL;
    const cJSON *item;
    cJSON_ArrayForEach(item, single)
    {
        const cJSON *tok = cJSON_GetObjectItemCaseSensitive(item, "SpecialToken");
        const cJSON *id = tok ? cJSON_GetObjectItemCaseSensitive(tok, "id") : NULL;
        if (cJSON_IsString(id))
            name = id->valuestring;
    }
    return name;
}

/* Types of the ids that added_tokens name: CONTROL for special ones, else USER_DEFINED. */
static int added_types(const cJSON *root, uint8_t *types, int n, t0_error *err)
{
    const cJSON *tok;
    cJSON_ArrayForEach(tok, cJSON_GetObjectItemCaseSensitive(root, "added_tokens"))
    {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(tok, "id");
        const cJSON *special = cJSON_GetObjectItemCaseSensitive(tok, "special");
        if (!cJSON_IsNumber(id))
            return t0_fail(err, T0_EINPUT, "an added token has no id");
        if (id->valuedouble < 0 || id->valuedouble >= n)
            continue; /* not in the vocabulary: nothing spm could do with it either */
        types[(int)id->valuedouble] = cJSON_IsTrue(special) ? T0_SPM_CONTROL : T0_SPM_USER_DEFINED;
    }
    return 0;
}

static int is_byte_piece(const char *s)
{
    return strlen(s) == 6 && strncmp(s, "<0x", 3) == 0 && s[5] == '>';
}

static int read_vocab(t0_spm *m, const cJSON *root, const cJSON *model, t0_error *err)
{
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(model, "vocab");
    const cJSON *unk = cJSON_GetObjectItemCaseSensitive(model, "unk_id");
    if (!cJSON_IsArray(vocab))
        return t0_fail(err, T0_EINPUT, "model.vocab is not a list");
    int n = cJSON_GetArraySize(vocab);
    if (!cJSON_IsNumber(unk) || unk->valuedouble < 0 || unk->valuedouble >= n)
        return t0_fail(err, T0_EINPUT, "unk is not defined (model.unk_id)");
    m->byte_fallback = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(model, "byte_fallback"));
    uint8_t *types = calloc((size_t)n + 1, 1);
    if (!types)
        return t0_fail(err, T0_EINTERNAL, "out of memory");
    int rc = added_types(root, types, n, err), i = 0;
    const cJSON *entry;
    cJSON_ArrayForEach(entry, vocab)
    {
        if (rc < 0)
            break;
        const cJSON *piece = cJSON_GetArrayItem(entry, 0), *score = cJSON_GetArrayItem(entry, 1);
        if (!cJSON_IsString(piece) || !cJSON_IsNumber(score)) {
            rc = t0_fail(err, T0_EINPUT, "model.vocab[%d] is not [piece, score]", i);
            break;
        }
        int type = types[i] ? types[i] : T0_SPM_NORMAL;
        if (i == (int)unk->valuedouble)
            type = T0_SPM_UNKNOWN;
        else if (m->byte_fallback && is_byte_piece(piece->valuestring))
            type = T0_SPM_BYTE;
        rc = t0_spm_add_piece(m, piece->valuestring, strlen(piece->valuestring),
                              (float)score->valuedouble, type, err);
        i++;
    }
    free(types);
    return rc;
}

t0_spm *t0_spm_from_tokenizer_json(const char *text, size_t n, t0_error *err)
{
    cJSON *root = cJSON_ParseWithLength(text, n);
    if (!root) {
        t0_fail(err, T0_EINPUT, "not valid JSON");
        return NULL;
    }
    t0_spm *m = NULL;
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (!cJSON_IsObject(model)) {
        t0_fail(err, T0_EINPUT, "not a tokenizer.json (no \"model\")");
    } else if (strcmp(type_of(model), "Unigram") != 0) {
        t0_fail(err, T0_EINPUT, "tokenizer.json model type \"%s\" is not Unigram", type_of(model));
    } else if ((m = t0_spm_new(err))) {
        read_prefix_flag(m, root);
        if (read_charsmap(m, root, err) < 0 || read_vocab(m, root, model, err) < 0 ||
            t0_spm_finish(m, eos_name(root), "<pad>", "<s>", err) < 0) {
            t0_spm_free(m);
            m = NULL;
        }
    }
    cJSON_Delete(root);
    return m;
}
