/* Scratch buffers that belong to the calling thread (several vCPU threads
 * record at once) and are freed when the thread exits. */
#ifndef KVMTRACE_THREAD_BUF_H
#define KVMTRACE_THREAD_BUF_H

#include "common/buf.h"

#define KT_THREAD_BUFS 2

/* Buffer which (< KT_THREAD_BUFS) of the calling thread. */
struct kt_buf *kt_thread_buf(unsigned which);

#endif
