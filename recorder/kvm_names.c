#include "recorder/kvm_names.h"

#include <linux/kvm.h>
#include <string.h>

#include "kvm_names_table.h"  /* generated: build/gen/ */

struct kt_name {
	unsigned long value;
	const char *name;
};

#define KT_NAME(value, name) { (unsigned long)(value), name },
static const struct kt_name ioctls[] = { KVM_IOCTL_NAMES };
static const struct kt_name caps[] = { KVM_CAP_NAMES };
static const struct kt_name exits[] = { KVM_EXIT_NAMES };
static const struct kt_name internal_errors[] = { KVM_INTERNAL_ERROR_NAMES };
static const struct kt_name system_events[] = { KVM_SYSTEM_EVENT_NAMES };
#undef KT_NAME

#define COUNT(t) (sizeof(t) / sizeof((t)[0]))

/* Tables are sorted by name, and a number may have two names (aliases such
 * as KVM_CAP_X86_SMM / KVM_CAP_X86_SMM... ): the first in the table wins,
 * so the answer is the same on every run. */
static const char *lookup(const struct kt_name *t, size_t n, unsigned long v)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].value == v)
			return t[i].name;
	return NULL;
}

static long reverse(const struct kt_name *t, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return (long)t[i].value;
	return -1;
}

const char *kvm_ioctl_name(unsigned long req)
{
	return lookup(ioctls, COUNT(ioctls), req);
}

const char *kvm_exit_reason_name(uint32_t reason)
{
	return lookup(exits, COUNT(exits), reason);
}

const char *kvm_cap_name(uint32_t cap)
{
	return lookup(caps, COUNT(caps), cap);
}

const char *kvm_internal_error_name(uint32_t suberror)
{
	return lookup(internal_errors, COUNT(internal_errors), suberror);
}

const char *kvm_system_event_name(uint32_t type)
{
	return lookup(system_events, COUNT(system_events), type);
}

/* Distinct capability numbers, in the table's order. */
size_t kvm_cap_count(void)
{
	size_t n = 0;

	for (size_t i = 0; i < COUNT(caps); i++)
		if (lookup(caps, i, caps[i].value) == NULL)
			n++;
	return n;
}

uint32_t kvm_cap_at(size_t index)
{
	for (size_t i = 0; i < COUNT(caps); i++)
		if (lookup(caps, i, caps[i].value) == NULL && index-- == 0)
			return (uint32_t)caps[i].value;
	return 0;
}

long kvm_ioctl_by_name(const char *name)
{
	return reverse(ioctls, COUNT(ioctls), name);
}

int kvm_exit_reason_by_name(const char *name)
{
	return (int)reverse(exits, COUNT(exits), name);
}
