/*
 * tlsfiles: the TLS credential files, without Sofia-SIP.
 *
 * The configuration names PEM files (`tls certificate`, `tls private-key`,
 * `tls ca-file`, `license smart ca-file`); the checks here are what
 * `sbcd -n`, the start and every reload say about them. Sofia-SIP reads
 * its credentials from a directory instead: sbc_tlsfiles_build() makes it
 * from the configured files and sbc_tlsfiles_scrub() empties it again once
 * the transports hold them in memory.
 *
 * Every byte of a file read here passes through a buffer wiped before it
 * is freed: the private key goes this way.
 */
#ifndef SBC_TLSFILES_H
#define SBC_TLSFILES_H

#include <openssl/x509.h>

#include <stddef.h>

/* The largest certificate, key or CA file accepted. */
#define SBC_TLSFILES_MAX (1024 * 1024)

/* In the directory that sbc_tlsfiles_build() makes: the private key then
 * the certificate, and the CA certificates (with a CA file). */
#define SBC_TLSFILES_AGENT "agent.pem"
#define SBC_TLSFILES_CA "cafile.pem"

/*
 * path is a regular file of 1..SBC_TLSFILES_MAX bytes holding at least one
 * PEM certificate, every one decodable. With first, the first certificate
 * is stored there (X509_free() it). 0, or -1 with the reason in why (the
 * reason does not name the file: the caller reports it at its line).
 */
int sbc_tlsfiles_check_certs(const char *path, X509 **first, char *why,
			     size_t whylen);

/*
 * path is a private key file as sbcd takes it: readable by its owner
 * only, holding an unencrypted PEM private key that, when cert is not
 * NULL, belongs to cert. 0, or -1 with the reason in why.
 */
int sbc_tlsfiles_check_key(const char *path, X509 *cert, char *why,
			   size_t whylen);

/*
 * Make state_dir/tls for Sofia-SIP: a directory owned by this uid, mode
 * 0700, not a symlink, holding SBC_TLSFILES_AGENT (the files key and
 * cert, in that order) and, when ca is not "", SBC_TLSFILES_CA; both
 * 0600 and written whole (fio_write_atomic) so that Sofia-SIP never reads
 * half a file. The directory's path goes to dir. 0, or -1 with the reason
 * in why, dir "" and nothing of ours left in the directory.
 */
int sbc_tlsfiles_build(const char *state_dir, const char *key,
		       const char *cert, const char *ca, char *dir,
		       size_t dirlen, char *why, size_t whylen);

/*
 * Remove what sbc_tlsfiles_build() puts into dir (temporaries of a write
 * cut short included), and tls.pem, which Sofia-SIP would take for a
 * missing agent.pem or cafile.pem. dir "" is nothing to do. A file that
 * cannot be removed is logged.
 */
void sbc_tlsfiles_scrub(const char *dir);

#endif
