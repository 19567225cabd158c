/* SHA-256 (FIPS 180-4), for the guest image's identity in a trace header. */
#ifndef KVMTRACE_SHA256_H
#define KVMTRACE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define KT_SHA256_BYTES 32

void kt_sha256(const void *data, size_t len, uint8_t out[KT_SHA256_BYTES]);

#endif
