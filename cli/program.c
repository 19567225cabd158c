#include "cli/program.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/exit_status.h"

static int executable(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EACCES;
	return access(path, X_OK) < 0 ? -errno : 0;
}

int cli_find_program(const char *name, char *path, size_t size)
{
	const char *dirs = getenv("PATH");
	int ret;

	if (strchr(name, '/')) {
		snprintf(path, size, "%s", name);
		if ((ret = executable(path)))
			return kt_fail(KT_BAD_INPUT, "%s: %s", name, strerror(-ret));
		return 0;
	}
	for (const char *d = dirs ? dirs : "/usr/local/bin:/usr/bin:/bin"; *d;) {
		size_t n = strcspn(d, ":");

		snprintf(path, size, "%.*s%s%s", (int)n, d, n ? "/" : "", name);
		if (!executable(path))
			return 0;
		d += n + (d[n] == ':');
	}
	return kt_fail(KT_BAD_INPUT, "%s: not found in $PATH", name);
}

/* ---- ELF ---- */

struct elf {
	int fd;
	Elf64_Ehdr eh;
	Elf64_Phdr ph[64];
	unsigned nph;
};

static bool read_at(int fd, void *buf, size_t len, uint64_t off)
{
	return pread(fd, buf, len, (off_t)off) == (ssize_t)len;
}

/* A virtual address of a loaded segment, as a file offset. */
static bool file_offset(const struct elf *e, uint64_t vaddr, uint64_t *off)
{
	for (unsigned i = 0; i < e->nph; i++)
		if (e->ph[i].p_type == PT_LOAD && vaddr >= e->ph[i].p_vaddr &&
		    vaddr < e->ph[i].p_vaddr + e->ph[i].p_filesz) {
			*off = vaddr - e->ph[i].p_vaddr + e->ph[i].p_offset;
			return true;
		}
	return false;
}

/* Whether a DT_NEEDED entry names the ASan runtime. */
static bool needs_asan(const struct elf *e, const Elf64_Phdr *dyn)
{
	Elf64_Dyn d[512];
	size_t n = dyn->p_filesz / sizeof(d[0]);
	uint64_t strtab = 0, off;

	if (n > 512)
		n = 512;
	if (!read_at(e->fd, d, n * sizeof(d[0]), dyn->p_offset))
		return false;
	for (size_t i = 0; i < n && d[i].d_tag != DT_NULL; i++)
		if (d[i].d_tag == DT_STRTAB)
			strtab = d[i].d_un.d_ptr;
	if (!strtab || !file_offset(e, strtab, &off))
		return false;
	for (size_t i = 0; i < n && d[i].d_tag != DT_NULL; i++) {
		char name[64] = { 0 };

		if (d[i].d_tag == DT_NEEDED &&
		    pread(e->fd, name, sizeof(name) - 1, (off_t)(off + d[i].d_un.d_val)) > 0 &&
		    !strncmp(name, "libasan.so", 10))
			return true;
	}
	return false;
}

static int check_elf(struct elf *e, const char *path, bool *links_asan)
{
	const Elf64_Phdr *interp = NULL, *dyn = NULL;

	if (memcmp(e->eh.e_ident, ELFMAG, SELFMAG))
		return kt_fail(KT_NOT_RECORDABLE, "%s is neither an ELF executable nor a script: "
			       "nothing to preload the shim into", path);
	if (e->eh.e_ident[EI_CLASS] != ELFCLASS64 || e->eh.e_machine != EM_X86_64)
		return kt_fail(KT_NOT_RECORDABLE, "%s is not an x86-64 program (the shim is "
			       "one): not recorded", path);
	e->nph = e->eh.e_phnum < 64 ? e->eh.e_phnum : 64;
	if (e->eh.e_phentsize != sizeof(Elf64_Phdr) ||
	    !read_at(e->fd, e->ph, e->nph * sizeof(Elf64_Phdr), e->eh.e_phoff))
		return kt_fail(KT_BAD_INPUT, "%s: a damaged ELF header", path);
	for (unsigned i = 0; i < e->nph; i++) {
		if (e->ph[i].p_type == PT_INTERP)
			interp = &e->ph[i];
		if (e->ph[i].p_type == PT_DYNAMIC)
			dyn = &e->ph[i];
	}
	if (!interp)
		return kt_fail(KT_NOT_RECORDABLE, "%s is statically linked (no PT_INTERP, no "
			       "dynamic loader): LD_PRELOAD cannot put the shim in it; not "
			       "recorded", path);
	*links_asan = dyn && needs_asan(e, dyn);
	return 0;
}

/* "#!/bin/sh -e": the interpreter is what the loader runs. */
static int script_interpreter(int fd, const char *path, char *interp, size_t size)
{
	char line[PATH_MAX + 3] = { 0 };
	char *p, *end;

	if (pread(fd, line, sizeof(line) - 1, 0) < 3)
		return kt_fail(KT_BAD_INPUT, "%s: cannot read it", path);
	for (p = line + 2; *p == ' ' || *p == '\t'; p++)
		;
	end = p + strcspn(p, " \t\n");
	*end = 0;
	if (!*p)
		return kt_fail(KT_NOT_RECORDABLE, "%s: a script without an interpreter", path);
	if (strlen(p) >= size)
		return kt_fail(KT_BAD_INPUT, "%s: its interpreter's path is too long", path);
	memcpy(interp, p, strlen(p) + 1);
	return 0;
}

static int check(const char *path, bool *links_asan, int depth)
{
	struct elf e = { .fd = open(path, O_RDONLY | O_CLOEXEC) };
	char interp[PATH_MAX];
	int ret;

	if (e.fd < 0)
		return kt_fail(KT_BAD_INPUT, "%s: %s", path, strerror(errno));
	if (pread(e.fd, &e.eh, sizeof(e.eh), 0) >= 2 && !memcmp(&e.eh, "#!", 2) && depth == 0) {
		ret = script_interpreter(e.fd, path, interp, sizeof(interp));
		close(e.fd);
		return ret ? ret : check(interp, links_asan, 1);
	}
	ret = check_elf(&e, path, links_asan);
	close(e.fd);
	return ret;
}

int cli_check_program(const char *path, bool *links_asan)
{
	*links_asan = false;
	return check(path, links_asan, 0);
}
