#include "harness/devices.h"

#include <stdio.h>
#include <string.h>

#include "common/exit_status.h"
#include "harness/guest_abi.h"
#include "harness/machine.h"

uint32_t kt_io_element(const struct kt_io_access *a, uint32_t i)
{
	uint32_t v = 0;

	memcpy(&v, a->data + (size_t)i * a->size, a->size);
	return v;
}

/* Like QEMU's debugcon: the low byte of every element reaches stdout. */
static void console_out(struct kt_machine *m, const struct kt_io_access *a)
{
	char buf[256];
	uint32_t n = 0;

	(void)m;
	for (uint32_t i = 0; i < a->count; i++) {
		buf[n++] = (char)kt_io_element(a, i);
		if (n == sizeof(buf)) {
			fwrite(buf, 1, n, stdout);
			n = 0;
		}
	}
	fwrite(buf, 1, n, stdout);
}

/* Like QEMU's isa-debug-exit, as kvm-unit-tests use it. */
static void exit_device_out(struct kt_machine *m, const struct kt_io_access *a)
{
	uint32_t v = kt_io_element(a, 0);

	kt_machine_end(m, KT_END_GUEST_EXIT, kt_guest_exit_status(v), a->vcpu,
		       "guest wrote %u to the exit device (port 0x%x)", v,
		       GUEST_PORT_EXIT);
}

static void unclaimed_in(struct kt_machine *m, struct kt_io_access *a)
{
	(void)m;
	memset(a->data, 0xff, (size_t)a->size * a->count);
}

static const struct kt_port_device ports[] = {
	{ "console", GUEST_PORT_CONSOLE, GUEST_PORT_CONSOLE, console_out, unclaimed_in },
	{ "exit", GUEST_PORT_EXIT, GUEST_PORT_EXIT, exit_device_out, unclaimed_in },
};

static const struct kt_port_device unclaimed = {
	"unclaimed", 0, 0xffff, NULL, unclaimed_in,
};

const struct kt_port_device *kt_port_device(uint16_t port)
{
	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
		if (port >= ports[i].first && port <= ports[i].last)
			return &ports[i];
	return &unclaimed;
}

void kt_port_out(struct kt_machine *m, const struct kt_io_access *a)
{
	const struct kt_port_device *d = kt_port_device(a->port);

	if (d->out)
		d->out(m, a);
}

void kt_port_in(struct kt_machine *m, struct kt_io_access *a)
{
	kt_port_device(a->port)->in(m, a);
}

/* Nothing is mapped outside RAM: an open bus. */
void kt_mmio_access(struct kt_machine *m, uint64_t gpa, uint8_t *data,
		    uint32_t len, bool is_write)
{
	(void)m;
	(void)gpa;
	if (!is_write)
		memset(data, 0xff, len);
}
