#include "fuzz/fuzz.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/file.h"

/* The reader wants an fd: a memfd is a regular file, like a trace. */
int kt_fuzz_memfd(const uint8_t *data, size_t size)
{
	int fd = memfd_create("kt-fuzz", MFD_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	if ((ret = kt_write_all(fd, data, size)) || lseek(fd, 0, SEEK_SET) < 0) {
		ret = ret ? ret : -errno;
		close(fd);
		return ret;
	}
	return fd;
}
