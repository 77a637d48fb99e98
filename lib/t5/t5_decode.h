/* t5_decode.h: incremental decoding with a key/value cache.
 *
 * The encoder runs once (t5_encode over the model's arena); each decoder layer's
 * cross-attention keys and values are computed once from its output; self-attention
 * keys and values are appended to a per-layer cache one position at a time, so a step
 * costs one token per row. Inputs are unpacked rows: pad_token_id marks padding (either
 * side), positions are indices, as Hugging Face's generate() sees them.
 * The encoder runs in the model's activation arena (t5_model_reserve for rows x enc_len),
 * so a model does not train and decode at the same time.
 * Every product goes through t5_linear (t5_bf16.h): with a model from t5_model_open_mapped
 * the encoder and each step use BF16 weights as BF16.
 */
#ifndef T0_T5_DECODE_H
#define T0_T5_DECODE_H

#include <stdint.h>

#include "common/error.h"
#include "t5/t5_model.h"

typedef struct t5_decoder t5_decoder;

/* A decoder for up to `rows` inputs of enc_len tokens and max_len decoder positions. */
t5_decoder *t5_decoder_create(t5_model *m, int rows, int enc_len, int max_len, t0_error *err);
void t5_decoder_free(t5_decoder *d);

/* Encodes enc_tokens [rows][enc_len] and fills the cross-attention caches; resets the
 * self-attention caches to position 0. */
int t5_decoder_start(t5_decoder *d, const int32_t *enc_tokens, t0_error *err);

/* Feeds one token per row at the next position; logits [rows][vocab] for the position
 * after it (valid until the next call). */
int t5_decoder_step(t5_decoder *d, const int32_t *tokens, const float **logits, t0_error *err);

/* Rows in use: the number made, until t5_decoder_keep drops some (t5_decoder_start
 * restores it). Steps take and give that many rows. */
int t5_decoder_rows(const t5_decoder *d);

/* Beam search: row r's self-attention cache becomes that of row src_rows[r] (for every
 * row in use; rows may repeat). The cross-attention caches stay: r and src_rows[r] must
 * have the same encoder input (beams of one example). */
int t5_decoder_reorder(t5_decoder *d, const int *src_rows, t0_error *err);

/* Keeps only rows[0..n) (ascending), compacted to rows 0..n-1 with all their caches, so
 * finished rows stop costing work; the rows in use become n. */
int t5_decoder_keep(t5_decoder *d, const int *rows, int n, t0_error *err);

/* ---- scoring: the decoder rows are the answer choices of a few inputs ----
 * Encodes n_examples inputs enc_tokens [n_examples][enc_len] once (rows of the encoder
 * batch, not one per choice) and gives decoder row r (of n_rows) the cross-attention keys
 * and values of input row_example[r]; resets the self-attention caches. enc_len and
 * n_rows may be below the sizes the decoder was created with: the decoder then computes
 * exactly n_rows rows over enc_len keys (no padding up to its capacity), and later steps
 * and starts use these sizes. Teacher forcing is then t5_decoder_feed (or t5_decoder_step)
 * with each row's previous target tokens. */
int t5_decoder_start_rows(t5_decoder *d, const int32_t *enc_tokens, int n_examples, int enc_len, int n_rows,
                          const int *row_example, t0_error *err);

/* Feeds n tokens per row at once, tokens [rows][n], at the next n positions (each
 * position attends to the cache and to the earlier ones of its row): logits
 * [rows][n][vocab] for the position after each (valid until the next call). The same
 * as n calls of t5_decoder_step, in one pass whose products have rows x n rows: teacher
 * forcing (scoring) knows every decoder input up front, and a product of a few rows
 * costs nearly what one of many does (sgemm packs the whole weight matrix each call). */
int t5_decoder_feed(t5_decoder *d, const int32_t *tokens, int n, const float **logits, t0_error *err);

/* Teacher forcing for scoring: t5_decoder_feed of tokens [rows][n], then each position's
 * log-probability of its target, logprob[rows][n] = logits[target] - logsumexp(logits)
 * (in double, from the F32 logits and log-sum-exp); targets [rows][n] in [0, vocab). */
int t5_decoder_feed_logprobs(t5_decoder *d, const int32_t *tokens, const int32_t *targets, int n, double *logprob,
                             t0_error *err);

#endif
