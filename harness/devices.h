/* Port and MMIO devices, registered in a table. */
#ifndef KVMTRACE_DEVICES_H
#define KVMTRACE_DEVICES_H

#include <stdbool.h>
#include <stdint.h>

struct kt_machine;

struct kt_io_access {
	uint16_t port;
	uint8_t size;     /* bytes per element: 1, 2 or 4 */
	uint32_t count;   /* elements: > 1 for string I/O */
	uint8_t *data;    /* size * count bytes inside kvm_run */
	unsigned vcpu;
};

struct kt_port_device {
	const char *name;
	uint16_t first, last;
	void (*out)(struct kt_machine *m, const struct kt_io_access *a);
	void (*in)(struct kt_machine *m, struct kt_io_access *a);
};

const struct kt_port_device *kt_port_device(uint16_t port);
void kt_port_out(struct kt_machine *m, const struct kt_io_access *a);
void kt_port_in(struct kt_machine *m, struct kt_io_access *a);
void kt_mmio_access(struct kt_machine *m, uint64_t gpa, uint8_t *data,
		    uint32_t len, bool is_write);

/* Value of element i of an access, little-endian. */
uint32_t kt_io_element(const struct kt_io_access *a, uint32_t i);

#endif
