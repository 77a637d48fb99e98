/* torch_bin.h: PyTorch checkpoints (pytorch_model.bin, and each shard of a sharded one):
 * the tensors of a torch.save'd state dict, memory-mapped.
 *
 * A file is the zip archive of torch_zip.h holding the pickle of torch_pickle.h and one
 * entry a storage. Each tensor of the state dict is a view of a storage (offset, size,
 * stride); T5's state dicts tie shared.weight, encoder/decoder.embed_tokens.weight (and
 * lm_head.weight when tied) to one storage. Here:
 *   - a storage is used in place in the mapping when its entry's data is aligned to its
 *     element size (torch aligns entries to 64 bytes), else copied once into memory;
 *   - a contiguous view points into its storage (tied tensors share bytes);
 *   - a view that is not contiguous (torch.save of a transposed tensor) is copied into
 *     row-major order (the copy is at most its storage's size: views that would repeat
 *     elements, as expand() makes, are refused);
 *   - every offset, size and stride is checked against its storage and the storage against
 *     its archive entry, with overflow checks, before anything is made.
 * The legacy format (torch.save before PyTorch 1.6: a bare pickle, or a tar) is refused with
 * a line that says how to convert it.
 *
 * torch_bin knows nothing of safetensors; safetensors.c's st_open uses it for directories
 * with pytorch_model.bin or pytorch_model.bin.index.json (and files named *.bin), so every
 * program that opens a model reads both.
 */
#ifndef T0_TORCH_BIN_H
#define T0_TORCH_BIN_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define TB_PKL_MAX (64u << 20) /* data.pkl of a state dict: ~200 bytes a tensor */

typedef struct {
    const char *name;
    const char *dtype;  /* as safetensors names dtypes: "F32", "F16", "BF16", "I64", ... */
    int ndim;
    int64_t shape[8];
    const void *data;   /* row-major, little-endian, aligned to the element size (never NULL) */
    size_t nbytes;
    int copied;         /* 1: the view was not contiguous, or its storage not aligned, so data is a copy */
} tb_tensor;

typedef struct tb_file tb_file;

/* Maps path and reads its state dict. NULL and err (the message names the file and, where
 * it applies, the tensor) on failure. */
tb_file *tb_open(const char *path, t0_error *err);

/* The same over a buffer (not copied: it must outlive the file); what names it. */
tb_file *tb_open_buffer(const void *buf, size_t len, const char *what, t0_error *err);

int tb_count(const tb_file *f);
const tb_tensor *tb_at(const tb_file *f, int i); /* in the state dict's order */

void tb_close(tb_file *f);

#endif
