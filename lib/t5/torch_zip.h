/* torch_zip.h: the zip archive torch.save writes (PyTorch >= 1.6), read over a buffer.
 *
 * torch.save writes, through miniz, a zip of stored (not deflated) entries NAME/data.pkl,
 * NAME/data/KEY (one storage each), NAME/version and, in newer versions, NAME/byteorder;
 * each entry's data is padded (an "FB" extra field) to start at a multiple of 64 bytes.
 * Local headers carry no sizes (bit 3, data descriptors follow the data), so the central
 * directory is the authority; ZIP64 records appear once the archive passes 4 GiB.
 *
 * tz_open validates the end record (ZIP64 or not), every central entry, and the local
 * header each one points at: names, sizes and offsets within the buffer, data not running
 * into the central directory. Nothing is allocated by a size the file claims: the entry
 * count is bounded by the central directory's bytes. Data is not copied and CRCs are not
 * checked here (a 6 GB archive is mapped, not read); tz_crc32 is there for small entries.
 */
#ifndef T0_TORCH_ZIP_H
#define T0_TORCH_ZIP_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

typedef struct {
    char *name;           /* NUL-terminated copy */
    uint64_t offset;      /* of the entry's data in the buffer */
    uint64_t size;        /* uncompressed = compressed for stored entries */
    uint32_t crc;
    int stored;           /* method 0; others are listed but their data is unusable here */
} tz_entry;

typedef struct tz_archive tz_archive;

/* what names the buffer in messages ("x/pytorch_model.bin: ..."). NULL and err on failure. */
tz_archive *tz_open(const uint8_t *base, size_t size, const char *what, t0_error *err);
void tz_close(tz_archive *z);

int tz_count(const tz_archive *z);
const tz_entry *tz_at(const tz_archive *z, int i);    /* in central directory order */
const tz_entry *tz_find(const tz_archive *z, const char *name); /* NULL when absent */

/* The CRC-32 zip uses (IEEE 802.3, reflected). */
uint32_t tz_crc32(const uint8_t *p, size_t n);

#endif
