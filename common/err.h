/*
 * err: the one way library code reports a reason to its caller: a
 * formatted line into a buffer the caller passed (which may be NULL).
 */
#ifndef SBC_ERR_H
#define SBC_ERR_H

#include <stddef.h>

void err_set(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* calloc(n, size), or NULL with "out of memory" in err. */
void *err_calloc(size_t n, size_t size, char *err, size_t errlen);

#endif
