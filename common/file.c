#include "common/file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"

static const struct {
	unsigned type;
	const char *name;
} file_types[] = {
	{ S_IFDIR, "a directory" },
	{ S_IFIFO, "a FIFO" },
	{ S_IFSOCK, "a socket" },
	{ S_IFCHR, "a character device" },
	{ S_IFBLK, "a block device" },
	{ S_IFLNK, "a symbolic link" },
	{ S_IFREG, "a regular file" },
};

const char *kt_file_type_name(unsigned mode)
{
	for (size_t i = 0; i < sizeof(file_types) / sizeof(file_types[0]); i++)
		if ((mode & S_IFMT) == file_types[i].type)
			return file_types[i].name;
	return "not a file of any known type";
}

static int not_regular(const char *path, unsigned mode)
{
	return kt_fail(S_ISDIR(mode) ? -EISDIR : -EINVAL, "%s: is %s, not a regular file",
		       path, kt_file_type_name(mode));
}

/* open() of a socket fails with ENXIO, which strerror words as "No such
 * device or address"; say what the path is instead. */
static int open_failed(const char *path, int err)
{
	struct stat st;

	if (err == ENXIO && lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return not_regular(path, st.st_mode);
	return kt_fail(-err, "%s: %s", path, strerror(err));
}

int kt_open_regular(const char *path, int flags)
{
	struct stat st;
	int fd, ret;

	/* O_NONBLOCK: opening a FIFO with no writer returns at once instead of
	 * waiting for one; O_NOCTTY: a terminal never becomes ours. */
	fd = open(path, flags | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return open_failed(path, errno);
	if (fstat(fd, &st) < 0) {
		ret = kt_fail(-errno, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = not_regular(path, st.st_mode);
		goto fail;
	}
	if (!(flags & O_NONBLOCK) && ((ret = fcntl(fd, F_GETFL)) < 0 ||
				    fcntl(fd, F_SETFL, ret & ~O_NONBLOCK) < 0)) {
		ret = kt_fail(-errno, "%s: %s", path, strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return ret;
}

int kt_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t r = write(fd, c, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}
