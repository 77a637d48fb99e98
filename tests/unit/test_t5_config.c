/* test_t5_config: config.json defaults and validation, presets as published, writer round
 * trip, and the tensor list checked against a checkpoint transformers saved (fixture). */
#include "t5/safetensors.h"
#include "t5/t5_config.h"
#include "unit.h"

#include <stdlib.h>
#include <unistd.h>

static int parse(const char *json, t5_config *c, t0_error *e)
{
    return t5_config_parse(json, strlen(json), "config.json", c, e);
}

static int fails_with(const char *json, const char *want)
{
    t5_config c;
    t0_error e = {0};
    int ok = parse(json, &c, &e) == -1 && e.status == T0_EINPUT && strstr(e.msg, want);
    if (!ok)
        fprintf(stderr, "  json: %s\n  message: %s\n  wanted: %s\n", json, e.msg, want);
    return ok;
}

static void test_defaults(void)
{
    t5_config c;
    t0_error e = {0};
    CHECK(parse("{}", &c, &e) == 0);
    /* transformers' T5Config() */
    CHECK(c.vocab_size == 32128 && c.d_model == 512 && c.d_kv == 64 && c.d_ff == 2048);
    CHECK(c.num_heads == 8 && c.num_layers == 6 && c.num_decoder_layers == 6);
    CHECK(c.relative_attention_num_buckets == 32 && c.relative_attention_max_distance == 128);
    CHECK(c.gated == 0 && c.act == T5_ACT_RELU && c.tie_word_embeddings == 1 && c.scale_decoder_outputs == 1);
    CHECK(c.layer_norm_epsilon == 1e-6f && c.dropout_rate == 0.1f && c.initializer_factor == 1.0f);
    CHECK(c.pad_token_id == 0 && c.eos_token_id == 1 && c.decoder_start_token_id == 0);
    CHECK(parse("{\"num_layers\": 3, \"unknown_key\": [1, {\"x\": null}]}", &c, &e) == 0);
    CHECK(c.num_layers == 3 && c.num_decoder_layers == 3);
}

/* google/t5-v1_1-small's config.json as published on the Hub */
static const char *V1_1_SMALL =
    "{\"architectures\": [\"T5ForConditionalGeneration\"], \"d_ff\": 1024, \"d_kv\": 64, \"d_model\": 512,"
    " \"decoder_start_token_id\": 0, \"dropout_rate\": 0.1, \"eos_token_id\": 1, \"feed_forward_proj\": \"gated-gelu\","
    " \"initializer_factor\": 1.0, \"is_encoder_decoder\": true, \"layer_norm_epsilon\": 1e-06, \"model_type\": \"t5\","
    " \"num_decoder_layers\": 8, \"num_heads\": 6, \"num_layers\": 8, \"output_past\": true, \"pad_token_id\": 0,"
    " \"relative_attention_num_buckets\": 32, \"tie_word_embeddings\": false, \"vocab_size\": 32128}";

static int same_config(const t5_config *a, const t5_config *b)
{
    return a->vocab_size == b->vocab_size && a->d_model == b->d_model && a->d_kv == b->d_kv && a->d_ff == b->d_ff &&
           a->num_heads == b->num_heads && a->num_layers == b->num_layers &&
           a->num_decoder_layers == b->num_decoder_layers &&
           a->relative_attention_num_buckets == b->relative_attention_num_buckets &&
           a->relative_attention_max_distance == b->relative_attention_max_distance && a->gated == b->gated &&
           a->act == b->act && a->tie_word_embeddings == b->tie_word_embeddings &&
           a->scale_decoder_outputs == b->scale_decoder_outputs && a->layer_norm_epsilon == b->layer_norm_epsilon &&
           a->dropout_rate == b->dropout_rate && a->initializer_factor == b->initializer_factor &&
           a->pad_token_id == b->pad_token_id && a->eos_token_id == b->eos_token_id &&
           a->decoder_start_token_id == b->decoder_start_token_id;
}

