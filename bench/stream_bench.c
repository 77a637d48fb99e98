/* stream_bench: write then read a stream of token records, printing the seconds each took.
 * Usage: stream_bench FILE RECORDS. The ids follow a Zipf-like law over a 32k vocabulary,
 * as tokenized text does, so compression sees realistic data. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "stream/stream.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static uint32_t next_u32(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 32);
}

/* A Zipf-like id: small ids are common. */
static int32_t zipf_id(void)
{
    double u = (next_u32() + 1.0) / 4294967297.0;
    int32_t id = (int32_t)(32000.0 * u * u * u);
    return id < 3 ? 3 : id;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: stream_bench FILE RECORDS\n");
        return 1;
    }
    long records = atol(argv[2]);
    t0_error err = {0};
    int32_t input[512], target[64];
    t0_record rec = {.kind = T0_KIND_TOKENS, .task = "cnn_dailymail/3.0.0", .template_name = "summarize",
                     .label = -1, .input_ids = {input, 0}, .target_ids = {target, 0}};
    double t0 = now();
    t0_writer *w = t0_writer_open(argv[1], &err);
    for (long i = 0; w && i < records; i++) {
        rec.id = (uint64_t)i;
        rec.input_ids.n = 128 + next_u32() % 384;
        rec.target_ids.n = 16 + next_u32() % 48;
        for (uint32_t k = 0; k < rec.input_ids.n; k++)
            input[k] = zipf_id();
        for (uint32_t k = 0; k < rec.target_ids.n; k++)
            target[k] = zipf_id();
        target[rec.target_ids.n - 1] = 1;
        if (t0_writer_write(w, &rec, &err))
            break;
    }
    if (!w || t0_writer_close(w, &err)) {
        fprintf(stderr, "stream_bench: %s\n", err.msg);
        return 1;
    }
    double t1 = now();
    t0_reader *r = t0_reader_open(argv[1], &err);
    t0_record got;
    uint64_t check = 0;
    int rc;
    while ((rc = t0_reader_next(r, &got, &err)) > 0)
        check += got.input_ids.n + got.target_ids.n;
    t0_reader_close(r);
    double t2 = now();
    if (rc < 0) {
        fprintf(stderr, "stream_bench: %s\n", err.msg);
        return 1;
    }
    printf("%.4f %.4f %llu\n", t1 - t0, t2 - t1, (unsigned long long)check);
    return 0;
}
