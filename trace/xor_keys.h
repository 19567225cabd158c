/* The XOR delta of version 1 trace records (KT_RF_XOR in
 * trace/trace_format.h): the previous plain body per key within one frame,
 * kept by the reader as the version 1 writer kept it. */
#ifndef KVMTRACE_XOR_KEYS_H
#define KVMTRACE_XOR_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define KT_XOR_SLOTS 64

struct kt_xor_slot {
	uint64_t key;
	uint8_t *prev;
	size_t len, cap;
	uint32_t frame;  /* frame number the slot was last used in */
};

struct kt_xor_table {
	struct kt_xor_slot slot[KT_XOR_SLOTS];
	uint32_t frame;  /* the current frame; bumping it forgets every key */
};

uint64_t kt_xor_key(uint8_t type, uint16_t vcpu);

/* The slot for key, or NULL when the table is full (that record is then
 * stored plain).  *had_prev tells whether it holds a body from this frame. */
struct kt_xor_slot *kt_xor_lookup(struct kt_xor_table *t, uint64_t key, int *had_prev);

/* Remember body as the key's previous plain body.  0 or -ENOMEM. */
int kt_xor_remember(struct kt_xor_slot *s, const uint8_t *body, size_t len);

void kt_xor_table_free(struct kt_xor_table *t);
/* Give back the slots' buffers over 64 KiB (at a frame's start), so what a
 * reader keeps between frames stays small. */
void kt_xor_table_trim(struct kt_xor_table *t);

#endif
