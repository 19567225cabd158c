/* kexits' event layout: the kinds, their fields and where each field's
 * bytes come from in the running kernel's tracepoint record (the plan the
 * BPF program follows); no kx needed. */
#ifndef KEXITS_KX_LAYOUT_H
#define KEXITS_KX_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "kexits/kx_abi.h"
#include "kexits/kx_format.h"

enum kx_field_type {
	KX_T_UNSIGNED,   /* decimal */
	KX_T_HEX,
	KX_T_BOOL,
	KX_T_BYTES,      /* byte array: len bytes given by another field */
};

struct kx_field_desc {
	const char *name;       /* name in kexits and its users (struct member) */
	const char *tp_field;   /* the tracepoint's field it comes from */
	uint8_t off, size, type;
};

struct kx_kind_desc {
	const char *tracepoint; /* "kvm_exit" */
	const char *name;       /* "exit" */
	int required;           /* kx_open fails without it */
	const struct kx_field_desc *fields;
	unsigned nfields;
};

const struct kx_kind_desc *kx_kind(unsigned kind);   /* NULL if unknown */
const char *kx_kind_name(unsigned kind);             /* "exit", "?" */
int kx_kind_by_name(const char *name);               /* -1 if unknown */

/* A field's value (zero-extended; for KX_T_BYTES the first 8 bytes). */
uint64_t kx_field_value(const struct kx_event *ev, const struct kx_field_desc *f);
int kx_field_present(const struct kx_event *ev, unsigned field);

/* Fill cfg's plan for kind from the tracepoint's format: every field
 * kexits knows that the format publishes with a usable size becomes a
 * copy and a present bit.  why (may be NULL) gets the fields left out and
 * the reason, e.g. "requests: not published". */
void kx_plan_kind(unsigned kind, const struct kx_tp_format *fmt, struct kx_cfg *cfg,
		  char *why, size_t whylen);

#endif
