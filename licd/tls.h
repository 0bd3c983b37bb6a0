/*
 * lsrv tls: licd's TLS identity (the man pages in docs/man, docs/licd.md
 * "TLS certificate").
 *
 * STATE_DIR/tls.key   the TLS private key: EC P-256, PKCS#8 PEM, 0600,
 *                     created and checked by lic_key_load_or_create (the
 *                     same rules as the signing key, but a separate key:
 *                     rotating the certificate never touches the key
 *                     devices pin).
 * STATE_DIR/server.crt a self-signed certificate for that key, valid 10
 *                     years, subjectAltName IP:127.0.0.1, IP:::1,
 *                     DNS:localhost and the listen address (IP literal ->
 *                     IP SAN, name -> DNS SAN; for a wildcard address the
 *                     host name instead). sbcd pins it as a trust anchor
 *                     (`license smart ca-file`).
 *
 * Both are created on first start and reused afterwards; a certificate
 * that does not match the key is replaced. No exits; NULL / -1 with a
 * reason in err.
 */
#ifndef SBC_LICD_TLS_H
#define SBC_LICD_TLS_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#define LSRV_TLS_KEY_FILE "tls.key"
#define LSRV_TLS_CERT_FILE "server.crt"
#define LSRV_TLS_CERT_DAYS 3650
#define LSRV_HOST_MAX 255

/*
 * A server SSL_CTX (TLS 1.2 minimum) with the key and certificate of
 * state_dir, creating them when missing. listen_host (no brackets) goes
 * into a new certificate; *warning (may be NULL) gets a note when an
 * existing certificate does not name it ("" otherwise). `now` (Unix
 * seconds) dates a new certificate. The caller frees with SSL_CTX_free.
 */
SSL_CTX *lsrv_tls_context(const char *state_dir, const char *listen_host,
			  int64_t now, char *warning, size_t warnlen,
			  char *err, size_t errlen);

#endif
