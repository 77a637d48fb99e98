/* record_json.h: records as JSON lines, the form t0-cat prints and --encode reads.
 *
 * One object a record, fields in a fixed order, "kind" first:
 *   example: kind task template id input target choices label
 *   tokens:  kind task template id input_ids target_ids choice_ids label
 *   batch:   kind and the eight features as [rows][len] arrays (names: t0_batch_feature_name)
 *   score:   kind task template id scores pred label
 * Scores are the shortest decimals that read back exactly ("nan", "inf", "-inf" as strings),
 * so stream -> JSON -> stream is byte-identical. When reading, fields may come in any order;
 * absent ones take their defaults ("" / 0 / [] / -1), unknown ones are an error. */
#ifndef T0_RECORD_JSON_H
#define T0_RECORD_JSON_H

#include <stddef.h>

#include "common/json.h"
#include "stream/record.h"

/* Appends rec as one JSON object (no newline). */
int t0_record_to_json(const t0_record *rec, t0_buf *out, t0_error *err);

/* Holds the memory of the record last parsed; reused from line to line. */
typedef struct t0_record_parser t0_record_parser;

t0_record_parser *t0_record_parser_new(t0_error *err);
/* Parses one JSON object into rec, which stays valid until the next call. */
int t0_record_from_json(t0_record_parser *p, const char *line, size_t len, t0_record *rec, t0_error *err);
void t0_record_parser_free(t0_record_parser *p);

#endif
