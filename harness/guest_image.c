#include "harness/guest_image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/file.h"

static int read_all(int fd, uint8_t *buf, size_t size)
{
	size_t done = 0;

	while (done < size) {
		ssize_t n = read(fd, buf + done, size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
}

/* kt_open_regular() has refused everything but a regular file. */
static int check_stat(const char *path, const struct stat *st, uint64_t max)
{
	if (st->st_size == 0)
		return kt_fail(-ENODATA, "%s: guest image is empty", path);
	if ((uint64_t)st->st_size > max)
		return kt_fail(-EFBIG, "%s: guest image is %lld bytes, larger than "
			       "guest RAM (%llu bytes); raise --mem", path,
			       (long long)st->st_size, (unsigned long long)max);
	return 0;
}

int kt_read_guest_image(const char *path, uint64_t max_bytes, uint8_t **data,
			size_t *size)
{
	struct stat st;
	uint8_t *buf;
	int fd, ret;

	fd = kt_open_regular(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0) {
		ret = kt_fail(-errno, "%s: %s", path, strerror(errno));
		goto out;
	}
	if ((ret = check_stat(path, &st, max_bytes)))
		goto out;
	buf = malloc((size_t)st.st_size);
	if (!buf) {
		ret = kt_fail(-ENOMEM, "%s: out of memory", path);
		goto out;
	}
	if ((ret = read_all(fd, buf, (size_t)st.st_size))) {
		free(buf);
		ret = kt_fail(ret, "%s: read failed: %s", path, strerror(-ret));
		goto out;
	}
	*data = buf;
	*size = (size_t)st.st_size;
out:
	close(fd);
	return ret;
}
