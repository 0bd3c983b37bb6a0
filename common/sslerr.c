#include "common/sslerr.h"

#include <openssl/err.h>
#include <stdio.h>

const char *sslerr_text(char *buf, size_t len, const char *fallback)
{
	unsigned long e = ERR_get_error();

	ERR_clear_error();
	if (e == 0) {
		if (fallback != NULL)
			return fallback;
		snprintf(buf, len, "unknown OpenSSL error");
		return buf;
	}
	ERR_error_string_n(e, buf, len);
	return buf;
}
