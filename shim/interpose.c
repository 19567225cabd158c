/* The libc calls a VMM reaches KVM through, interposed by LD_PRELOAD:
 * opening /dev/kvm, ioctl, mapping kvm_run, and the calls that make, copy
 * or drop fds (close, dup, dup2, dup3, fcntl F_DUPFD, close_range), also
 * when made through syscall(2).  Each forwards to the next definition
 * (libc's, or a sanitizer runtime's preloaded before us) and tells the
 * session (shim/session.h) what it needs; a call on a fd that is not
 * KVM's costs one table load.  These are the only symbols the shim
 * exports (shim/shim.map): everything else is hidden, so the VMM's own
 * symbols never meet kvmtrace's.
 *
 * This file is built outside build/obj (mk/shim.mk): it defines libc's
 * names, which would make it look, to the layering check's symbol owners,
 * like the provider of open() to every other file. */
#undef _FORTIFY_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim/session.h"

#define EXPORT __attribute__((visibility("default")))

/* glibc's fortified entry points, declared only under _FORTIFY_SOURCE. */
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

/* The next definition of each, found on first use (a constructor of
 * another library may call before ours runs). */
#define NEXT(fn)                                                             \
	({                                                                   \
		static __typeof__(&fn) next_##fn;                            \
		__typeof__(&fn) p_ = __atomic_load_n(&next_##fn, __ATOMIC_RELAXED); \
		if (!p_) {                                                   \
			p_ = (__typeof__(&fn))dlsym(RTLD_NEXT, #fn);         \
			__atomic_store_n(&next_##fn, p_, __ATOMIC_RELAXED);  \
		}                                                            \
		p_;                                                          \
	})

/* O_CREAT and O_TMPFILE take a mode. */
#define MODE_ARG(flags, mode)                                                \
	do {                                                                 \
		if ((flags) & (O_CREAT | __O_TMPFILE)) {                     \
			va_list ap_;                                         \
			va_start(ap_, flags);                                \
			mode = va_arg(ap_, mode_t);                          \
			va_end(ap_);                                         \
		}                                                            \
	} while (0)

static int opened(int fd)
{
	if (fd >= 0 && shim_watching())
		shim_opened(fd);
	return fd;
}

static int duplicated(int from, int to)
{
	if (to >= 0 && shim_watching())
		shim_fd_copy(from, to);
	return to;
}

EXPORT int open(const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE_ARG(flags, mode);
	return opened(NEXT(open)(path, flags, mode));
}

EXPORT int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE_ARG(flags, mode);
	return opened(NEXT(open64)(path, flags, mode));
}

EXPORT int __open_2(const char *path, int flags)
{
	return opened(NEXT(__open_2)(path, flags));
}

EXPORT int __open64_2(const char *path, int flags)
{
	return opened(NEXT(__open64_2)(path, flags));
}

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE_ARG(flags, mode);
	return opened(NEXT(openat)(dirfd, path, flags, mode));
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
	mode_t mode = 0;

	MODE_ARG(flags, mode);
	return opened(NEXT(openat64)(dirfd, path, flags, mode));
}

EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
	return opened(NEXT(__openat_2)(dirfd, path, flags));
}

EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
	return opened(NEXT(__openat64_2)(dirfd, path, flags));
}

EXPORT int close(int fd)
{
	/* Forgotten first: the number may be reused the moment it is closed. */
	if (shim_watching())
		shim_fd_clear(fd);
	return NEXT(close)(fd);
}

EXPORT int close_range(unsigned first, unsigned last, int flags)
{
	int ret = NEXT(close_range)(first, last, flags);

	if (ret == 0 && !(flags & CLOSE_RANGE_CLOEXEC) && shim_watching())
		shim_fd_clear_range(first, last);
	return ret;
}

EXPORT int dup(int fd)
{
	return duplicated(fd, NEXT(dup)(fd));
}

EXPORT int dup2(int fd, int to)
{
	return duplicated(fd, NEXT(dup2)(fd, to));
}

EXPORT int dup3(int fd, int to, int flags)
{
	return duplicated(fd, NEXT(dup3)(fd, to, flags));
}

static int fcntl_dup(int fd, int cmd, int ret)
{
	return cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC ? duplicated(fd, ret) : ret;
}

/* Every fcntl command's argument is an int, a long or a pointer: passed on
 * as a pointer-sized word. */
EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_dup(fd, cmd, NEXT(fcntl)(fd, cmd, arg));
}

EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, cmd);
	arg = va_arg(ap, void *);
	va_end(ap);
	return fcntl_dup(fd, cmd, NEXT(fcntl64)(fd, cmd, arg));
}

EXPORT int ioctl(int fd, unsigned long req, ...)
{
	struct shim_fd f;
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (shim_recording() && shim_fd_get(fd, &f))
		return shim_kvm_ioctl(fd, &f, req, arg);
	return NEXT(ioctl)(fd, req, arg);
}

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *p = NEXT(mmap)(addr, len, prot, flags, fd, off);

	if (p != MAP_FAILED && fd >= 0 && shim_recording())
		shim_mapped(p, len, fd, off);
	return p;
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
	void *p = NEXT(mmap64)(addr, len, prot, flags, fd, off);

	if (p != MAP_FAILED && fd >= 0 && shim_recording())
		shim_mapped(p, len, fd, off);
	return p;
}

EXPORT int munmap(void *addr, size_t len)
{
	if (shim_recording())
		shim_unmapping(addr, len);
	return NEXT(munmap)(addr, len);
}

/* syscall(SYS_ioctl, ...) and friends: the same calls by number.  Every
 * other number goes on with its six argument words. */
EXPORT long syscall(long nr, ...)
{
	long a[6];
	va_list ap;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	switch (nr) {
	case SYS_ioctl:
		return ioctl((int)a[0], (unsigned long)a[1], (void *)a[2]);
	case SYS_open:
		return open((const char *)a[0], (int)a[1], (mode_t)a[2]);
	case SYS_openat:
		return openat((int)a[0], (const char *)a[1], (int)a[2], (mode_t)a[3]);
	case SYS_close:
		return close((int)a[0]);
	case SYS_close_range:
		return close_range((unsigned)a[0], (unsigned)a[1], (int)a[2]);
	case SYS_dup:
		return dup((int)a[0]);
	case SYS_dup2:
		return dup2((int)a[0], (int)a[1]);
	case SYS_dup3:
		return dup3((int)a[0], (int)a[1], (int)a[2]);
	case SYS_fcntl:
		return fcntl((int)a[0], (int)a[1], (void *)a[2]);
	case SYS_mmap: {
		void *p = mmap((void *)a[0], (size_t)a[1], (int)a[2], (int)a[3], (int)a[4],
			       (off_t)a[5]);

		return p == MAP_FAILED ? -1 : (long)p;
	}
	case SYS_munmap:
		return munmap((void *)a[0], (size_t)a[1]);
	default:
		return NEXT(syscall)(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	}
}
