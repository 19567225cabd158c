/* The custom mutator of the harnesses whose input is trace files
 * (fuzz/frame_mutator.c): libFuzzer builds only. */
#ifndef KVMTRACE_FRAME_MUTATOR_H
#define KVMTRACE_FRAME_MUTATOR_H

#include <stddef.h>
#include <stdint.h>

/* libFuzzer's own mutation of a byte range (max_size > 0). */
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

/* Mutate the trace in data[0, size) in place (room for max_size); returns
 * the new size. */
size_t kt_mutate_trace(uint8_t *data, size_t size, size_t max_size, unsigned seed);

#endif
