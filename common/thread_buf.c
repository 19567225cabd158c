#include "common/thread_buf.h"

#include <pthread.h>
#include <stdbool.h>

static _Thread_local struct kt_buf bufs[KT_THREAD_BUFS];
static _Thread_local bool registered;
static pthread_key_t key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

/* Runs at thread exit, while the thread's own storage still exists. */
static void free_bufs(void *p)
{
	struct kt_buf *b = p;

	for (unsigned i = 0; i < KT_THREAD_BUFS; i++)
		kt_buf_free(&b[i]);
}

static void make_key(void)
{
	pthread_key_create(&key, free_bufs);
}

struct kt_buf *kt_thread_buf(unsigned which)
{
	if (!registered) {
		pthread_once(&key_once, make_key);
		pthread_setspecific(key, bufs);
		registered = true;
	}
	return &bufs[which];
}
