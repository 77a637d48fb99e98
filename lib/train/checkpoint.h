/* checkpoint.h: a training run's folder (OUT_DIR) and its checkpoints.
 *
 * OUT_DIR/
 *   checkpoint-STEP/         one complete checkpoint per save, STEP the global step:
 *     config.json            the model's config.json, byte for byte
 *     model.safetensors      the weights (F32, or BF16 with bf16)
 *     spiece.model, ...      the tokenizer files of the model folder, copied
 *     optimizer.safetensors  the optimizer state (adafactor.h / adamw.h)
 *     trainer_state.json     steps, batches consumed, seed and the options; written last
 *   latest -> checkpoint-STEP       (a symbolic link, replaced atomically by rename)
 *   config.json -> latest/config.json, model.safetensors -> latest/model.safetensors, ...
 * so OUT_DIR itself is a Hugging Face model folder (from_pretrained(OUT_DIR)) that always
 * shows one whole checkpoint.
 *
 * A save writes every file into OUT_DIR/.checkpoint-STEP.tmp-XXXXXX, fsyncs each file and the
 * folder, renames the folder to checkpoint-STEP, fsyncs OUT_DIR, then points `latest` at it.
 * A run killed or stopped by a full disk at any point leaves the previous checkpoint
 * whole and `latest` at it (or at the new one once it is complete); the next run removes
 * the leftover temporary folder. --keep N then removes all but the N newest checkpoints.
 * A run holds an flock on OUT_DIR, so a second run (say a --resume started by mistake) stops
 * instead of removing the first one's temporary folder.
 *
 * Test hook: with T0_STEP_TEST_KILL_IN_SAVE=1 in the environment, a save kills its own
 * process (SIGKILL) once the weights are in the temporary folder (tests/step.bats).
 */
#ifndef T0_CHECKPOINT_H
#define T0_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "train/trainer.h"

/* The files copied into every checkpoint as they are: config.json and the tokenizer's. */
typedef struct {
    char name[64];
    char *data;
    size_t len;
} ckpt_file;

typedef struct {
    ckpt_file *files;
    int n;
} ckpt_assets;

/* Reads config.json (required) and whichever tokenizer files a model folder has
 * (spiece.model, tokenizer.json, tokenizer_config.json, special_tokens_map.json,
 * added_tokens.json, generation_config.json). */
int ckpt_assets_read(const char *dir, ckpt_assets *a, t0_error *err);
void ckpt_assets_free(ckpt_assets *a);

/* What trainer_state.json holds. */
typedef struct {
    trainer_opts o;
    int64_t steps, batches;
    int rows, enc_len, dec_len;
    char model[4096]; /* the model folder the run started from (its real path); "" when not recorded */
} ckpt_state;

/* Checks OUT_DIR before a run. Fresh (resume 0): OUT_DIR must not exist or be empty.
 * resume: OUT_DIR must hold a run; it is locked (*lock, see ckpt_lock), leftover temporary
 * folders of killed saves are removed, and the path of its newest complete checkpoint goes
 * to last (n bytes). T0_EINPUT with one line naming OUT_DIR otherwise. */
int ckpt_prepare(const char *out_dir, int resume, char *last, size_t n, int *lock, t0_error *err);

/* Takes an exclusive lock on the folder out_dir (flock) for as long as the returned file
 * descriptor stays open, so two runs never write one OUT_DIR; -1 when another holds it. */
int ckpt_lock(const char *out_dir, t0_error *err);

int ckpt_read_state(const char *ckpt_dir, ckpt_state *s, t0_error *err);

typedef struct {
    int bf16; /* weights as BF16 (resuming then starts from the rounded weights) */
    int keep; /* keep the newest keep checkpoints; 0 keeps all */
    const char *model; /* the model folder the run started from, recorded in trainer_state.json; or NULL */
} ckpt_opts;

/* Saves t (its model's weights, optimizer, counters) as OUT_DIR/checkpoint-STEP (see above).
 * The path of the new checkpoint goes to saved (n bytes) when saved is not NULL. */
int ckpt_save(const char *out_dir, const trainer *t, const ckpt_assets *a, const ckpt_opts *o, char *saved,
              size_t n, t0_error *err);

#endif
