/*
 * config: the IOS-style configuration file (docs/configuration.md,
 * docs/configuration.md).
 *
 * The parser is driven by one table of commands per mode; each row names the
 * keywords, validates its arguments and stores them. Unknown or malformed
 * lines are errors naming file:line and the offending text; nothing is
 * silently ignored. A parsed config is immutable and owned by the caller.
 */
#ifndef SBC_CONFIG_H
#define SBC_CONFIG_H

#include "sbc/sdpfilter.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define SBC_CFG_MAX_LISTEN 8
#define SBC_CFG_MAX_DIALPEERS 1024
#define SBC_CFG_MAX_LINE 512  /* longer lines are an error */
#define SBC_CFG_MAX_LINES 100000
#define SBC_CFG_MAX_CODEC_CLASSES 64
#define SBC_CFG_MAX_KEEPALIVES 64
#define SBC_CFG_MAX_NAME_SERVERS 6
#define SBC_CFG_MAX_HOSTNAME 254 /* a DNS name in a session target */
#define SBC_CFG_MAX_ERRORS 100 /* reported; then "too many errors" */

/* `license smart url default`: licd on this host (docs/configuration.md). */
#define SBC_CFG_DEFAULT_LICENSE_URL "https://127.0.0.1:8443/licensing/v1/"
/* `license smart proxy address` without `proxy port`. */
#define SBC_CFG_DEFAULT_PROXY_PORT 3128

/* `service timestamps ... localtime`: kept for printing back only. */
#define SBC_STAMP_LOCALTIME 0x100u

enum sbc_transport { SBC_TP_UDP, SBC_TP_TCP, SBC_TP_TLS };
enum sbc_dp_kind { SBC_DP_VOIP, SBC_DP_POTS };
enum sbc_lic_transport { SBC_LIC_TP_SMART, SBC_LIC_TP_CSLU, SBC_LIC_TP_OFF };
/*
 * `tls verify`: whose certificates are checked against `tls ca-file`.
 * PEER: servers we connect to, and clients that connect to us must present
 * one (mutual TLS); SERVER: servers we connect to only; NONE: nobody.
 * AUTO (not written): PEER with a ca-file, NONE without.
 */
enum sbc_tls_verify {
	SBC_TLS_VERIFY_AUTO,
	SBC_TLS_VERIFY_PEER,
	SBC_TLS_VERIFY_SERVER,
	SBC_TLS_VERIFY_NONE
};

struct sbc_listen {
	enum sbc_transport transport;
	char addr[64]; /* numeric IPv4 address */
	unsigned port; /* 0..65535; 0 lets the kernel choose */
	unsigned bound_port; /* port 0: the one bound (sbc_config_set_bound_port);
				0 = not known */
};

/*
 * `voice class codec <tag>`: pref[n - 1] is the codec of `codec preference
 * n` (SBC_CODEC_NONE where no line gives that n).
 */
struct sbc_codec_class {
	unsigned tag; /* 1..10000 */
	enum sbc_codec pref[SBC_SDP_MAX_CODECS];
};

/* `voice class sip-options-keepalive <tag>`, IOS defaults filled in. */
struct sbc_keepalive_cfg {
	unsigned tag;	  /* 1..10000 */
	unsigned up_s;	  /* OPTIONS interval while active; default 60 */
	unsigned down_s;  /* interval while busied out; default 30 */
	unsigned retry;	  /* failed pings before busy-out; default 5 */
};

