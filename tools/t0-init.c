/* t0-init: make a new T5 model directory with random weights, initialised as
 * Hugging Face transformers initialises T5 (lib/t5/t5_init.h). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/progress.h"
#include "t5/model_convert.h"
#include "t5/t5_config.h"
#include "t5/t5_init.h"

static const char *prog = "t0-init";

static const char usage[] =
    "Usage: t0-init (--preset NAME | --config FILE) --seed S [OPTIONS] -o DIR\n"
    "       t0-init --check DIR\n"
    "       t0-init --convert DIR\n"
    "Make a new T5 model directory DIR (config.json, model.safetensors, tokenizer) with random\n"
    "weights drawn as Hugging Face transformers' T5PreTrainedModel._init_weights draws them.\n"
    "\n"
    "  -p, --preset NAME     tiny, small, base, large, xl or xxl: google/t5-v1_1-* shapes\n"
    "                        (xl is T0_3B's, xxl T0's); tiny is a test model (d_model 64, 2+2 layers)\n"
    "  -c, --config FILE     a Hugging Face T5 config.json instead of a preset\n"
    "  -s, --seed S          the random seed (0 .. 2^63-1); the same seed gives the same model\n"
    "  -t, --tokenizer FILE  copy FILE in as spiece.model (or tokenizer.json when it ends in .json)\n"
    "  -d, --dtype TYPE      f32 (default) or bf16\n"
    "  -o, --output DIR      the directory to make; must not exist, or be empty\n"
    "      --progress        progress on stderr from the start (default: a rewritten line on a\n"
    "                        terminal; elsewhere, past 10 s, a line at each tenth)\n"
    "      --check DIR       check that DIR is a usable model (config.json, every tensor with its\n"
    "                        shape and a float dtype) and print a summary line; makes nothing\n"
    "      --convert DIR     write DIR/model.safetensors from DIR's PyTorch checkpoint\n"
    "                        (pytorch_model.bin, or its shards and pytorch_model.bin.index.json),\n"
    "                        in its own float type, tied embeddings once; then --check it\n"
    "  -h, --help            show this help\n"
    "  -V, --version         show the version\n"
    "\n"
    "Example:\n"
    "  t0-init --preset small --seed 1 --tokenizer spiece.model -o models/t5-small-random\n";

static void show_progress(void *ctx, int64_t done, int64_t total)
{
    t0_progress *p = ctx;
    p->total = (uint64_t)total;
    if (t0_progress_due(p, (uint64_t)done))
        t0_progress_show(p, "%3d%% (%lld of %lld parameters)", total ? (int)(100 * done / total) : 100,
                         (long long)done, (long long)total);
}

static int check(const char *dir)
{
    t5_config c;
    t5_model_summary sum;
    t0_error err = {0};
    if (t5_check_model_dir(dir, &c, &sum, &err))
        return t0_cli_report(prog, &err);
    printf("%s: ok: %d tensors, %lld parameters (F32 %d, F16 %d, BF16 %d), d_model %d, %d+%d layers, %s, %s\n", dir,
           sum.tensors, (long long)sum.params, sum.dtype_counts[ST_F32], sum.dtype_counts[ST_F16],
           sum.dtype_counts[ST_BF16], c.d_model, c.num_layers, c.num_decoder_layers, t5_config_ff_proj(&c),
           c.tie_word_embeddings ? "tied" : "untied");
    return 0;
}

static int convert(const char *dir)
{
    model_convert_summary sum;
    t0_error err = {0};
    if (model_convert_dir(dir, &sum, &err))
        return t0_cli_report(prog, &err);
    printf("%s: wrote model.safetensors: %d tensors in %s (%d tied views written once)\n", dir, sum.written,
           sum.dtype == ST_F32 ? "F32" : sum.dtype == ST_F16 ? "F16" : "BF16", sum.tied);
    return check(dir);
}

int main(int argc, char **argv)
{
    t0_cli_start(); /* before any file is opened */
    static const struct option longopts[] = {
        {"preset", required_argument, 0, 'p'},    {"config", required_argument, 0, 'c'},
        {"seed", required_argument, 0, 's'},      {"tokenizer", required_argument, 0, 't'},
        {"dtype", required_argument, 0, 'd'},     {"output", required_argument, 0, 'o'},
        {"progress", no_argument, 0, 'P'},        {"help", no_argument, 0, 'h'},
        {"version", no_argument, 0, 'V'},         {"check", required_argument, 0, 'C'},
        {"convert", required_argument, 0, 'K'},  {0, 0, 0, 0}};
    const char *preset = NULL, *config = NULL, *tokenizer = NULL, *out = NULL, *check_dir = NULL, *convert_dir = NULL;
    int64_t seed = -1;
    int progress = 0;
    st_dtype dtype = ST_F32;
    t0_error err = {0};
    int c;
    while ((c = getopt_long(argc, argv, "p:c:s:t:d:o:hV", longopts, NULL)) != -1) {
        switch (c) {
        case 'p': preset = optarg; break;
        case 'c': config = optarg; break;
        case 't': tokenizer = optarg; break;
        case 'o': out = optarg; break;
        case 'P': progress = 1; break;
        case 'C': check_dir = optarg; break;
        case 'K': convert_dir = optarg; break;
        case 's':
            if (t0_parse_int(optarg, 0, INT64_MAX, "--seed", &seed, &err))
                return t0_cli_report(prog, &err);
            break;
        case 'd':
            if (!strcmp(optarg, "f32"))
                dtype = ST_F32;
            else if (!strcmp(optarg, "bf16"))
                dtype = ST_BF16;
            else
                return t0_cli_usage_error(prog, "--dtype: expected f32 or bf16, got '%s'", optarg);
            break;
        case 'h': fputs(usage, stdout); return 0;
        case 'V': return t0_cli_version(prog);
        default: return t0_cli_usage_error(prog, "bad option");
        }
    }
    if (optind < argc)
        return t0_cli_usage_error(prog, "unexpected argument '%s'", argv[optind]);
    if (convert_dir)
        return preset || config || out || check_dir
                   ? t0_cli_usage_error(prog, "--convert writes DIR/model.safetensors only: no other option")
                   : convert(convert_dir);
    if (check_dir)
        return preset || config || out ? t0_cli_usage_error(prog, "--check makes nothing: no --preset, --config or -o")
                                       : check(check_dir);
    if (!preset == !config)
        return t0_cli_usage_error(prog, "give one of --preset or --config");
    if (seed < 0)
        return t0_cli_usage_error(prog, "--seed is required");
    if (!out)
        return t0_cli_usage_error(prog, "-o DIR is required");
    t5_config cfg;
    if (preset ? t5_config_preset(preset, &cfg, &err) : t5_config_load(config, &cfg, &err))
        return t0_cli_report(prog, &err);
    t0_progress pg;
    t0_progress_begin(&pg, prog, t0_progress_mode_default(), progress, 0, "initializing");
    if (t5_init_model_dir(out, &cfg, (uint64_t)seed, dtype, tokenizer, show_progress, &pg, &err))
        return t0_cli_report(prog, &err);
    t0_progress_end(&pg, "%s", out);
    return 0;
}
