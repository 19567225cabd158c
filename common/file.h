/* Opening what a user names as input (guest images, traces) so that only a
 * regular file is ever read: a FIFO would block the open or the first read
 * forever, a device or socket is not data. */
#ifndef KVMTRACE_FILE_H
#define KVMTRACE_FILE_H

#include <stddef.h>

/* open(path, flags | O_NONBLOCK | O_NOCTTY), fstat, refuse anything but a
 * regular file, then clear O_NONBLOCK.  Returns the fd, or -errno with
 * "PATH: is a FIFO, not a regular file" (or the open error) in
 * kt_last_error(): -EISDIR for a directory, -EINVAL for the other types. */
int kt_open_regular(const char *path, int flags);

/* What st_mode is, in words: "a FIFO", "a directory", ... */
const char *kt_file_type_name(unsigned mode);

/* write() all of p, retrying on EINTR and short writes.  0 or -errno. */
int kt_write_all(int fd, const void *p, size_t n);

#endif
