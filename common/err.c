#include "common/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void err_set(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void *err_calloc(size_t n, size_t size, char *err, size_t errlen)
{
	void *p = calloc(n, size);

	if (p == NULL)
		err_set(err, errlen, "out of memory");
	return p;
}
