#ifndef KVMTRACE_GUEST_IMAGE_H
#define KVMTRACE_GUEST_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/* Read a flat guest image that must fit in max_bytes of RAM.  Returns 0 or
 * -errno with a message naming the file; *data is malloc'd. */
int kt_read_guest_image(const char *path, uint64_t max_bytes, uint8_t **data,
			size_t *size);

#endif
