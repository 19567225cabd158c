/* Hashes: XXH64 (the trace's page digests) and FNV-1a (short content
 * fingerprints in printed events). */
#ifndef KVMTRACE_HASH_H
#define KVMTRACE_HASH_H

#include <stddef.h>
#include <stdint.h>

/* XXH64 with seed 0, as xxhash's doc/xxhash_spec.md specifies it; zstd's
 * frame checksum is its low 32 bits, which the units use as an independent
 * check. */
uint64_t kt_xxh64(const void *data, size_t len);

/* 64-bit FNV-1a. */
uint64_t kt_fnv1a64(const void *data, size_t len);

#endif