/* One `dial-peer voice <tag> {voip|pots}` block. */
struct sbc_dialpeer_cfg {
	unsigned tag; /* 1..2147483647 */
	enum sbc_dp_kind kind;
	unsigned line; /* line of the dial-peer header, for messages */
	char description[128];
	char incoming_called[SBC_CFG_MAX_LINE]; /* "" when not set */
	char destination[SBC_CFG_MAX_LINE];	/* "" when not set */
	bool has_target;	/* session target given (voip only) */
	char target_addr[64];	/* numeric IPv4; "" for a dns: target */
	unsigned target_port;	/* 1..65535; 0: dns: without a port (SRV) */
	/* session target dns:NAME[:PORT], resolved by RFC 3263. */
	bool target_dns;
	char target_host[SBC_CFG_MAX_HOSTNAME + 1];
	enum sbc_transport transport; /* default UDP */
	unsigned preference;	/* 0..10, default 0; lower wins */
	char port[32];		/* pots: the voice port name, "" when not set */
	/*
	 * Codecs: `voice-class codec <tag>` (codec_class, its list copied
	 * into sdp) or `codec <name>` (codec); at most one of them. sdp is
	 * the policy the SIP thread applies to offers sent to this peer;
	 * sdp.add_nte is `dtmf-relay rtp-nte`.
	 */
	unsigned codec_class;	/* 0: none */
	enum sbc_codec codec;	/* SBC_CODEC_NONE: none */
	struct sbc_sdp_policy sdp;
	bool dtmf_nte;		/* dtmf-relay rtp-nte */
	bool proto_sipv2;	/* session protocol sipv2 (the only one) */
	bool no_vad;		/* no vad: printed back, nothing to do */
	/* voice-class sip options-keepalive profile <tag>; 0: none. */
	unsigned ka_profile;
	struct sbc_keepalive_cfg ka; /* that profile's values */
};

/* Everything else the file sets, with defaults filled in. */
struct sbc_settings {
	char hostname[64];		/* default "sbc" */
	struct sbc_listen listen[SBC_CFG_MAX_LISTEN];
	size_t n_listen;		/* 0: none configured */
	bool border_element;		/* `mode border-element` seen */
	unsigned periodicity_hours;	/* default 168 (7 days); raised to 8 */
	bool periodicity_raised;	/* a value < 8 h was raised to 8 h */
	unsigned max_calls;		/* call threshold global; 0 = none */
	unsigned max_duration_s;	/* call max-duration; default 14400 */
	unsigned shutdown_grace_s;	/* call shutdown-grace; default 30 */
	unsigned expires_ms;		/* sip-ua timers expires; default 180000 */
	bool has_gateway;		/* voice-gateway set */
	char gateway_addr[64];
	unsigned gateway_port;
	enum sbc_transport gateway_transport;
	char license_release[32];	/* "" = newest behaviour */
	enum sbc_lic_transport license_transport; /* default smart */
	char license_url[256];
	unsigned license_usage_interval_days; /* default 30 */
	bool license_url_default;	/* `license smart url default` */
	char license_ca_file[256];
	char license_proxy_host[256];	/* `license smart proxy address`; "" */
	unsigned license_proxy_port;	/* `license smart proxy port`; 0 */
	bool license_privacy_hostname;
	bool logging_syslog;		/* `logging syslog`: lines to syslog(3) */
	/* `service timestamps ... datetime ...`: LOG_STAMP_* bits for
	 * log_set_stamp (SBC_STAMP_LOCALTIME is only printed back); 0 = the
	 * default ISO 8601 stamps. */
	unsigned log_stamp;
	unsigned debug_stamp; /* `service timestamps debug ...`: printed back */
	bool has_metrics;		/* `metrics listen ADDR PORT` */
	char metrics_addr[64];		/* loopback IPv4 */
	unsigned metrics_port;		/* 0: the kernel chooses */
	/* voice service voip / sip: TLS credentials, absolute paths or "". */
	char tls_certificate[256];	/* PEM certificate (the first is used) */
	char tls_private_key[256];	/* PEM private key, unencrypted, 0600 */
	char tls_ca_file[256];		/* PEM CA certificates for peers */
	enum sbc_tls_verify tls_verify; /* as written; default AUTO */
	bool allow_sip_to_sip;		/* allow-connections sip to sip */
	struct sbc_codec_class codec_class[SBC_CFG_MAX_CODEC_CLASSES];
	size_t n_codec_class;
	struct sbc_keepalive_cfg keepalive[SBC_CFG_MAX_KEEPALIVES];
	size_t n_keepalive;
	/* ip name-server: numeric IPv4, in the order given. */
	char name_server[SBC_CFG_MAX_NAME_SERVERS][64];
	size_t n_name_server;
	unsigned name_server_port; /* ip name-server port; default 53 */
};

