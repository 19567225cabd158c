/* Names of in-kernel exits (VMX, SVM and PVM exit reasons, exception
 * vectors) and one event as a line of text; no kx needed. */
#ifndef KEXITS_KX_NAMES_H
#define KEXITS_KX_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "kexits/kx_abi.h"

const char *kx_isa_name(unsigned isa);               /* "VMX", "SVM", "PVM" */
/* The exit reason's name for isa: VMX ("CPUID", a failed VM entry gets
 * " FAILED_VMENTRY"), SVM ("cpuid"), PVM ("GP excp"); NULL if unnamed. */
const char *kx_exit_reason_name(unsigned isa, uint32_t reason);
const char *kx_exception_name(unsigned vector);      /* "GP", NULL */

/* One event as one line of text: "exit vcpu=0 reason=cpuid(0x72) ..." */
int kx_format_event(const struct kx_event *ev, char *buf, size_t len);

#endif
