/*
 * sslerr: OpenSSL's error queue as one line of text, for the reasons the
 * TLS client, licd's TLS server and the key code hand to their callers.
 */
#ifndef SBC_SSLERR_H
#define SBC_SSLERR_H

#include <stddef.h>

/* The oldest queued OpenSSL error as text in buf, or fallback when the
 * queue is empty (fallback NULL: "unknown OpenSSL error" in buf). Clears
 * the queue, so the next failure does not report this one. */
const char *sslerr_text(char *buf, size_t len, const char *fallback);

#endif
