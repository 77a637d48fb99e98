/* stream.h: record streams, the one format every t0 tool reads and writes.
 *
 * BYTE LAYOUT (documented here and nowhere else)
 *
 * A stream is one or more zstd frames (RFC 8878), each with a content checksum and
 * each followed by a t0 trailer, a zstd skippable frame (so `zstd -d` ignores it):
 *
 *     u32 0x184D2A5E, u32 20, u8[4] "T0CK", u64 frame_bytes, u64 frame_hash
 *
 * frame_bytes is the compressed size of the frame before it and frame_hash a hash of
 * those compressed bytes (word by word, stream.c: frame_hash_*), so any changed byte
 * and any cut is caught, even where zstd would decode the same content.
 * Frames concatenate: `cat a.t0 b.t0 > c.t0` is the stream of a's records then b's.
 * The decompressed bytes are a sequence of records; a record never spans the end
 * of the last frame. An empty file is not a stream (a writer with no records still
 * writes one empty frame and its trailer).
 *
 * All integers are little-endian, fixed width. A record is
 *
 *     u8[2]  magic       "T0"
 *     u8     kind        1 example, 2 tokens, 3 batch, 4 score
 *     u8     version     layout version of that kind (1 for every kind today)
 *     u32    size        bytes of the payload that follows (at most T0_RECORD_MAX)
 *     u8[size] payload
 *
 * Payload building blocks:
 *     str    = u32 n, u8[n]  UTF-8, no NUL byte
 *     ids    = u32 n, i32[n] token ids
 *     meta   = str task, str template, u64 id
 *
 * Payloads, version 1:
 *     example: meta, str input, str target, u32 c, str choices[c], i32 label
 *     tokens:  meta, ids input_ids, ids target_ids, u32 c, ids choice_ids[c], i32 label
 *     batch:   u32 rows, u32 enc_len, u32 dec_len, then eight i32 arrays in this order:
 *              encoder_input_tokens, encoder_segment_ids, encoder_positions  [rows][enc_len]
 *              decoder_target_tokens, decoder_input_tokens, decoder_segment_ids,
 *              decoder_positions, decoder_loss_weights                        [rows][dec_len]
 *     score:   meta, u32 c, f64 scores[c], i32 pred, i32 label
 *
 * label is the index of the right choice, or -1. The payload must be consumed
 * exactly: trailing bytes are an error, as is any length that runs past the payload.
 */
#ifndef T0_STREAM_H
#define T0_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/error.h"
#include "stream/record.h"

/* ---- reading ---- */

typedef struct t0_reader t0_reader;

/* Opens path, or standard input for "-". NULL on failure (err says why). */
t0_reader *t0_reader_open(const char *path, t0_error *err);
/* Opens the n paths ("-": standard input) to be read in order as one stream, as if
 * concatenated; n 0 reads standard input. Messages name the file and its record number. */
t0_reader *t0_reader_open_list(char *const *paths, int n, t0_error *err);
/* Reads from an open FILE (not closed by the reader); name is used in messages. */
t0_reader *t0_reader_open_file(FILE *f, const char *name, t0_error *err);
/* 1: a record was read into rec; 0: clean end of stream; -1: error.
 * Error messages name the file and the record number (1-based). */
int t0_reader_next(t0_reader *r, t0_record *rec, t0_error *err);
/* Number of records returned so far, over all files. */
uint64_t t0_reader_count(const t0_reader *r);
const char *t0_reader_name(const t0_reader *r);
void t0_reader_close(t0_reader *r);

/* Checks rec is of kind want; else fails with "record N: expected W, got G (run MAKER first)"
 * where MAKER is the tool that makes W. Returns 0 or -1. */
int t0_reader_expect(const t0_reader *r, const t0_record *rec, t0_kind want, t0_error *err);

/* ---- writing ---- */

typedef struct t0_writer t0_writer;

/* Opens path for writing, or standard output for "-" (refused when it is a terminal).
 * A file is written under a temporary name beside it and renamed by t0_writer_close,
 * so a failed run leaves nothing and never clobbers an existing file. */
t0_writer *t0_writer_open(const char *path, t0_error *err);
/* Writes to an open FILE (not closed by the writer); name is used in messages. */
t0_writer *t0_writer_open_file(FILE *f, const char *name, t0_error *err);
/* zstd level (default 3). Call before the first write. */
void t0_writer_set_level(t0_writer *w, int level);
int t0_writer_write(t0_writer *w, const t0_record *rec, t0_error *err);
/* Pushes what is buffered down to the file descriptor (the frame stays open). */
int t0_writer_flush(t0_writer *w, t0_error *err);
/* Ends the frame, flushes, closes and renames into place. Reports any error (a full disk too).
 * On error the temporary file is removed. Frees w either way. */
int t0_writer_close(t0_writer *w, t0_error *err);
/* Discards: removes the temporary file, writes nothing more. Frees w. */
void t0_writer_abort(t0_writer *w);
/* The end of a run that wrote to w (NULL allowed): rc == 0 closes it (the close's error is
 * returned), else aborts it and returns rc, so the output is whole or absent. */
int t0_writer_finish(t0_writer *w, int rc, t0_error *err);

#endif
