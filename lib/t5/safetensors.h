/* safetensors.h: reading and writing Hugging Face safetensors files.
 *
 * Format (https://huggingface.co/docs/safetensors): an 8-byte little-endian header
 * length N, then N bytes of JSON: {"name": {"dtype": "F32", "shape": [..],
 * "data_offsets": [begin, end]}, ..., "__metadata__": {"k": "v"}}, then the data
 * block; offsets are relative to the data block, little-endian, row-major.
 *
 * st_open memory-maps read-only one file, or every shard named by a directory's
 * model.safetensors.index.json (weight_map). It validates the header: length within
 * the file, JSON well formed, each tensor's byte size equal to dtype size * shape
 * product, offsets inside the data block and not overlapping. F32 data in an F32
 * file is used in place (st_tensor.data points into the mapping).
 *
 * PyTorch checkpoints: a directory without safetensors but with pytorch_model.bin (or
 * pytorch_model.bin.index.json and its shards), or a file whose name ends in .bin, is read by
 * torch_bin.h and served the same way: each tensor a view into the mapped file (tied tensors
 * share their bytes, which safetensors files never do), non-contiguous views copied.
 *
 * Embedding aliases: a T5 checkpoint may carry the shared embedding under
 * "encoder.embed_tokens.weight" or "decoder.embed_tokens.weight" instead of
 * "shared.weight". Load it with st_find_any / st_read_f32_any and T5_SHARED_NAMES:
 *     st_read_f32_any(m, T5_SHARED_NAMES, 2, shape, dst, err);
 * Likewise an untied model without "lm_head.weight" is an error, not a fallback.
 */
#ifndef T0_SAFETENSORS_H
#define T0_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

typedef enum { ST_F32, ST_F16, ST_BF16, ST_OTHER } st_dtype;

typedef struct {
    const char *name;
    st_dtype dtype;
    int ndim;
    int64_t shape[8];
    const void *data; /* inside the mapping; little-endian; not necessarily 4-byte aligned */
    size_t nbytes;
} st_tensor;

/* one model.safetensors, or the shards listed by model.safetensors.index.json, memory-mapped */
typedef struct st_model st_model;

/* path: a directory (model.safetensors or model.safetensors.index.json in it; else
 * pytorch_model.bin or pytorch_model.bin.index.json) or a .safetensors or .bin file. NULL and
 * err set on failure (messages name the file and tensor). */
st_model *st_open(const char *path, t0_error *err);

/* The same over a buffer in memory (not copied: it must outlive the model); `what`
 * names it in messages. Used by tests and the fuzzer. */
st_model *st_open_buffer(const void *buf, size_t len, const char *what, t0_error *err);

const st_tensor *st_find(const st_model *m, const char *name); /* NULL when absent */

/* The first of a NULL-terminated list of names that is present, or NULL. */
const st_tensor *st_find_any(const st_model *m, const char *const *names);

/* The names the shared embedding may be stored under, in order of preference. */
extern const char *const T5_SHARED_NAMES[];

int st_count(const st_model *m);
const st_tensor *st_at(const st_model *m, int i); /* in header order, shard by shard */

/* The dtype's name as in the header ("F32", ...); for ST_OTHER the original string. */
const char *st_dtype_name(const st_tensor *t);

/* The __metadata__ value for key, or NULL (first file / shard only). */
const char *st_metadata(const st_model *m, const char *key);

/* Copies tensor `name` into dst as float32, converting BF16/F16; checks the shape equals
 * (ndim, shape) and names the tensor in every error:
 * "model.safetensors: tensor encoder.block.0.layer.0.SelfAttention.q.weight: shape [64, 32], expected [64, 64]"
 * / "missing tensor ..." / "dtype I64 not supported". */
int st_read_f32(const st_model *m, const char *name, int ndim, const int64_t *shape, float *dst, t0_error *err);

/* st_read_f32 of the first present name in a NULL-terminated list (e.g. T5_SHARED_NAMES);
 * the missing-tensor message names the first. */
int st_read_f32_any(const st_model *m, const char *const *names, int ndim, const int64_t *shape, float *dst,
                    t0_error *err);

/* The checks of st_read_f32_any without copying: the first present of names, with shape
 * (ndim, shape) and a float dtype, or NULL and the same messages. To validate a whole model
 * before allocating anything. */
const st_tensor *st_expect(const st_model *m, const char *const *names, int ndim, const int64_t *shape,
                           t0_error *err);

/* Zero copy: t's data as floats when t is F32 and its data 4-byte aligned (always so in files
 * written by safetensors' own writers and st_write, whose headers are padded to 8), else NULL:
 * then copy with st_read_f32. Valid until st_close. */
const float *st_f32_data(const st_tensor *t);

void st_close(st_model *m);

/* Writes a safetensors file (temp + rename). Tensors given as float32; stored as F32 or
 * BF16 (round to nearest even) or F16. metadata: optional {"format":"pt"} style key/values. */
typedef struct {
    const char *name;
    int ndim;
    int64_t shape[8];
    const float *data;
} st_write_tensor;

int st_write(const char *path, const st_write_tensor *t, int n, st_dtype out_dtype,
             const char *const *meta_kv /* NULL-terminated k,v,k,v */, t0_error *err);

/* The streaming form: a tensor whose data is NULL is produced, when its turn comes, by
 * fill(ctx, i, dst, err) into a buffer of its element count (i indexes t), so a model larger
 * than memory can be written one tensor at a time. fill returns 0, or -1 with err set. */
typedef int (*st_fill_fn)(void *ctx, int i, float *dst, t0_error *err);
int st_write_stream(const char *path, const st_write_tensor *t, int n, st_dtype out_dtype, const char *const *meta_kv,
                    st_fill_fn fill, void *ctx, t0_error *err);


#endif