static void test_presets(void)
{
    t5_config c, hub;
    t0_error e = {0};
    CHECK(parse(V1_1_SMALL, &hub, &e) == 0);
    CHECK(t5_config_preset("small", &c, &e) == 0 && same_config(&c, &hub));
    CHECK(hub.gated && hub.act == T5_ACT_GELU_NEW && !hub.tie_word_embeddings && !hub.scale_decoder_outputs);
    struct { const char *name; int d_model, d_kv, d_ff, heads, layers, vocab; } want[] = {
        {"tiny", 64, 16, 128, 4, 2, 512},      {"small", 512, 64, 1024, 6, 8, 32128},
        {"base", 768, 64, 2048, 12, 12, 32128}, {"large", 1024, 64, 2816, 16, 24, 32128},
        {"xl", 2048, 64, 5120, 32, 24, 32128},  {"xxl", 4096, 64, 10240, 64, 24, 32128},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        CHECK(t5_config_preset(want[i].name, &c, &e) == 0);
        CHECK(c.d_model == want[i].d_model && c.d_kv == want[i].d_kv && c.d_ff == want[i].d_ff);
        CHECK(c.num_heads == want[i].heads && c.num_layers == want[i].layers && c.num_decoder_layers == want[i].layers);
        CHECK(c.vocab_size == want[i].vocab && c.gated && c.act == T5_ACT_GELU_NEW && !c.tie_word_embeddings);
        CHECK(c.relative_attention_num_buckets == 32 && c.relative_attention_max_distance == 128);
    }
    CHECK(t5_config_preset("huge", &c, &e) == -1 && strstr(e.msg, "unknown preset \"huge\""));
}

static void test_activations(void)
{
    t5_config c;
    t0_error e = {0};
    CHECK(parse("{\"feed_forward_proj\": \"gated-relu\"}", &c, &e) == 0 && c.gated && c.act == T5_ACT_RELU);
    CHECK(parse("{\"feed_forward_proj\": \"gelu\"}", &c, &e) == 0 && !c.gated && c.act == T5_ACT_GELU);
    CHECK(parse("{\"feed_forward_proj\": \"relu\"}", &c, &e) == 0 && !c.gated && c.act == T5_ACT_RELU);
    /* explicit dense_act_fn wins, as in transformers */
    CHECK(parse("{\"feed_forward_proj\": \"gated-gelu\", \"dense_act_fn\": \"gelu_pytorch_tanh\"}", &c, &e) == 0 &&
          c.gated && c.act == T5_ACT_GELU_NEW);
    CHECK(parse("{\"feed_forward_proj\": \"gated-gelu\", \"dense_act_fn\": \"gelu\"}", &c, &e) == 0 &&
          c.act == T5_ACT_GELU);
    CHECK(fails_with("{\"feed_forward_proj\": \"gated-silu\"}",
                     "config.json: key feed_forward_proj: unknown value \"gated-silu\""));
    CHECK(fails_with("{\"feed_forward_proj\": \"swish-gelu\"}", "key feed_forward_proj: unknown value"));
    CHECK(fails_with("{\"feed_forward_proj\": \"gated-gelu-x\"}", "key feed_forward_proj"));
    CHECK(fails_with("{\"feed_forward_proj\": 3}", "key feed_forward_proj: expected a string"));
    CHECK(fails_with("{\"dense_act_fn\": \"tanh\"}", "key dense_act_fn: unknown value \"tanh\""));
}

static void test_bad_configs(void)
{
    CHECK(fails_with("{\"d_model\": 64,", "config.json: malformed JSON"));
    CHECK(fails_with("", "config.json: malformed JSON"));
    CHECK(fails_with("[1]", "config.json: expected a JSON object"));
    CHECK(fails_with("{\"d_model\": 0}", "config.json: key d_model: 0, expected a positive integer"));
    CHECK(fails_with("{\"num_heads\": -4}", "key num_heads: -4"));
    CHECK(fails_with("{\"d_kv\": 6.5}", "key d_kv: expected an integer"));
    CHECK(fails_with("{\"d_ff\": \"2048\"}", "key d_ff: expected an integer"));
    CHECK(fails_with("{\"vocab_size\": 1e12}", "key vocab_size: expected an integer"));
    CHECK(fails_with("{\"tie_word_embeddings\": 1}", "key tie_word_embeddings: expected true or false"));
    CHECK(fails_with("{\"layer_norm_epsilon\": 0}", "key layer_norm_epsilon"));
    CHECK(fails_with("{\"dropout_rate\": 1.5}", "key dropout_rate"));
    CHECK(fails_with("{\"eos_token_id\": 40000}", "key eos_token_id: 40000, outside the vocabulary"));
    CHECK(fails_with("{\"num_layers\": 5000}", "more than 1000 layers"));
    t5_config c;
    t0_error e = {0};
    CHECK(t5_config_load("/nonexistent/config.json", &c, &e) == -1 && strstr(e.msg, "/nonexistent/config.json: No such"));
}