struct sbc_config;

/*
 * Parse `path`, then check the files it names (sbc_config_check_files). On
 * error returns NULL and writes the first error, "<path>:<line>: <reason>:
 * '<offending text>'", into err (errlen bytes). A relative `license smart
 * ca-file` is resolved against the directory of `path` (and stored so).
 */
struct sbc_config *sbc_config_load(const char *path, char *err, size_t errlen);

/*
 * Called once per error, in file order, with the message as above (or
 * "<path>: cannot open: ..."); after SBC_CFG_MAX_ERRORS one last
 * "<path>: too many errors (max 100), stopping".
 */
typedef void sbc_config_error_fn(void *arg, const char *msg);

/*
 * Like sbc_config_load, but the parse goes on after an error, like a
 * compiler: every error of the file (the lines, the whole-file checks and,
 * when the text parsed, the files it names) goes to fn. Lines indented
 * under a line in error are its body and are not checked. Returns the
 * config only when there was no error.
 */
struct sbc_config *sbc_config_load_each(const char *path,
					sbc_config_error_fn *fn, void *arg);

/* The same on an in-memory text (files not opened). */
struct sbc_config *sbc_config_parse_each(const char *name, const char *text,
					 sbc_config_error_fn *fn, void *arg);

/*
 * Same as sbc_config_load on an in-memory text; `name` is used as the path.
 * The text alone is checked: files it names are not opened.
 */
struct sbc_config *sbc_config_parse(const char *name, const char *text,
				    char *err, size_t errlen);

/*
 * Open and check the files a parsed config names: the TLS certificate (a
 * PEM certificate), private key (a PEM key, not encrypted, no group or
 * other access, matching the certificate), CA file (PEM certificates) and
 * `license smart ca-file` (PEM certificates). Returns 0, or -1 with the
 * first "<name>:<line>: <reason>: '<line>'" in err, where name is the one
 * the config was parsed under.
 */
int sbc_config_check_files(const struct sbc_config *cfg, char *err,
			   size_t errlen);

/* A `listen tls` address or a voip dial-peer with `session transport tls`. */
bool sbc_config_uses_tls(const struct sbc_config *cfg);

/* The `tls verify` policy in force: AUTO resolved (see enum sbc_tls_verify). */
enum sbc_tls_verify sbc_config_tls_verify(const struct sbc_settings *s);

void sbc_config_free(struct sbc_config **cfg);

const struct sbc_settings *sbc_config_settings(const struct sbc_config *cfg);
size_t sbc_config_dialpeer_count(const struct sbc_config *cfg);
const struct sbc_dialpeer_cfg *sbc_config_dialpeer(const struct sbc_config *cfg,
						   size_t i);

/*
 * After a reload: the licensing settings of `in_force` (what the licensing
 * agent runs with) replace those of `cfg` (the file just read), but for the
 * endpoint (`license smart url`, `ca-file`, `proxy`) when the caller applied
 * it live. Each file value that differs is remembered and printed by
 * sbc_config_write as a "! pending restart: <command>" line (or "no
 * <command>") before `end`, so the text shows what runs and what waits.
 * Returns how many lines are pending.
 */
size_t sbc_config_keep_licensing(struct sbc_config *cfg,
				 const struct sbc_config *in_force,
				 bool endpoint_applied);

/* The license server endpoint (url, ca-file, proxy) differs. */
bool sbc_config_endpoint_differs(const struct sbc_config *a,
				 const struct sbc_config *b);

/*
 * Listen entry i of a running config was bound to `port` (its configured
 * port 0 let the kernel choose): sbc_config_write then follows that
 * listen line with "! bound to port N". Out of range i is ignored.
 */
void sbc_config_set_bound_port(struct sbc_config *cfg, size_t i,
			       unsigned port);

/* Print the parsed config back in canonical form (show running-config). */
int sbc_config_write(const struct sbc_config *cfg, FILE *out);

const char *sbc_transport_name(enum sbc_transport tp);
/* "peer", "server", "none"; "auto" for AUTO. */
const char *sbc_tls_verify_name(enum sbc_tls_verify v);

#endif
