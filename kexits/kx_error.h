/* kexits' errors: -errno codes with a one-line reason kept per thread, as
 * kt_fail() does in the harness (kexits includes nothing of the tree but
 * system headers until common/ exists; then this becomes kt_fail). */
#ifndef KEXITS_KX_ERROR_H
#define KEXITS_KX_ERROR_H

int kx_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