static void test_write_roundtrip(void)
{
    char dir[] = "/tmp/t0-test-cfg-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[300];
    snprintf(path, sizeof path, "%s/config.json", dir);
    const char *names[] = {"tiny", "small", "xxl"};
    t0_error e = {0};
    for (int i = 0; i < 3; i++) {
        t5_config a, b;
        CHECK(t5_config_preset(names[i], &a, &e) == 0);
        CHECK(t5_config_write(path, &a, &e) == 0);
        CHECK(t5_config_load(path, &b, &e) == 0 && same_config(&a, &b));
    }
    /* odd values survive too: relu, tied, eps 1e-5, factor 0.5, a plain gelu */
    t5_config a, b;
    CHECK(parse("{\"feed_forward_proj\": \"gelu\", \"layer_norm_epsilon\": 1e-5, \"initializer_factor\": 0.5,"
                " \"dropout_rate\": 0.0, \"num_decoder_layers\": 2, \"relative_attention_max_distance\": 64}",
                &a, &e) == 0);
    CHECK(t5_config_write(path, &a, &e) == 0 && t5_config_load(path, &b, &e) == 0 && same_config(&a, &b));
    a.d_model = 0;
    CHECK(t5_config_write(path, &a, &e) == -1 && strstr(e.msg, "d_model"));
    unlink(path);
    rmdir(dir);
}

static int64_t spec_params(const t5_tensor_spec *s, int n)
{
    int64_t total = 0;
    for (int i = 0; i < n; i++)
        total += s[i].ndim == 1 ? s[i].shape[0] : s[i].shape[0] * s[i].shape[1];
    return total;
}

static void test_specs(void)
{
    t5_config c;
    t0_error e = {0};
    t5_tensor_spec *s;
    int n;
    CHECK(t5_config_preset("tiny", &c, &e) == 0 && t5_tensor_specs(&c, &s, &n, &e) == 0);
    /* shared, 2 encoder blocks (9 + bias), final, 2 decoder blocks (14 + bias), final, lm_head */
    CHECK(n == 52);
    CHECK(!strcmp(s[0].name, "shared.weight") && s[0].shape[0] == 512 && s[0].shape[1] == 64);
    CHECK(!strcmp(s[1].name, "encoder.block.0.layer.0.SelfAttention.q.weight") && s[1].shape[0] == 64);
    CHECK(!strcmp(s[5].name, "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight") &&
          s[5].shape[0] == 32 && s[5].shape[1] == 4);
    CHECK(!strcmp(s[n - 1].name, "lm_head.weight"));
    free(s);
    /* t5-v1_1-small: transformers counts 60,511,616 without lm_head (5.x builds it tied) + 32128*512 */
    CHECK(t5_config_preset("small", &c, &e) == 0 && t5_tensor_specs(&c, &s, &n, &e) == 0);
    CHECK(spec_params(s, n) == 76961152);
    free(s);
    /* the original t5-small (relu, tied): 60,506,624 */
    CHECK(parse("{}", &c, &e) == 0 && t5_tensor_specs(&c, &s, &n, &e) == 0);
    CHECK(spec_params(s, n) == 60506624);
    CHECK(strcmp(s[n - 1].name, "decoder.final_layer_norm.weight") == 0);
    free(s);
}

/* tests/fixtures/st/sharded is a checkpoint transformers' save_pretrained wrote: its config
 * parses, and its tensors are exactly our list with our shapes. */
static void test_against_transformers(void)
{
    t5_config c;
    t0_error e = {0};
    CHECK(t5_config_load("tests/fixtures/st/sharded/config.json", &c, &e) == 0);
    CHECK(c.d_model == 8 && c.d_kv == 4 && c.d_ff == 16 && c.num_heads == 2 && c.vocab_size == 32);
    CHECK(c.gated && c.act == T5_ACT_GELU_NEW && !c.tie_word_embeddings && !c.scale_decoder_outputs);
    t5_tensor_spec *s;
    int n;
    st_model *m = st_open("tests/fixtures/st/sharded", &e);
    CHECK(m != NULL);
    if (!m || t5_tensor_specs(&c, &s, &n, &e))
        return;
    CHECK(st_count(m) == n);
    int all = 1;
    for (int i = 0; i < n; i++) {
        const st_tensor *t = st_find(m, s[i].name);
        if (!t || t->ndim != s[i].ndim || t->shape[0] != s[i].shape[0] || (t->ndim == 2 && t->shape[1] != s[i].shape[1])) {
            fprintf(stderr, "  spec %s not in the checkpoint as listed\n", s[i].name);
            all = 0;
        }
    }
    CHECK(all);
    free(s);
    st_close(m);
}

int main(void)
{
    test_defaults();
    test_presets();
    test_activations();
    test_bad_configs();
    test_write_roundtrip();
    test_specs();
    test_against_transformers();
    return unit_summary("test_t5_config");
}
