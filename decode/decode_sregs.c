/* struct kvm_sregs: control registers with their bit names, EFER, the APIC
 * base, segments, descriptor tables and pending interrupts. */
#include "decode/decode_util.h"

#include <linux/kvm.h>

const struct kt_flag_name kt_cr0_flags[] = {
	{ 1ull << 0, "PE" }, { 1ull << 1, "MP" }, { 1ull << 2, "EM" }, { 1ull << 3, "TS" },
	{ 1ull << 4, "ET" }, { 1ull << 5, "NE" }, { 1ull << 16, "WP" }, { 1ull << 18, "AM" },
	{ 1ull << 29, "NW" }, { 1ull << 30, "CD" }, { 1ull << 31, "PG" }, { 0, NULL },
};

const struct kt_flag_name kt_cr4_flags[] = {
	{ 1ull << 0, "VME" }, { 1ull << 1, "PVI" }, { 1ull << 2, "TSD" }, { 1ull << 3, "DE" },
	{ 1ull << 4, "PSE" }, { 1ull << 5, "PAE" }, { 1ull << 6, "MCE" }, { 1ull << 7, "PGE" },
	{ 1ull << 8, "PCE" }, { 1ull << 9, "OSFXSR" }, { 1ull << 10, "OSXMMEXCPT" },
	{ 1ull << 11, "UMIP" }, { 1ull << 12, "LA57" }, { 1ull << 13, "VMXE" },
	{ 1ull << 14, "SMXE" }, { 1ull << 16, "FSGSBASE" }, { 1ull << 17, "PCIDE" },
	{ 1ull << 18, "OSXSAVE" }, { 1ull << 20, "SMEP" }, { 1ull << 21, "SMAP" },
	{ 1ull << 22, "PKE" }, { 1ull << 23, "CET" }, { 0, NULL },
};

const struct kt_flag_name kt_efer_flags[] = {
	{ 1ull << 0, "SCE" }, { 1ull << 8, "LME" }, { 1ull << 10, "LMA" },
	{ 1ull << 11, "NXE" }, { 1ull << 12, "SVME" }, { 1ull << 13, "LMSLE" },
	{ 1ull << 14, "FFXSR" }, { 1ull << 15, "TCE" }, { 0, NULL },
};

#define SEG(member, fmt) KT_FIELD(struct kvm_segment, member, fmt)
static const struct kt_field_desc segment_fields[] = {
	SEG(base, KT_HEX), SEG(limit, KT_HEX), SEG(selector, KT_HEX), SEG(type, KT_DEC),
	SEG(present, KT_BOOL), SEG(dpl, KT_DEC), SEG(db, KT_BOOL), SEG(s, KT_BOOL),
	SEG(l, KT_BOOL), SEG(g, KT_BOOL), SEG(avl, KT_BOOL), SEG(unusable, KT_BOOL),
};

static const struct kt_field_desc dtable_fields[] = {
	KT_FIELD(struct kvm_dtable, base, KT_HEX), KT_FIELD(struct kvm_dtable, limit, KT_HEX),
};

static const struct {
	const char *name;
	size_t offset;
} segments[] = {
	{ "cs", offsetof(struct kvm_sregs, cs) }, { "ds", offsetof(struct kvm_sregs, ds) },
	{ "es", offsetof(struct kvm_sregs, es) }, { "fs", offsetof(struct kvm_sregs, fs) },
	{ "gs", offsetof(struct kvm_sregs, gs) }, { "ss", offsetof(struct kvm_sregs, ss) },
	{ "tr", offsetof(struct kvm_sregs, tr) }, { "ldt", offsetof(struct kvm_sregs, ldt) },
};

static void decode_segment(struct kt_sink *s, const void *p, size_t len)
{
	kt_emit_fields(s, segment_fields, COUNT(segment_fields), p, len);
}

static void decode_dtable(struct kt_sink *s, const void *p, size_t len)
{
	kt_emit_fields(s, dtable_fields, COUNT(dtable_fields), p, len);
}

/* As four words, so a diff names the word that changed. */
static void decode_interrupt_bitmap(struct kt_sink *s, const struct kvm_sregs *r)
{
	s->ops->array(s, "interrupt_bitmap");
	for (size_t i = 0; i < COUNT(r->interrupt_bitmap); i++)
		kt_hex(s, NULL, r->interrupt_bitmap[i]);
	s->ops->end(s);
}

void decode_kvm_sregs(struct kt_sink *s, const void *p, size_t len)
{
	struct kvm_sregs r;

	if (kt_short(s, sizeof(r), len))
		return;
	memcpy(&r, p, sizeof(r));
	for (size_t i = 0; i < COUNT(segments); i++)
		kt_nested(s, segments[i].name, decode_segment,
			  (const uint8_t *)p + segments[i].offset, sizeof(struct kvm_segment));
	kt_nested(s, "gdt", decode_dtable, &r.gdt, sizeof(r.gdt));
	kt_nested(s, "idt", decode_dtable, &r.idt, sizeof(r.idt));
	s->ops->flags(s, "cr0", r.cr0, kt_cr0_flags);
	kt_hex(s, "cr2", r.cr2);
	kt_hex(s, "cr3", r.cr3);
	s->ops->flags(s, "cr4", r.cr4, kt_cr4_flags);
	kt_hex(s, "cr8", r.cr8);
	s->ops->flags(s, "efer", r.efer, kt_efer_flags);
	kt_hex(s, "apic_base", r.apic_base);
	decode_interrupt_bitmap(s, &r);
}
