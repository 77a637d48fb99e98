/* model_convert.h: model.safetensors from what a model directory holds (its PyTorch
 * pytorch_model.bin files, sharded or not), for those who want safetensors on disk:
 * t0-init --convert. Every tensor is written with its name, shape and values, in the
 * checkpoint's own float type (F32 when its tensors mix types); a tensor that views the
 * same bytes as one written before (T5's tied embeddings: encoder/decoder.embed_tokens and
 * a tied lm_head share shared.weight's storage) is left out, as transformers'
 * save_pretrained leaves it out, and loads through its alias (safetensors.h). */
#ifndef T0_MODEL_CONVERT_H
#define T0_MODEL_CONVERT_H

#include "common/error.h"
#include "t5/safetensors.h"

typedef struct {
    int written, tied; /* tensors written; left out as views of a written one */
    st_dtype dtype;
} model_convert_summary;

/* Writes DIR/model.safetensors (temporary file, then rename: whole or not at all). Refuses a
 * directory that already has model.safetensors or model.safetensors.index.json, and tensors
 * of other than F32, F16 and BF16. Tensors are converted one at a time. */
int model_convert_dir(const char *dir, model_convert_summary *sum, t0_error *err);

#endif
