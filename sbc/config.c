#include "sbc/config.h"

#include "common/err.h"
#include "sbc/digitpat.h"
#include "sbc/tlsfiles.h"
#include "common/log.h"
#include "licensing/release.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CFG_MAX_KW 6	/* keywords in one command row */
#define CFG_MAX_DEPTH 4 /* top > voip > voip-sip is the deepest nesting */
#define CFG_MAX_TOKENS (SBC_CFG_MAX_LINE / 2 + 1)
#define CFG_SHOW_LONG 40 /* chars of an over-long line quoted in the error */
#define CFG_SKIP_MAX (1024 * 1024) /* rest of an over-long line skipped */

#define DEF_HOSTNAME "sbc"
#define DEF_PERIODICITY_H 168
#define MIN_PERIODICITY_H 8

enum cfg_mode {
	MODE_NONE, /* row opens no sub-mode */
	MODE_SKIP, /* the body of a line in error: not checked */
	MODE_TOP,
	MODE_VOIP,
	MODE_VOIP_SIP,
	MODE_SIP_UA,
	MODE_DIALPEER,
	MODE_CODEC_CLASS, /* voice class codec <tag> */
	MODE_KEEPALIVE,	  /* voice class sip-options-keepalive <tag> */
	MODE_COUNT
};

/* TLS lines remembered for the checks made after the parse. */
enum tls_src {
	TLS_SRC_CERT,
	TLS_SRC_KEY,
	TLS_SRC_CA,
	TLS_SRC_VERIFY,
	TLS_SRC_LISTEN, /* the first `listen tls` */
	SRC_LICENSE_CA, /* `license smart ca-file`, checked with them */
	TLS_SRC_COUNT
};

struct cfg_where {
	unsigned line;			 /* 0: not in the file */
	char text[SBC_CFG_MAX_LINE + 1]; /* the line, trimmed */
};

struct sbc_config {
	struct sbc_settings s;
	struct sbc_dialpeer_cfg *dp;
	size_t n_dp;
	size_t cap_dp;
	char *name; /* the file (or name) it was parsed from, for messages */
	struct cfg_where tls_where[TLS_SRC_COUNT];
	char *pending; /* "! pending restart: ..." lines, or NULL */
};

/* One open mode: the line that opened it and how its body is indented. */
struct cfg_frame {
	enum cfg_mode mode;
	int header_indent; /* -1 for the top level */
	int child_indent;  /* -1 until the first line of the body */
};

/*
 * Where the errors go: every one to fn (in file order), the first also
 * into first (firstlen bytes, may be NULL). After SBC_CFG_MAX_ERRORS a
 * last "too many errors" message, and `full` stops the parse.
 */
struct cfg_errors {
	sbc_config_error_fn *fn;
	void *arg;
	char *first;
	size_t firstlen;
	const char *name;
	unsigned n;
	bool full;
};

struct cfg_parser {
	struct sbc_config *cfg;
	struct cfg_errors *errs;
	struct cfg_frame stack[CFG_MAX_DEPTH];
	size_t depth;
	char **dp_header; /* header text per dial-peer, for the final checks */
	size_t n_header;
	unsigned lineno;  /* of the line being parsed */
	const char *line; /* its text */
	char reason[192];
	bool ended;
};

/* The words of a line after the command's keywords. */
struct cfg_args {
	char **v;
	size_t n;
	const char *rest; /* raw text from the first argument to end of line */
};

struct cfg_out {
	FILE *fp;
	bool last_bang; /* the last line printed was "!" */
	bool any;	/* something was printed */
};

/*
 * One command of one mode. `kw` are the fixed words; the rest of the line
 * are arguments, min_args..max_args of them. Numeric rows (cmd_uint) store
 * into the field at `off` of the settings, or of the current dial-peer when
 * `in_dp`; `def` is both the default and "not printed back". Rows of a
 * bool setting at `off` (cmd_flag, print_flag) print `line` when it is
 * set. `print` writes the command back for sbc_config_write; rows of TOP
 * print in table order, and a change of `group` there prints a "!"
 * separator.
 */
struct cfg_cmd {
	const char *kw[CFG_MAX_KW];
	size_t min_args;
	size_t max_args;
	enum cfg_mode opens;
	int (*parse)(struct cfg_parser *p, const struct cfg_cmd *cmd,
		     const struct cfg_args *a);
	void (*print)(struct cfg_out *o, const struct cfg_cmd *cmd,
		      const struct sbc_config *cfg,
		      const struct sbc_dialpeer_cfg *dp, int depth);
	size_t off;
	bool in_dp;
	unsigned long lo, hi, def;
	const char *line;
	int arg;
	int group;
};

static const char *const tp_names[] = {"udp", "tcp", "tls"};
static const char *const lic_tp_names[] = {"smart", "cslu", "off"};
static const char *const dp_kind_names[] = {"voip", "pots"};
/* Indexed by enum sbc_tls_verify; "auto" is never written. */
static const char *const tls_verify_names[] = {"auto", "peer", "server",
					       "none"};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

const char *sbc_transport_name(enum sbc_transport tp)
{
	if ((size_t)tp >= NELEM(tp_names))
		return "?";
	return tp_names[tp];
}

const char *sbc_tls_verify_name(enum sbc_tls_verify v)
{
	if ((size_t)v >= NELEM(tls_verify_names))
		return "?";
	return tls_verify_names[v];
}

static int fail(struct cfg_parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct cfg_parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->reason, sizeof(p->reason), fmt, ap);
	va_end(ap);
	return -1;
}

static struct sbc_dialpeer_cfg *cur_dp(struct cfg_parser *p)
{
	return &p->cfg->dp[p->cfg->n_dp - 1];
}

/* Plain decimal only: no sign, no spaces, no hex, no trailing junk. */
static int parse_num(struct cfg_parser *p, const char *s, unsigned long lo,
		     unsigned long hi, unsigned long *out)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return fail(p, "invalid number");
		if (v <= UINT32_MAX)
			v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (i == 0)
		return fail(p, "invalid number");
	if (v < lo || v > hi)
		return fail(p, "value out of range %lu-%lu", lo, hi);
	*out = (unsigned long)v;
	return 0;
}

static int parse_port(struct cfg_parser *p, const char *s, unsigned lo,
		      unsigned *out)
{
	unsigned long v = 0;

	if (parse_num(p, s, lo, 65535, &v) < 0)
		return fail(p, "invalid port");
	*out = (unsigned)v;
	return 0;
}

/* Stores the canonical dotted quad so that printing back is stable. */
static int parse_ipv4(struct cfg_parser *p, const char *s, char *out,
		      size_t outlen)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1 ||
	    inet_ntop(AF_INET, &a, out, (socklen_t)outlen) == NULL)
		return fail(p, "invalid IPv4 address");
	return 0;
}

/* Index of s in names, or -1 with "expected a|b|c" built from the list. */
static int parse_choice(struct cfg_parser *p, const char *s,
			const char *const *names, size_t n)
{
	char expected[64] = "";
	size_t i, used = 0;

	for (i = 0; i < n; i++) {
		if (strcmp(s, names[i]) == 0)
			return (int)i;
		used += (size_t)snprintf(expected + used,
					 sizeof(expected) - used, "%s%s",
					 i ? "|" : "", names[i]);
	}
	return fail(p, "invalid value, expected %s", expected);
}

/* "ipv4:ADDR:PORT", the only session target form the SBC routes to. */
static int parse_target(struct cfg_parser *p, const char *s, char *addr,
			size_t addrlen, unsigned *port)
{
	char buf[SBC_CFG_MAX_LINE + 1];
	char *colon;

	if (strncmp(s, "ipv4:", 5) != 0 || strlen(s + 5) >= sizeof(buf))
		return fail(p, "invalid target, expected ipv4:ADDR:PORT");
	strcpy(buf, s + 5);
	colon = strrchr(buf, ':');
	if (colon == NULL)
		return fail(p, "invalid target, expected ipv4:ADDR:PORT");
	*colon = '\0';
	if (parse_ipv4(p, buf, addr, addrlen) < 0)
		return -1;
	return parse_port(p, colon + 1, 1, port);
}

static int parse_pattern(struct cfg_parser *p, const char *s, char *out,
			 size_t outlen)
{
	struct sbc_digitpat *pat;
	char why[128];

	pat = sbc_digitpat_new(s, why, sizeof(why));
	if (pat == NULL)
		return fail(p, "invalid digit pattern (%s)", why);
	sbc_digitpat_free(&pat);
	snprintf(out, outlen, "%s", s);
	return 0;
}

static int copy_text(struct cfg_parser *p, const char *s, char *out,
		     size_t outlen)
{
	if (strlen(s) >= outlen)
		return fail(p, "text too long (max %zu)", outlen - 1);
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

static void *field(const struct cfg_cmd *cmd, struct cfg_parser *p)
{
	char *base = cmd->in_dp ? (char *)cur_dp(p) : (char *)&p->cfg->s;

	return base + cmd->off;
}

static const void *cfield(const struct cfg_cmd *cmd,
			  const struct sbc_config *cfg,
			  const struct sbc_dialpeer_cfg *dp)
{
	const char *base = cmd->in_dp ? (const char *)dp
				      : (const char *)&cfg->s;

	return base + cmd->off;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static char *dup_trimmed(const char *line)
{
	size_t n;
	char *d;

	while (is_blank(*line))
		line++;
	n = strlen(line);
	while (n > 0 && is_blank(line[n - 1]))
		n--;
	d = malloc(n + 1);
	if (d != NULL) {
		memcpy(d, line, n);
		d[n] = '\0';
	}
	return d;
}

/* Remember the current line as where a TLS setting was made. */
static void note_where(struct cfg_parser *p, enum tls_src src)
{
	struct cfg_where *w = &p->cfg->tls_where[src];
	const char *line = p->line;
	size_t n;

	while (is_blank(*line))
		line++;
	n = strlen(line);
	while (n > 0 && is_blank(line[n - 1]))
		n--;
	if (n >= sizeof(w->text))
		n = sizeof(w->text) - 1;
	memcpy(w->text, line, n);
	w->text[n] = '\0';
	w->line = p->lineno;
}

/* ---- handlers: validate the arguments, then store ---- */

static int cmd_uint(struct cfg_parser *p, const struct cfg_cmd *cmd,
		    const struct cfg_args *a)
{
	unsigned long v = 0;

	if (parse_num(p, a->v[0], cmd->lo, cmd->hi, &v) < 0)
		return -1;
	*(unsigned *)field(cmd, p) = (unsigned)v;
	return 0;
}

static int cmd_hostname(struct cfg_parser *p, const struct cfg_cmd *cmd,
			const struct cfg_args *a)
{
	const char *s = a->v[0];
	size_t i;

	(void)cmd;
	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      c == '.'))
			return fail(p, "invalid hostname");
	}
	if (i >= sizeof(p->cfg->s.hostname))
		return fail(p, "invalid hostname");
	memcpy(p->cfg->s.hostname, s, i + 1);
	return 0;
}

/*
 * `mode border-element [license periodicity {hours|days} N]`: three rows
 * sharing this handler, cmd->arg telling which (0 none, 1 hours, 2 days).
 * Periods under 8 h are raised rather than refused, as IOS does; the caller
 * logs periodicity_raised.
 */
static int cmd_border(struct cfg_parser *p, const struct cfg_cmd *cmd,
		      const struct cfg_args *a)
{
	struct sbc_settings *s = &p->cfg->s;
	unsigned long v = DEF_PERIODICITY_H;

	if (cmd->arg == 1 && parse_num(p, a->v[0], 1, 23, &v) < 0)
		return -1;
	if (cmd->arg == 2) {
		if (parse_num(p, a->v[0], 1, 30, &v) < 0)
			return -1;
		v *= 24;
	}
	s->border_element = true;
	s->periodicity_raised = v < MIN_PERIODICITY_H;
	s->periodicity_hours = v < MIN_PERIODICITY_H ? MIN_PERIODICITY_H
						     : (unsigned)v;
	return 0;
}

static int cmd_listen(struct cfg_parser *p, const struct cfg_cmd *cmd,
		      const struct cfg_args *a)
{
	struct sbc_settings *s = &p->cfg->s;
	struct sbc_listen l;
	size_t i;
	int tp;

	(void)cmd;
	memset(&l, 0, sizeof(l));
	tp = parse_choice(p, a->v[0], tp_names, NELEM(tp_names));
	if (tp < 0 || parse_ipv4(p, a->v[1], l.addr, sizeof(l.addr)) < 0 ||
	    parse_port(p, a->v[2], 0, &l.port) < 0)
		return -1;
	l.transport = (enum sbc_transport)tp;
	for (i = 0; i < s->n_listen; i++)
		if (s->listen[i].transport == l.transport &&
		    s->listen[i].port == l.port &&
		    strcmp(s->listen[i].addr, l.addr) == 0)
			return fail(p, "duplicate listen address");
	if (s->n_listen >= SBC_CFG_MAX_LISTEN)
		return fail(p, "too many listen addresses (max %d)",
			    SBC_CFG_MAX_LISTEN);
	s->listen[s->n_listen++] = l;
	if (l.transport == SBC_TP_TLS &&
	    p->cfg->tls_where[TLS_SRC_LISTEN].line == 0)
		note_where(p, TLS_SRC_LISTEN);
	return 0;
}

/*
 * `tls certificate|private-key|ca-file PATH` (cmd->arg: enum tls_src).
 * Only the text is checked here; sbc_config_check_files() opens the file.
 * Absolute paths only: the daemon's working directory is nobody's guess.
 */
static int cmd_tls_path(struct cfg_parser *p, const struct cfg_cmd *cmd,
			const struct cfg_args *a)
{
	const char *s = a->v[0];

	if (s[0] != '/')
		return fail(p, "not an absolute path");
	if (copy_text(p, s, field(cmd, p), sizeof(p->cfg->s.tls_ca_file)) < 0)
		return -1;
	note_where(p, (enum tls_src)cmd->arg);
	return 0;
}

static int cmd_tls_verify(struct cfg_parser *p, const struct cfg_cmd *cmd,
			  const struct cfg_args *a)
{
	int v;

	(void)cmd;
	v = parse_choice(p, a->v[0], tls_verify_names + 1,
			 NELEM(tls_verify_names) - 1);
	if (v < 0)
		return -1;
	p->cfg->s.tls_verify = (enum sbc_tls_verify)(v + 1);
	note_where(p, TLS_SRC_VERIFY);
	return 0;
}

static int cmd_gateway(struct cfg_parser *p, const struct cfg_cmd *cmd,
		       const struct cfg_args *a)
{
	static const char *const names[] = {"udp", "tcp"};
	struct sbc_settings *s = &p->cfg->s;
	int tp = SBC_TP_UDP;

	(void)cmd;
	if (parse_target(p, a->v[0], s->gateway_addr, sizeof(s->gateway_addr),
			 &s->gateway_port) < 0)
		return -1;
	if (a->n > 1 && (tp = parse_choice(p, a->v[1], names, 2)) < 0)
		return -1;
	s->gateway_transport = (enum sbc_transport)tp;
	s->has_gateway = true;
	return 0;
}

static int cmd_dialpeer(struct cfg_parser *p, const struct cfg_cmd *cmd,
			const struct cfg_args *a)
{
	struct sbc_config *cfg = p->cfg;
	struct sbc_dialpeer_cfg *dp;
	unsigned long tag = 0;
	size_t i, cap;
	int kind;

	(void)cmd;
	if (parse_num(p, a->v[0], 1, 2147483647UL, &tag) < 0)
		return -1;
	kind = parse_choice(p, a->v[1], dp_kind_names, NELEM(dp_kind_names));
	if (kind < 0)
		return -1;
	for (i = 0; i < cfg->n_dp; i++)
		if (cfg->dp[i].tag == tag)
			return fail(p, "duplicate dial-peer tag");
	if (cfg->n_dp >= SBC_CFG_MAX_DIALPEERS)
		return fail(p, "too many dial-peers (max %d)",
			    SBC_CFG_MAX_DIALPEERS);
	if (cfg->n_dp == cfg->cap_dp) {
		struct sbc_dialpeer_cfg *ndp;
		char **nh;

		cap = cfg->cap_dp ? cfg->cap_dp * 2 : 16;
		if (cap > SBC_CFG_MAX_DIALPEERS)
			cap = SBC_CFG_MAX_DIALPEERS;
		ndp = realloc(cfg->dp, cap * sizeof(*ndp));
		if (ndp == NULL)
			return fail(p, "out of memory");
		cfg->dp = ndp;
		nh = realloc(p->dp_header, cap * sizeof(*nh));
		if (nh == NULL)
			return fail(p, "out of memory");
		p->dp_header = nh;
		cfg->cap_dp = cap;
	}
	p->dp_header[cfg->n_dp] = dup_trimmed(p->line);
	if (p->dp_header[cfg->n_dp] == NULL)
		return fail(p, "out of memory");
	p->n_header = cfg->n_dp + 1;
	dp = &cfg->dp[cfg->n_dp++];
	memset(dp, 0, sizeof(*dp));
	dp->tag = (unsigned)tag;
	dp->line = p->lineno;
	dp->kind = (enum sbc_dp_kind)kind;
	dp->transport = SBC_TP_UDP;
	return 0;
}

static int cmd_description(struct cfg_parser *p, const struct cfg_cmd *cmd,
			   const struct cfg_args *a)
{
	(void)cmd;
	return copy_text(p, a->rest, cur_dp(p)->description,
			 sizeof(cur_dp(p)->description));
}

static int cmd_pattern(struct cfg_parser *p, const struct cfg_cmd *cmd,
		       const struct cfg_args *a)
{
	return parse_pattern(p, a->v[0], field(cmd, p), SBC_CFG_MAX_LINE);
}

static int need_kind(struct cfg_parser *p, enum sbc_dp_kind kind)
{
	if (cur_dp(p)->kind == kind)
		return 0;
	return fail(p, "command not valid on a %s dial-peer",
		    dp_kind_names[cur_dp(p)->kind]);
}

static int cmd_target_dns(struct cfg_parser *p, const char *s);

static int cmd_target(struct cfg_parser *p, const struct cfg_cmd *cmd,
		      const struct cfg_args *a)
{
	struct sbc_dialpeer_cfg *dp = cur_dp(p);

	(void)cmd;
	if (need_kind(p, SBC_DP_VOIP) == 0 &&
	    strncmp(a->v[0], "dns:", 4) == 0)
		return cmd_target_dns(p, a->v[0] + 4);
	if (need_kind(p, SBC_DP_VOIP) < 0 ||
	    parse_target(p, a->v[0], dp->target_addr, sizeof(dp->target_addr),
			 &dp->target_port) < 0)
		return -1;
	dp->has_target = true;
	dp->target_dns = false;
	dp->target_host[0] = '\0';
	return 0;
}

static int cmd_transport(struct cfg_parser *p, const struct cfg_cmd *cmd,
			 const struct cfg_args *a)
{
	int tp;

	(void)cmd;
	if (need_kind(p, SBC_DP_VOIP) < 0)
		return -1;
	tp = parse_choice(p, a->v[0], tp_names, NELEM(tp_names));
	if (tp < 0)
		return -1;
	cur_dp(p)->transport = (enum sbc_transport)tp;
	return 0;
}

/* Voice port names are slot/subslot/port numbers: "0/1/0". */
static int cmd_port(struct cfg_parser *p, const struct cfg_cmd *cmd,
		    const struct cfg_args *a)
{
	const char *s = a->v[0];
	size_t i;

	(void)cmd;
	if (need_kind(p, SBC_DP_POTS) < 0)
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		bool digit = s[i] >= '0' && s[i] <= '9';

		if (!digit && (s[i] != '/' || i == 0 || s[i - 1] == '/'))
			return fail(p, "invalid voice port name");
	}
	if (s[i - 1] == '/' || i >= sizeof(cur_dp(p)->port))
		return fail(p, "invalid voice port name");
	memcpy(cur_dp(p)->port, s, i + 1);
	return 0;
}

/*
 * IOS XE release names (17.6.1a, 17.10.1, 16.12.1): checked by the
 * licensing module that later compares them, so the config accepts exactly
 * what enforcement understands.
 */
static int cmd_release(struct cfg_parser *p, const struct cfg_cmd *cmd,
		       const struct cfg_args *a)
{
	const char *s = a->v[0];
	struct lic_release r;

	(void)cmd;
	if (strlen(s) >= sizeof(p->cfg->s.license_release) ||
	    lic_release_parse(s, &r) != 0)
		return fail(p, "invalid release version");
	memcpy(p->cfg->s.license_release, s, strlen(s) + 1);
	return 0;
}

static int cmd_lic_transport(struct cfg_parser *p, const struct cfg_cmd *cmd,
			     const struct cfg_args *a)
{
	int tp;

	(void)cmd;
	tp = parse_choice(p, a->v[0], lic_tp_names, NELEM(lic_tp_names));
	if (tp < 0)
		return -1;
	p->cfg->s.license_transport = (enum sbc_lic_transport)tp;
	return 0;
}

static int cmd_url(struct cfg_parser *p, const struct cfg_cmd *cmd,
		   const struct cfg_args *a)
{
	const char *s = a->v[0];

	(void)cmd;
	if (strcmp(s, "default") == 0) {
		p->cfg->s.license_url_default = true;
		return copy_text(p, SBC_CFG_DEFAULT_LICENSE_URL,
				 p->cfg->s.license_url,
				 sizeof(p->cfg->s.license_url));
	}
	p->cfg->s.license_url_default = false;
	if (!((strncmp(s, "http://", 7) == 0 && s[7] != '\0') ||
	      (strncmp(s, "https://", 8) == 0 && s[8] != '\0')))
		return fail(p, "invalid URL, expected http:// or https://");
	return copy_text(p, s, p->cfg->s.license_url,
			 sizeof(p->cfg->s.license_url));
}

/* A host name or an IPv4/IPv6 literal, as the resolver takes it. */
static int cmd_proxy_host(struct cfg_parser *p, const struct cfg_cmd *cmd,
			  const struct cfg_args *a)
{
	const char *s = a->v[0];
	size_t i;

	(void)cmd;
	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      s[i] == '.' || s[i] == ':'))
			return fail(p, "invalid proxy address");
	return copy_text(p, s, p->cfg->s.license_proxy_host,
			 sizeof(p->cfg->s.license_proxy_host));
}

static int cmd_ca_file(struct cfg_parser *p, const struct cfg_cmd *cmd,
		       const struct cfg_args *a)
{
	(void)cmd;
	if (copy_text(p, a->v[0], p->cfg->s.license_ca_file,
		      sizeof(p->cfg->s.license_ca_file)) < 0)
		return -1;
	note_where(p, SRC_LICENSE_CA);
	return 0;
}

/* A row without arguments that sets the bool at `off`. */
static int cmd_flag(struct cfg_parser *p, const struct cfg_cmd *cmd,
		    const struct cfg_args *a)
{
	(void)a;
	*(bool *)field(cmd, p) = true;
	return 0;
}

static int cmd_end(struct cfg_parser *p, const struct cfg_cmd *cmd,
		   const struct cfg_args *a)
{
	(void)cmd;
	(void)a;
	p->ended = true;
	return 0;
}

/* ---- printers ---- */

static void emit(struct cfg_out *o, int depth, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void emit(struct cfg_out *o, int depth, const char *fmt, ...)
{
	va_list ap;

	fprintf(o->fp, "%*s", depth, "");
	va_start(ap, fmt);
	vfprintf(o->fp, fmt, ap);
	va_end(ap);
	fputc('\n', o->fp);
	o->last_bang = false;
	o->any = true;
}

/* A "!" separator, never two in a row and never first. */
static void emit_bang(struct cfg_out *o)
{
	if (o->any && !o->last_bang) {
		fputs("!\n", o->fp);
		o->last_bang = true;
	}
}

/* The row's keywords joined by spaces, for printers of generic rows. */
static const char *kw_text(const struct cfg_cmd *cmd, char *buf, size_t len)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < CFG_MAX_KW && cmd->kw[i] != NULL; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 i ? " " : "", cmd->kw[i]);
	return buf;
}

static void write_mode(struct cfg_out *o, enum cfg_mode mode,
		       const struct sbc_config *cfg,
		       const struct sbc_dialpeer_cfg *dp, int depth);

static void print_uint(struct cfg_out *o, const struct cfg_cmd *cmd,
		       const struct sbc_config *cfg,
		       const struct sbc_dialpeer_cfg *dp, int depth)
{
	unsigned v = *(const unsigned *)cfield(cmd, cfg, dp);
	char kw[128];

	if (v != cmd->def)
		emit(o, depth, "%s %u", kw_text(cmd, kw, sizeof(kw)), v);
}

static void print_str(struct cfg_out *o, const struct cfg_cmd *cmd,
		      const struct sbc_config *cfg,
		      const struct sbc_dialpeer_cfg *dp, int depth)
{
	const char *v = cfield(cmd, cfg, dp);
	char kw[128];

	if (v[0] != '\0')
		emit(o, depth, "%s %s", kw_text(cmd, kw, sizeof(kw)), v);
}

static void print_flag(struct cfg_out *o, const struct cfg_cmd *cmd,
		       const struct sbc_config *cfg,
		       const struct sbc_dialpeer_cfg *dp, int depth)
{
	if (*(const bool *)cfield(cmd, cfg, dp))
		emit(o, depth, "%s", cmd->line);
}

static void print_url(struct cfg_out *o, const struct cfg_cmd *cmd,
		      const struct sbc_config *cfg,
		      const struct sbc_dialpeer_cfg *dp, int depth)
{
	if (cfg->s.license_url_default)
		emit(o, depth, "license smart url default");
	else
		print_str(o, cmd, cfg, dp, depth);
}

static void print_hostname(struct cfg_out *o, const struct cfg_cmd *cmd,
			   const struct sbc_config *cfg,
			   const struct sbc_dialpeer_cfg *dp, int depth)
{
	(void)cmd;
	(void)dp;
	emit(o, depth, "hostname %s", cfg->s.hostname);
}

/* Something to print under voice service voip / sip. */
static bool sip_mode_set(const struct sbc_config *cfg)
{
	const struct sbc_settings *s = &cfg->s;

	return s->n_listen > 0 || s->tls_certificate[0] != '\0' ||
	       s->tls_private_key[0] != '\0' || s->tls_ca_file[0] != '\0' ||
	       s->tls_verify != SBC_TLS_VERIFY_AUTO;
}

static void print_voip(struct cfg_out *o, const struct cfg_cmd *cmd,
		       const struct sbc_config *cfg,
		       const struct sbc_dialpeer_cfg *dp, int depth)
{
	(void)cmd;
	if (!cfg->s.border_element && !sip_mode_set(cfg) &&
	    !cfg->s.allow_sip_to_sip)
		return;
	emit(o, depth, "voice service voip");
	write_mode(o, MODE_VOIP, cfg, dp, depth + 1);
}

/* Days when the period is whole days (only `days` can give >= 24 h). */
static void print_border(struct cfg_out *o, const struct cfg_cmd *cmd,
			 const struct sbc_config *cfg,
			 const struct sbc_dialpeer_cfg *dp, int depth)
{
	unsigned h = cfg->s.periodicity_hours;

	(void)cmd;
	(void)dp;
	if (!cfg->s.border_element)
		return;
	if (h == DEF_PERIODICITY_H)
		emit(o, depth, "mode border-element");
	else if (h >= 24 && h % 24 == 0)
		emit(o, depth,
		     "mode border-element license periodicity days %u",
		     h / 24);
	else
		emit(o, depth,
		     "mode border-element license periodicity hours %u", h);
}

static void print_sip(struct cfg_out *o, const struct cfg_cmd *cmd,
		      const struct sbc_config *cfg,
		      const struct sbc_dialpeer_cfg *dp, int depth)
{
	(void)cmd;
	if (!sip_mode_set(cfg))
		return;
	emit(o, depth, "sip");
	write_mode(o, MODE_VOIP_SIP, cfg, dp, depth + 1);
}

static void print_listen(struct cfg_out *o, const struct cfg_cmd *cmd,
			 const struct sbc_config *cfg,
			 const struct sbc_dialpeer_cfg *dp, int depth)
{
	size_t i;

	(void)cmd;
	(void)dp;
	for (i = 0; i < cfg->s.n_listen; i++) {
		const struct sbc_listen *l = &cfg->s.listen[i];

		emit(o, depth, "listen %s %s %u",
		     sbc_transport_name(l->transport), l->addr, l->port);
		/* A comment: the text read back still says port 0. */
		if (l->port == 0 && l->bound_port != 0)
			emit(o, depth, "! bound to port %u", l->bound_port);
	}
}

static void print_tls_verify(struct cfg_out *o, const struct cfg_cmd *cmd,
			     const struct sbc_config *cfg,
			     const struct sbc_dialpeer_cfg *dp, int depth)
{
	(void)cmd;
	(void)dp;
	if (cfg->s.tls_verify != SBC_TLS_VERIFY_AUTO)
		emit(o, depth, "tls verify %s",
		     sbc_tls_verify_name(cfg->s.tls_verify));
}

static bool uints_default(enum cfg_mode mode, const struct sbc_config *cfg);

/* Only when a timer differs from its default, so that "" prints nothing. */
static void print_sip_ua(struct cfg_out *o, const struct cfg_cmd *cmd,
			 const struct sbc_config *cfg,
			 const struct sbc_dialpeer_cfg *dp, int depth)
{
	(void)cmd;
	if (uints_default(MODE_SIP_UA, cfg))
		return;
	emit(o, depth, "sip-ua");
	write_mode(o, MODE_SIP_UA, cfg, dp, depth + 1);
}

static void print_gateway(struct cfg_out *o, const struct cfg_cmd *cmd,
			  const struct sbc_config *cfg,
			  const struct sbc_dialpeer_cfg *dp, int depth)
{
	(void)cmd;
	(void)dp;
	if (!cfg->s.has_gateway)
		return;
	emit(o, depth, "voice-gateway ipv4:%s:%u%s", cfg->s.gateway_addr,
	     cfg->s.gateway_port,
	     cfg->s.gateway_transport == SBC_TP_TCP ? " tcp" : "");
}

static void print_dialpeers(struct cfg_out *o, const struct cfg_cmd *cmd,
			    const struct sbc_config *cfg,
			    const struct sbc_dialpeer_cfg *dp, int depth)
{
	size_t i;

	(void)cmd;
	(void)dp;
	for (i = 0; i < cfg->n_dp; i++) {
		emit_bang(o);
		emit(o, depth, "dial-peer voice %u %s", cfg->dp[i].tag,
		     dp_kind_names[cfg->dp[i].kind]);
		write_mode(o, MODE_DIALPEER, cfg, &cfg->dp[i], depth + 1);
	}
}

static void print_target(struct cfg_out *o, const struct cfg_cmd *cmd,
			 const struct sbc_config *cfg,
			 const struct sbc_dialpeer_cfg *dp, int depth)
{
	(void)cmd;
	(void)cfg;
	if (dp->has_target && dp->target_dns && dp->target_port == 0)
		emit(o, depth, "session target dns:%s", dp->target_host);
	else if (dp->has_target && dp->target_dns)
		emit(o, depth, "session target dns:%s:%u", dp->target_host,
		     dp->target_port);
	else if (dp->has_target)
		emit(o, depth, "session target ipv4:%s:%u", dp->target_addr,
		     dp->target_port);
}

static void print_transport(struct cfg_out *o, const struct cfg_cmd *cmd,
			    const struct sbc_config *cfg,
			    const struct sbc_dialpeer_cfg *dp, int depth)
{
	(void)cmd;
	(void)cfg;
	if (dp->kind == SBC_DP_VOIP && dp->transport != SBC_TP_UDP)
		emit(o, depth, "session transport %s",
		     sbc_transport_name(dp->transport));
}

static void print_lic_transport(struct cfg_out *o, const struct cfg_cmd *cmd,
				const struct sbc_config *cfg,
				const struct sbc_dialpeer_cfg *dp, int depth)
{
	(void)cmd;
	(void)dp;
	if (cfg->s.license_transport != SBC_LIC_TP_SMART)
		emit(o, depth, "license smart transport %s",
		     lic_tp_names[cfg->s.license_transport]);
}

/* Metrics are for the local Prometheus agent only: loopback. */
static int cmd_metrics(struct cfg_parser *p, const struct cfg_cmd *cmd,
		       const struct cfg_args *a)
{
	struct sbc_settings *s = &p->cfg->s;

	(void)cmd;
	if (parse_ipv4(p, a->v[0], s->metrics_addr, sizeof(s->metrics_addr)) <
		    0 ||
	    parse_port(p, a->v[1], 0, &s->metrics_port) < 0)
		return -1;
	if (strncmp(s->metrics_addr, "127.", 4) != 0)
		return fail(p, "metrics listen on a loopback address only");
	s->has_metrics = true;
	return 0;
}

static void print_metrics(struct cfg_out *o, const struct cfg_cmd *cmd,
			  const struct sbc_config *cfg,
			  const struct sbc_dialpeer_cfg *dp, int depth)
{
	(void)cmd;
	(void)dp;
	if (cfg->s.has_metrics)
		emit(o, depth, "metrics listen %s %u", cfg->s.metrics_addr,
		     cfg->s.metrics_port);
}

/*
 * `service timestamps {log|debug} datetime [msec] [localtime]
 * [show-timezone] [year]`: IOS's line stamps. Every line, debug lines
 * included, takes the `log` form (the `debug` line is kept and printed
 * back); times are UTC whether or not `localtime` is given (it is kept,
 * so the line prints back as written).
 */
static const char *const stamp_words[] = {"msec", "localtime",
					  "show-timezone", "year"};
static const unsigned stamp_bits[] = {LOG_STAMP_MSEC, SBC_STAMP_LOCALTIME,
				      LOG_STAMP_TZ, LOG_STAMP_YEAR};

static int cmd_timestamps(struct cfg_parser *p, const struct cfg_cmd *cmd,
			  const struct cfg_args *a)
{
	unsigned bits = LOG_STAMP_IOS;
	size_t i;
	int k;

	(void)cmd;
	for (i = 0; i < a->n; i++) {
		k = parse_choice(p, a->v[i], stamp_words,
				 sizeof(stamp_words) / sizeof(stamp_words[0]));
		if (k < 0)
			return -1;
		bits |= stamp_bits[k];
	}
	if (cmd->arg == 0)
		p->cfg->s.log_stamp = bits;
	else
		p->cfg->s.debug_stamp = bits;
	return 0;
}

static void print_timestamps(struct cfg_out *o, const struct cfg_cmd *cmd,
			     const struct sbc_config *cfg,
			     const struct sbc_dialpeer_cfg *dp, int depth)
{
	unsigned bits = cmd->arg == 0 ? cfg->s.log_stamp : cfg->s.debug_stamp;
	char line[128];
	size_t i, used;

	(void)dp;
	if (!(bits & LOG_STAMP_IOS))
		return;
	used = (size_t)snprintf(line, sizeof(line),
				"service timestamps %s datetime",
				cmd->arg == 0 ? "log" : "debug");
	for (i = 0; i < sizeof(stamp_words) / sizeof(stamp_words[0]); i++)
		if (bits & stamp_bits[i])
			used += (size_t)snprintf(line + used,
						 sizeof(line) - used, " %s",
						 stamp_words[i]);
	emit(o, depth, "%s", line);
}

static void print_end(struct cfg_out *o, const struct cfg_cmd *cmd,
		      const struct sbc_config *cfg,
		      const struct sbc_dialpeer_cfg *dp, int depth)
{
	(void)cmd;
	(void)dp;
	/* Comments to the parser: reading the text back gives what runs. */
	if (cfg->pending != NULL)
		fputs(cfg->pending, o->fp);
	emit(o, depth, "end");
}

/* ---- trunk commands that shape SIP: codecs, DTMF, keepalive, DNS ---- */

#define VOICE_CLASS_TAG_MAX 10000
#define KA_DEF_UP_S 60
#define KA_DEF_DOWN_S 30
#define KA_DEF_RETRY 5

static struct sbc_codec_class *find_codec_class(struct sbc_config *cfg,
						unsigned long tag)
{
	size_t i;

	for (i = 0; i < cfg->s.n_codec_class; i++)
		if (cfg->s.codec_class[i].tag == tag)
			return &cfg->s.codec_class[i];
	return NULL;
}

static struct sbc_keepalive_cfg *find_keepalive(struct sbc_config *cfg,
						unsigned long tag)
{
	size_t i;

	for (i = 0; i < cfg->s.n_keepalive; i++)
		if (cfg->s.keepalive[i].tag == tag)
			return &cfg->s.keepalive[i];
	return NULL;
}

/*
 * `voice class codec <tag>`: opens the class; a second block with the same
 * tag is refused (IOS would merge it; one block per tag keeps printing back
 * exact). The class must come before the dial-peers that use it.
 */
static int cmd_codec_class(struct cfg_parser *p, const struct cfg_cmd *cmd,
			   const struct cfg_args *a)
{
	struct sbc_settings *s = &p->cfg->s;
	unsigned long tag = 0;

	(void)cmd;
	if (parse_num(p, a->v[0], 1, VOICE_CLASS_TAG_MAX, &tag) < 0)
		return -1;
	if (find_codec_class(p->cfg, tag) != NULL)
		return fail(p, "duplicate voice class codec tag");
	if (s->n_codec_class >= SBC_CFG_MAX_CODEC_CLASSES)
		return fail(p, "too many voice class codec (max %d)",
			    SBC_CFG_MAX_CODEC_CLASSES);
	memset(&s->codec_class[s->n_codec_class], 0,
	       sizeof(s->codec_class[0]));
	s->codec_class[s->n_codec_class++].tag = (unsigned)tag;
	return 0;
}

static int parse_codec(struct cfg_parser *p, const char *name,
		       enum sbc_codec *out)
{
	*out = sbc_codec_from_name(name);
	if (*out == SBC_CODEC_NONE)
		return fail(p, "codec not supported, expected %s",
			    sbc_codec_names());
	return 0;
}

/* `codec preference <n> <name>` in a voice class codec. */
static int cmd_codec_pref(struct cfg_parser *p, const struct cfg_cmd *cmd,
			  const struct cfg_args *a)
{
	struct sbc_settings *s = &p->cfg->s;
	struct sbc_codec_class *cc = &s->codec_class[s->n_codec_class - 1];
	unsigned long n = 0;
	enum sbc_codec c;
	size_t i;

	(void)cmd;
	if (parse_num(p, a->v[0], 1, SBC_SDP_MAX_CODECS, &n) < 0 ||
	    parse_codec(p, a->v[1], &c) < 0)
		return -1;
	if (cc->pref[n - 1] != SBC_CODEC_NONE)
		return fail(p, "preference %lu already set", n);
	for (i = 0; i < SBC_SDP_MAX_CODECS; i++)
		if (cc->pref[i] == c)
			return fail(p, "codec already at preference %zu", i + 1);
	cc->pref[n - 1] = c;
	return 0;
}

/* `voice-class codec <tag>` on a voip dial-peer: the class's list, in order. */
static int cmd_dp_codec_class(struct cfg_parser *p, const struct cfg_cmd *cmd,
			      const struct cfg_args *a)
{
	struct sbc_dialpeer_cfg *dp = cur_dp(p);
	const struct sbc_codec_class *cc;
	unsigned long tag = 0;
	size_t i;

	(void)cmd;
	if (need_kind(p, SBC_DP_VOIP) < 0 ||
	    parse_num(p, a->v[0], 1, VOICE_CLASS_TAG_MAX, &tag) < 0)
		return -1;
	cc = find_codec_class(p->cfg, tag);
	if (cc == NULL)
		return fail(p, "voice class codec %lu not defined above", tag);
	dp->codec_class = (unsigned)tag;
	dp->codec = SBC_CODEC_NONE;
	dp->sdp.n_codecs = 0;
	for (i = 0; i < SBC_SDP_MAX_CODECS; i++)
		if (cc->pref[i] != SBC_CODEC_NONE)
			dp->sdp.codecs[dp->sdp.n_codecs++] = cc->pref[i];
	if (dp->sdp.n_codecs == 0)
		return fail(p, "voice class codec %lu has no codec", tag);
	return 0;
}

/* `codec <name>` on a voip dial-peer: that codec only. */
static int cmd_dp_codec(struct cfg_parser *p, const struct cfg_cmd *cmd,
			const struct cfg_args *a)
{
	struct sbc_dialpeer_cfg *dp = cur_dp(p);
	enum sbc_codec c;

	(void)cmd;
	if (need_kind(p, SBC_DP_VOIP) < 0 || parse_codec(p, a->v[0], &c) < 0)
		return -1;
	dp->codec = c;
	dp->codec_class = 0;
	dp->sdp.codecs[0] = c;
	dp->sdp.n_codecs = 1;
	return 0;
}

static int cmd_dtmf_relay(struct cfg_parser *p, const struct cfg_cmd *cmd,
			  const struct cfg_args *a)
{
	(void)cmd;
	if (need_kind(p, SBC_DP_VOIP) < 0)
		return -1;
	if (strcmp(a->v[0], "rtp-nte") != 0)
		return fail(p, "dtmf-relay %s not supported (only rtp-nte)",
			    a->v[0]);
	cur_dp(p)->dtmf_nte = true;
	cur_dp(p)->sdp.add_nte = true;
	return 0;
}

static int cmd_session_protocol(struct cfg_parser *p,
				const struct cfg_cmd *cmd,
				const struct cfg_args *a)
{
	(void)cmd;
	if (need_kind(p, SBC_DP_VOIP) < 0)
		return -1;
	if (strcmp(a->v[0], "sipv2") != 0)
		return fail(p, "session protocol %s not supported (only "
			       "sipv2)",
			    a->v[0]);
	cur_dp(p)->proto_sipv2 = true;
	return 0;
}

/* `allow-connections sip to sip`: the only connection type of an SBC. */
static int cmd_allow_connections(struct cfg_parser *p,
				 const struct cfg_cmd *cmd,
				 const struct cfg_args *a)
{
	(void)cmd;
	if (strcmp(a->v[1], "to") != 0)
		return fail(p, "expected allow-connections <from> to <to>");
	if (strcmp(a->v[0], "sip") != 0 || strcmp(a->v[2], "sip") != 0)
		return fail(p, "allow-connections %s to %s not supported "
			       "(only sip to sip)",
			    a->v[0], a->v[2]);
	p->cfg->s.allow_sip_to_sip = true;
	return 0;
}

/* `voice class sip-options-keepalive <tag>`: opens the profile. */
static int cmd_keepalive(struct cfg_parser *p, const struct cfg_cmd *cmd,
			 const struct cfg_args *a)
{
	struct sbc_settings *s = &p->cfg->s;
	struct sbc_keepalive_cfg *k;
	unsigned long tag = 0;

	(void)cmd;
	if (parse_num(p, a->v[0], 1, VOICE_CLASS_TAG_MAX, &tag) < 0)
		return -1;
	if (find_keepalive(p->cfg, tag) != NULL)
		return fail(p, "duplicate voice class sip-options-keepalive "
			       "tag");
	if (s->n_keepalive >= SBC_CFG_MAX_KEEPALIVES)
		return fail(p, "too many voice class sip-options-keepalive "
			       "(max %d)",
			    SBC_CFG_MAX_KEEPALIVES);
	k = &s->keepalive[s->n_keepalive++];
	k->tag = (unsigned)tag;
	k->up_s = KA_DEF_UP_S;
	k->down_s = KA_DEF_DOWN_S;
	k->retry = KA_DEF_RETRY;
	return 0;
}

/* up-interval, down-interval, retry (cmd->arg 0, 1, 2) in a profile. */
static int cmd_ka_value(struct cfg_parser *p, const struct cfg_cmd *cmd,
			const struct cfg_args *a)
{
	struct sbc_settings *s = &p->cfg->s;
	struct sbc_keepalive_cfg *k = &s->keepalive[s->n_keepalive - 1];
	unsigned long v = 0;

	if (parse_num(p, a->v[0], cmd->lo, cmd->hi, &v) < 0)
		return -1;
	if (cmd->arg == 0)
		k->up_s = (unsigned)v;
	else if (cmd->arg == 1)
		k->down_s = (unsigned)v;
	else
		k->retry = (unsigned)v;
	return 0;
}

static int cmd_dp_keepalive(struct cfg_parser *p, const struct cfg_cmd *cmd,
			    const struct cfg_args *a)
{
	struct sbc_dialpeer_cfg *dp = cur_dp(p);
	const struct sbc_keepalive_cfg *k;
	unsigned long tag = 0;

	(void)cmd;
	if (need_kind(p, SBC_DP_VOIP) < 0 ||
	    parse_num(p, a->v[0], 1, VOICE_CLASS_TAG_MAX, &tag) < 0)
		return -1;
	k = find_keepalive(p->cfg, tag);
	if (k == NULL)
		return fail(p, "voice class sip-options-keepalive %lu not "
			       "defined above",
			    tag);
	dp->ka_profile = (unsigned)tag;
	dp->ka = *k;
	return 0;
}

/* `ip name-server ADDR [ADDR...]`: up to six, as IOS; a line adds to them. */
static int cmd_name_server(struct cfg_parser *p, const struct cfg_cmd *cmd,
			   const struct cfg_args *a)
{
	struct sbc_settings *s = &p->cfg->s;
	char addr[64];
	size_t i, j;

	(void)cmd;
	for (i = 0; i < a->n; i++) {
		if (parse_ipv4(p, a->v[i], addr, sizeof(addr)) < 0)
			return -1;
		for (j = 0; j < s->n_name_server; j++)
			if (strcmp(s->name_server[j], addr) == 0)
				return fail(p, "duplicate name server");
		if (s->n_name_server >= SBC_CFG_MAX_NAME_SERVERS)
			return fail(p, "too many name servers (max %d)",
				    SBC_CFG_MAX_NAME_SERVERS);
		memcpy(s->name_server[s->n_name_server++], addr,
		       strlen(addr) + 1);
	}
	return 0;
}

/*
 * `session target dns:NAME[:PORT]`: a host name of letters, digits and
 * hyphens in dot-separated labels of 1-63 (RFC 1123), at most 253 in all,
 * not all-numeric (that would be an address). Stored lower-case.
 */
static int cmd_target_dns(struct cfg_parser *p, const char *s)
{
	struct sbc_dialpeer_cfg *dp = cur_dp(p);
	char host[SBC_CFG_MAX_HOSTNAME + 1];
	const char *colon = strchr(s, ':');
	size_t len = colon ? (size_t)(colon - s) : strlen(s), i, label = 0;
	bool alpha = false;
	unsigned port = 0;

	if (len == 0 || len > SBC_CFG_MAX_HOSTNAME - 1)
		return fail(p, "invalid target, expected dns:NAME[:PORT]");
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		host[i] = c;
		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return fail(p, "invalid host name");
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-') ||
		    (c == '-' && label == 0) || ++label > 63)
			return fail(p, "invalid host name");
		alpha = alpha || (c < '0' || c > '9');
	}
	if (label == 0 || s[len - 1] == '-' || !alpha)
		return fail(p, "invalid host name");
	host[len] = '\0';
	if (colon != NULL && parse_port(p, colon + 1, 1, &port) < 0)
		return -1;
	memcpy(dp->target_host, host, len + 1);
	dp->target_port = port;
	dp->target_dns = true;
	dp->target_addr[0] = '\0';
	dp->has_target = true;
	return 0;
}

static int cmd_name_server_port(struct cfg_parser *p,
				const struct cfg_cmd *cmd,
				const struct cfg_args *a)
{
	(void)cmd;
	return parse_port(p, a->v[0], 1, &p->cfg->s.name_server_port);
}

static void print_name_server_port(struct cfg_out *o,
				   const struct cfg_cmd *cmd,
				   const struct sbc_config *cfg,
				   const struct sbc_dialpeer_cfg *dp, int depth)
{
	(void)cmd;
	(void)dp;
	if (cfg->s.name_server_port != 53)
		emit(o, depth, "ip name-server port %u",
		     cfg->s.name_server_port);
}

static void print_codec_classes(struct cfg_out *o, const struct cfg_cmd *cmd,
				const struct sbc_config *cfg,
				const struct sbc_dialpeer_cfg *dp, int depth)
{
	size_t i, j;

	(void)cmd;
	(void)dp;
	for (i = 0; i < cfg->s.n_codec_class; i++) {
		const struct sbc_codec_class *cc = &cfg->s.codec_class[i];

		emit_bang(o);
		emit(o, depth, "voice class codec %u", cc->tag);
		for (j = 0; j < SBC_SDP_MAX_CODECS; j++)
			if (cc->pref[j] != SBC_CODEC_NONE)
				emit(o, depth + 1, "codec preference %zu %s",
				     j + 1, sbc_codec_name(cc->pref[j]));
	}
}

/* Values at their defaults are not printed, as IOS. */
static void print_keepalives(struct cfg_out *o, const struct cfg_cmd *cmd,
			     const struct sbc_config *cfg,
			     const struct sbc_dialpeer_cfg *dp, int depth)
{
	size_t i;

	(void)cmd;
	(void)dp;
	for (i = 0; i < cfg->s.n_keepalive; i++) {
		const struct sbc_keepalive_cfg *k = &cfg->s.keepalive[i];

		emit_bang(o);
		emit(o, depth, "voice class sip-options-keepalive %u", k->tag);
		if (k->down_s != KA_DEF_DOWN_S)
			emit(o, depth + 1, "down-interval %u", k->down_s);
		if (k->up_s != KA_DEF_UP_S)
			emit(o, depth + 1, "up-interval %u", k->up_s);
		if (k->retry != KA_DEF_RETRY)
			emit(o, depth + 1, "retry %u", k->retry);
	}
}

static void print_name_servers(struct cfg_out *o, const struct cfg_cmd *cmd,
			       const struct sbc_config *cfg,
			       const struct sbc_dialpeer_cfg *dp, int depth)
{
	char line[SBC_CFG_MAX_LINE];
	size_t i, used;

	(void)cmd;
	(void)dp;
	if (cfg->s.n_name_server == 0)
		return;
	used = (size_t)snprintf(line, sizeof(line), "ip name-server");
	for (i = 0; i < cfg->s.n_name_server; i++)
		used += (size_t)snprintf(line + used, sizeof(line) - used,
					 " %s", cfg->s.name_server[i]);
	emit(o, depth, "%s", line);
}

static void print_dp_codec(struct cfg_out *o, const struct cfg_cmd *cmd,
			   const struct sbc_config *cfg,
			   const struct sbc_dialpeer_cfg *dp, int depth)
{
	(void)cmd;
	(void)cfg;
	if (dp->codec_class != 0)
		emit(o, depth, "voice-class codec %u", dp->codec_class);
	else if (dp->codec != SBC_CODEC_NONE)
		emit(o, depth, "codec %s", sbc_codec_name(dp->codec));
}

static void print_dp_keepalive(struct cfg_out *o, const struct cfg_cmd *cmd,
			       const struct sbc_config *cfg,
			       const struct sbc_dialpeer_cfg *dp, int depth)
{
	(void)cmd;
	(void)cfg;
	if (dp->ka_profile != 0)
		emit(o, depth, "voice-class sip options-keepalive profile %u",
		     dp->ka_profile);
}

/* ---- the command tables: one per mode, terminated by an empty row ---- */

#define SET(f) .off = offsetof(struct sbc_settings, f)
#define DPF(f) .off = offsetof(struct sbc_dialpeer_cfg, f), .in_dp = true

static const struct cfg_cmd top_cmds[] = {
	{.kw = {"hostname"}, 1, 1, .parse = cmd_hostname,
	 .print = print_hostname, .group = 0},
	{.kw = {"voice", "service", "voip"}, 0, 0, .opens = MODE_VOIP,
	 .print = print_voip, .group = 1},
	{.kw = {"sip-ua"}, 0, 0, .opens = MODE_SIP_UA, .print = print_sip_ua,
	 .group = 2},
	{.kw = {"call", "threshold", "global", "max-calls"}, 1, 1,
	 .parse = cmd_uint, .print = print_uint, SET(max_calls), .lo = 1,
	 .hi = 1000000, .def = 0, .group = 3},
	{.kw = {"call", "max-duration"}, 1, 1, .parse = cmd_uint,
	 .print = print_uint, SET(max_duration_s), .lo = 60, .hi = 604800,
	 .def = 14400, .group = 3},
	{.kw = {"call", "shutdown-grace"}, 1, 1, .parse = cmd_uint,
	 .print = print_uint, SET(shutdown_grace_s), .lo = 0, .hi = 3600,
	 .def = 30, .group = 3},
	{.kw = {"voice-gateway"}, 1, 2, .parse = cmd_gateway,
	 .print = print_gateway, .group = 4},
	{.kw = {"ip", "name-server"}, 1, SBC_CFG_MAX_NAME_SERVERS,
	 .parse = cmd_name_server, .print = print_name_servers, .group = 9},
	{.kw = {"ip", "name-server", "port"}, 1, 1,
	 .parse = cmd_name_server_port, .print = print_name_server_port,
	 .group = 9},
	{.kw = {"voice", "class", "codec"}, 1, 1, .opens = MODE_CODEC_CLASS,
	 .parse = cmd_codec_class, .print = print_codec_classes, .group = 10},
	{.kw = {"voice", "class", "sip-options-keepalive"}, 1, 1,
	 .opens = MODE_KEEPALIVE, .parse = cmd_keepalive,
	 .print = print_keepalives, .group = 11},
	{.kw = {"dial-peer", "voice"}, 2, 2, .opens = MODE_DIALPEER,
	 .parse = cmd_dialpeer, .print = print_dialpeers, .group = 5},
	{.kw = {"license", "release"}, 1, 1, .parse = cmd_release,
	 .print = print_str, SET(license_release), .group = 6},
	{.kw = {"license", "smart", "transport"}, 1, 1,
	 .parse = cmd_lic_transport, .print = print_lic_transport,
	 .group = 6},
	{.kw = {"license", "smart", "url"}, 1, 1, .parse = cmd_url,
	 .print = print_url, SET(license_url), .group = 6},
	{.kw = {"license", "smart", "proxy", "address"}, 1, 1,
	 .parse = cmd_proxy_host, .print = print_str,
	 SET(license_proxy_host), .group = 6},
	{.kw = {"license", "smart", "proxy", "port"}, 1, 1, .parse = cmd_uint,
	 .print = print_uint, SET(license_proxy_port), .lo = 1, .hi = 65535,
	 .def = 0, .group = 6},
	{.kw = {"license", "smart", "usage", "interval"}, 1, 1,
	 .parse = cmd_uint, .print = print_uint,
	 SET(license_usage_interval_days), .lo = 1, .hi = 3650, .def = 30,
	 .group = 6}, /* IOS XE's default reporting push interval */
	{.kw = {"license", "smart", "ca-file"}, 1, 1, .parse = cmd_ca_file,
	 .print = print_str, SET(license_ca_file), .group = 6},
	{.kw = {"license", "smart", "privacy", "hostname"}, 0, 0,
	 .parse = cmd_flag, .print = print_flag,
	 SET(license_privacy_hostname),
	 .line = "license smart privacy hostname", .group = 6},
	{.kw = {"logging", "syslog"}, 0, 0, .parse = cmd_flag,
	 .print = print_flag, SET(logging_syslog), .line = "logging syslog",
	 .group = 8},
	{.kw = {"service", "timestamps", "log", "datetime"}, 0, 4,
	 .parse = cmd_timestamps, .print = print_timestamps, .group = 8},
	{.kw = {"service", "timestamps", "debug", "datetime"}, 0, 4,
	 .parse = cmd_timestamps, .print = print_timestamps, .arg = 1,
	 .group = 8},
	{.kw = {"metrics", "listen"}, 2, 2, .parse = cmd_metrics,
	 .print = print_metrics, .group = 8},
	{.kw = {"end"}, 0, 0, .parse = cmd_end, .print = print_end,
	 .group = 7},
	{.kw = {NULL}},
};

static const struct cfg_cmd voip_cmds[] = {
	{.kw = {"allow-connections"}, 3, 3, .parse = cmd_allow_connections,
	 .print = print_flag, SET(allow_sip_to_sip),
	 .line = "allow-connections sip to sip"},
	{.kw = {"mode", "border-element"}, 0, 0, .parse = cmd_border,
	 .print = print_border, .arg = 0},
	{.kw = {"mode", "border-element", "license", "periodicity", "hours"},
	 1, 1, .parse = cmd_border, .arg = 1},
	{.kw = {"mode", "border-element", "license", "periodicity", "days"},
	 1, 1, .parse = cmd_border, .arg = 2},
	{.kw = {"sip"}, 0, 0, .opens = MODE_VOIP_SIP, .print = print_sip},
	{.kw = {NULL}},
};

static const struct cfg_cmd voip_sip_cmds[] = {
	{.kw = {"listen"}, 3, 3, .parse = cmd_listen, .print = print_listen},
	{.kw = {"tls", "certificate"}, 1, 1, .parse = cmd_tls_path,
	 .print = print_str, SET(tls_certificate), .arg = TLS_SRC_CERT},
	{.kw = {"tls", "private-key"}, 1, 1, .parse = cmd_tls_path,
	 .print = print_str, SET(tls_private_key), .arg = TLS_SRC_KEY},
	{.kw = {"tls", "ca-file"}, 1, 1, .parse = cmd_tls_path,
	 .print = print_str, SET(tls_ca_file), .arg = TLS_SRC_CA},
	{.kw = {"tls", "verify"}, 1, 1, .parse = cmd_tls_verify,
	 .print = print_tls_verify},
	{.kw = {NULL}},
};

static const struct cfg_cmd sip_ua_cmds[] = {
	{.kw = {"timers", "expires"}, 1, 1, .parse = cmd_uint,
	 .print = print_uint, SET(expires_ms), .lo = 1000, .hi = 300000,
	 .def = 180000},
	{.kw = {NULL}},
};

static const struct cfg_cmd dialpeer_cmds[] = {
	{.kw = {"description"}, 1, CFG_MAX_TOKENS, .parse = cmd_description,
	 .print = print_str, DPF(description)},
	{.kw = {"incoming", "called-number"}, 1, 1, .parse = cmd_pattern,
	 .print = print_str, DPF(incoming_called)},
	{.kw = {"destination-pattern"}, 1, 1, .parse = cmd_pattern,
	 .print = print_str, DPF(destination)},
	{.kw = {"session", "target"}, 1, 1, .parse = cmd_target,
	 .print = print_target},
	{.kw = {"session", "transport"}, 1, 1, .parse = cmd_transport,
	 .print = print_transport},
	{.kw = {"preference"}, 1, 1, .parse = cmd_uint, .print = print_uint,
	 DPF(preference), .lo = 0, .hi = 10, .def = 0},
	{.kw = {"port"}, 1, 1, .parse = cmd_port, .print = print_str,
	 DPF(port)},
	{.kw = {"session", "protocol"}, 1, 1, .parse = cmd_session_protocol,
	 .print = print_flag, DPF(proto_sipv2),
	 .line = "session protocol sipv2"},
	{.kw = {"voice-class", "codec"}, 1, 1, .parse = cmd_dp_codec_class,
	 .print = print_dp_codec},
	{.kw = {"codec"}, 1, 1, .parse = cmd_dp_codec},
	{.kw = {"dtmf-relay"}, 1, 1, .parse = cmd_dtmf_relay,
	 .print = print_flag, DPF(dtmf_nte), .line = "dtmf-relay rtp-nte"},
	{.kw = {"no", "vad"}, 0, 0, .parse = cmd_flag, .print = print_flag,
	 DPF(no_vad), .line = "no vad"},
	{.kw = {"voice-class", "sip", "options-keepalive", "profile"}, 1, 1,
	 .parse = cmd_dp_keepalive, .print = print_dp_keepalive},
	{.kw = {NULL}},
};

static const struct cfg_cmd codec_class_cmds[] = {
	{.kw = {"codec", "preference"}, 2, 2, .parse = cmd_codec_pref},
	{.kw = {NULL}},
};

/* Ranges start at 1 s (IOS: 5) so that tests can use short intervals. */
static const struct cfg_cmd keepalive_cmds[] = {
	{.kw = {"up-interval"}, 1, 1, .parse = cmd_ka_value, .lo = 1,
	 .hi = 1200, .arg = 0},
	{.kw = {"down-interval"}, 1, 1, .parse = cmd_ka_value, .lo = 1,
	 .hi = 1200, .arg = 1},
	{.kw = {"retry"}, 1, 1, .parse = cmd_ka_value, .lo = 1, .hi = 10,
	 .arg = 2},
	{.kw = {NULL}},
};

#undef SET
#undef DPF

static const struct cfg_cmd *const mode_cmds[MODE_COUNT] = {
	[MODE_TOP] = top_cmds,
	[MODE_VOIP] = voip_cmds,
	[MODE_VOIP_SIP] = voip_sip_cmds,
	[MODE_SIP_UA] = sip_ua_cmds,
	[MODE_DIALPEER] = dialpeer_cmds,
	[MODE_CODEC_CLASS] = codec_class_cmds,
	[MODE_KEEPALIVE] = keepalive_cmds,
};

static void write_mode(struct cfg_out *o, enum cfg_mode mode,
		       const struct sbc_config *cfg,
		       const struct sbc_dialpeer_cfg *dp, int depth)
{
	const struct cfg_cmd *cmd;

	for (cmd = mode_cmds[mode]; cmd->kw[0] != NULL; cmd++) {
		if (mode == MODE_TOP && cmd != mode_cmds[mode] &&
		    cmd->group != cmd[-1].group)
			emit_bang(o);
		if (cmd->print != NULL)
			cmd->print(o, cmd, cfg, dp, depth);
	}
}

static bool uints_default(enum cfg_mode mode, const struct sbc_config *cfg)
{
	const struct cfg_cmd *cmd;

	for (cmd = mode_cmds[mode]; cmd->kw[0] != NULL; cmd++)
		if (cmd->parse == cmd_uint && !cmd->in_dp &&
		    *(const unsigned *)cfield(cmd, cfg, NULL) != cmd->def)
			return false;
	return true;
}

/*
 * Numeric defaults live in the table rows; strings and enums that are not
 * zero are set here.
 */
static void apply_defaults(void *base, enum cfg_mode mode)
{
	const struct cfg_cmd *cmd;

	for (cmd = mode_cmds[mode]; cmd->kw[0] != NULL; cmd++)
		if (cmd->parse == cmd_uint)
			*(unsigned *)((char *)base + cmd->off) =
				(unsigned)cmd->def;
}

static struct sbc_config *config_new(void)
{
	struct sbc_config *cfg = calloc(1, sizeof(*cfg));
	struct sbc_settings *s;

	if (cfg == NULL)
		return NULL;
	s = &cfg->s;
	snprintf(s->hostname, sizeof(s->hostname), "%s", DEF_HOSTNAME);
	s->periodicity_hours = DEF_PERIODICITY_H;
	s->license_transport = SBC_LIC_TP_SMART;
	s->gateway_transport = SBC_TP_UDP;
	s->name_server_port = 53;
	apply_defaults(s, MODE_TOP);
	apply_defaults(s, MODE_SIP_UA);
	return cfg;
}

/* ---- lookup ---- */

enum cfg_match { MATCH_OK, MATCH_INCOMPLETE, MATCH_NONE };

/*
 * Find the row of `mode` whose keywords start the line, the longest if
 * several do. When the words are only the beginning of a longer command
 * (e.g. "voice service") and no row takes them as they are, report that.
 */
static enum cfg_match lookup(enum cfg_mode mode, char **tok, size_t ntok,
			     const struct cfg_cmd **found, size_t *nkw_out)
{
	const struct cfg_cmd *cmd, *best = NULL;
	size_t k, best_k = 0;
	bool incomplete = false;

	for (cmd = mode_cmds[mode]; cmd->kw[0] != NULL; cmd++) {
		for (k = 0; k < CFG_MAX_KW && cmd->kw[k] != NULL; k++)
			if (k >= ntok || strcmp(tok[k], cmd->kw[k]) != 0)
				break;
		if (k == CFG_MAX_KW || cmd->kw[k] == NULL) {
			if (best == NULL || k > best_k) {
				best = cmd;
				best_k = k;
			}
		} else if (k == ntok) {
			incomplete = true;
		}
	}
	*found = best;
	*nkw_out = best_k;
	if (best != NULL && (ntok - best_k <= best->max_args || !incomplete))
		return MATCH_OK;
	return incomplete ? MATCH_INCOMPLETE : MATCH_NONE;
}

/* ---- the line reader: a FILE or an in-memory text ---- */

struct cfg_src {
	FILE *fp;
	const char *text;
	size_t pos;
};

static int src_getc(struct cfg_src *src)
{
	if (src->fp != NULL)
		return getc(src->fp);
	if (src->text[src->pos] == '\0')
		return EOF;
	return (unsigned char)src->text[src->pos++];
}

/*
 * Read one line into buf (SBC_CFG_MAX_LINE + 2 bytes) without its newline
 * or a CRLF's CR. An over-long line is flagged and reading stops there: it
 * ends the parse anyway, and a file without newlines (/dev/zero) must not
 * keep us reading.
 * Returns 1 for a line, 0 at the end of input, -1 on a read error.
 */
static int read_line(struct cfg_src *src, char *buf, bool *too_long,
		     bool *bad_char, bool *at_end)
{
	const size_t keep = SBC_CFG_MAX_LINE + 1; /* room for a CR */
	size_t len = 0, i;
	bool any = false;
	int c;

	/* at_end: the newline (or the end of the input) was read, so the
	 * next call starts on the next line. */
	*at_end = true;
	while (len <= keep && (c = src_getc(src)) != EOF) {
		any = true;
		if (c == '\n')
			break;
		if (len == keep)
			*at_end = false; /* stopped inside an over-long line */
		if (len < keep)
			buf[len] = (char)c;
		len++;
	}
	if (src->fp != NULL && ferror(src->fp))
		return -1;
	if (!any)
		return 0;
	if (len > 0 && len <= keep && buf[len - 1] == '\r')
		len--;
	*too_long = len > SBC_CFG_MAX_LINE;
	if (len > keep)
		len = keep;
	buf[len] = '\0';
	*bad_char = false;
	for (i = 0; i < len; i++) {
		unsigned char u = (unsigned char)buf[i];

		if ((u < 0x20 && u != '\t') || u == 0x7f)
			*bad_char = true;
	}
	return 1;
}

/* The offending text for an error: trimmed, printable, not too long. */
static void quote_line(const char *line, bool too_long, char *out,
		       size_t outlen)
{
	size_t n, i;

	while (is_blank(*line))
		line++;
	n = strlen(line);
	while (n > 0 && is_blank(line[n - 1]))
		n--;
	if (too_long && n > CFG_SHOW_LONG)
		n = CFG_SHOW_LONG;
	if (n >= outlen)
		n = outlen - 1;
	for (i = 0; i < n; i++) {
		unsigned char u = (unsigned char)line[i];

		out[i] = (u < 0x20 || u == 0x7f) ? '?' : line[i];
	}
	out[n] = '\0';
	if (too_long && outlen > n + 3)
		strcpy(out + n, "...");
}

static void errors_add(struct cfg_errors *e, const char *msg)
{
	char last[320];

	if (e->full)
		return;
	if (e->n == SBC_CFG_MAX_ERRORS) {
		e->full = true;
		err_set(last, sizeof(last),
			"%s: too many errors (max %d), stopping", e->name,
			SBC_CFG_MAX_ERRORS);
		msg = last;
	} else if (e->n++ == 0) {
		err_set(e->first, e->firstlen, "%s", msg);
	}
	if (e->fn != NULL)
		e->fn(e->arg, msg);
}

/* "<name>:<line>: <reason>: '<text>'" to the error sink. */
static void report(struct cfg_errors *e, unsigned line, const char *reason,
		   const char *text, bool too_long)
{
	char quoted[SBC_CFG_MAX_LINE + 1];
	char msg[sizeof(quoted) + 512];

	quote_line(text, too_long, quoted, sizeof(quoted));
	err_set(msg, sizeof(msg), "%s:%u: %s: '%s'", e->name, line, reason,
		quoted);
	errors_add(e, msg);
}

/*
 * IOS commands a CUBE configuration often holds that sbcd does not take:
 * the reason names what is not supported, so that an engineer bringing a
 * CUBE file knows what to change (docs/configuration.md, "Refused CUBE
 * commands"). Matched on the first words, in any mode; the first row that
 * fits wins. Anything else is an unknown command.
 */
static const struct {
	const char *kw[4];
	const char *why;
} refused_rows[] = {
    {{"interface"},
     "not supported: sbcd has no interfaces; it binds the `listen` "
     "addresses under voice service voip / sip"},
    {{"bind"}, "not supported: sbcd binds the `listen` addresses"},
    {{"voice-class", "sip", "bind"},
     "not supported: sbcd binds the `listen` addresses"},
    {{"ip", "address", "trusted"},
     "not supported: no trusted-address list (toll-fraud check); limit "
     "who reaches the listen addresses with a firewall"},
    {{"ip", "http"},
     "not supported: the licensing client uses the host's routing; see "
     "license smart url / proxy"},
    {{"ip", "route"}, "not supported: routing is the host's"},
    {{"media"},
     "not supported yet: media is not anchored, SDP is relayed as "
     "received"},
    {{"fax"},
     "not supported: fax relay (T.38 offers are relayed like any SDP)"},
    {{"modem"}, "not supported: modem passthrough"},
    {{"srtp"}, "not supported: SRTP"},
    {{"voice", "class", "srtp-crypto"}, "not supported: SRTP"},
    {{"credentials"}, "not supported yet: trunk registration"},
    {{"registrar"}, "not supported yet: trunk registration"},
    {{"authentication"}, "not supported yet: digest authentication"},
    {{"voice", "translation-rule"}, "not supported yet: number translation"},
    {{"voice", "translation-profile"},
     "not supported yet: number translation"},
    {{"translation-profile"}, "not supported yet: number translation"},
    {{"voice", "class", "e164-pattern-map"},
     "not supported: give the numbers as destination-pattern on the "
     "dial-peer"},
    {{"destination", "e164-pattern-map"},
     "not supported: give the numbers as destination-pattern"},
    {{"voice", "class", "uri"},
     "not supported: route by destination-pattern and incoming "
     "called-number"},
    {{"incoming", "uri"},
     "not supported: match by incoming called-number"},
    {{"voice", "class", "tenant"}, "not supported: tenants"},
    {{"voice-class", "sip", "tenant"}, "not supported: tenants"},
    {{"voice", "class", "sip-profiles"},
     "not supported: SIP profiles (header rewriting)"},
    {{"voice-class", "sip", "profiles"},
     "not supported: SIP profiles (header rewriting)"},
    {{"voice", "class", "server-group"},
     "not supported: server groups; use dial-peers with preference"},
    {{"session", "server-group"},
     "not supported: server groups; use dial-peers with preference"},
    {{"voice-class", "sip", "early-offer"},
     "not supported: the caller's offer is relayed as it comes (no "
     "delayed-offer to early-offer conversion)"},
    {{"early-offer"},
     "not supported: the caller's offer is relayed as it comes"},
    {{"midcall-signaling"},
     "not supported: mid-call signalling is always passed through"},
    {{"header-passing"},
     "not supported: headers are not passed between the legs"},
    {{"line"}, "not supported: sbcctl is the only management interface"},
};

/* The reason an unknown line gets: a refused_rows row's, or "unknown
 * command". */
static const char *refusal(char *const *tok, size_t ntok)
{
	size_t r, k;

	for (r = 0; r < sizeof(refused_rows) / sizeof(refused_rows[0]); r++) {
		for (k = 0; k < 4 && refused_rows[r].kw[k] != NULL; k++)
			if (k >= ntok || strcmp(tok[k], refused_rows[r].kw[k]))
				break;
		if (k == 4 || refused_rows[r].kw[k] == NULL)
			return refused_rows[r].why;
	}
	return "unknown command";
}

/*
 * Handle one line (already length- and character-checked): find its mode
 * from the indentation, its row from the words, run the handler and open
 * the row's sub-mode.
 */
static int parse_line(struct cfg_parser *p, const char *line)
{
	char raw[SBC_CFG_MAX_LINE + 1];
	char buf[SBC_CFG_MAX_LINE + 1];
	char *tok[CFG_MAX_TOKENS + 1];
	size_t off[CFG_MAX_TOKENS + 1];
	const struct cfg_cmd *cmd;
	struct cfg_frame *f;
	struct cfg_args a;
	size_t ntok = 0, nkw, end;
	int indent = 0, m;
	char *s;

	while (is_blank(line[indent]))
		indent++;
	if (line[indent] == '\0' || line[indent] == '!')
		return 0;
	/* A tab's width is anyone's guess, so it cannot place a line. */
	if (memchr(line, '\t', (size_t)indent) != NULL)
		return fail(p, "tab in indentation");

	while (p->depth > 1 && p->stack[p->depth - 1].header_indent >= indent)
		p->depth--;
	f = &p->stack[p->depth - 1];
	if (f->mode == MODE_SKIP)
		return 0;
	if (f->child_indent < 0)
		f->child_indent = indent;
	else if (f->child_indent != indent)
		return fail(p, "bad indentation");

	/*
	 * Split a copy into words; keep another copy intact so that
	 * `description` can take the rest of the line as written.
	 */
	end = strlen(line);
	while (end > 0 && is_blank(line[end - 1]))
		end--;
	memcpy(raw, line, end);
	raw[end] = '\0';
	memcpy(buf, raw, end + 1);
	for (s = buf + indent; *s != '\0' && ntok < CFG_MAX_TOKENS;) {
		while (is_blank(*s))
			*s++ = '\0';
		if (*s == '\0')
			break;
		off[ntok] = (size_t)(s - buf);
		tok[ntok++] = s;
		while (*s != '\0' && !is_blank(*s))
			s++;
	}
	tok[ntok] = NULL;

	switch (lookup(f->mode, tok, ntok, &cmd, &nkw)) {
	case MATCH_INCOMPLETE:
		return fail(p, "incomplete command");
	case MATCH_NONE:
		for (m = MODE_TOP; m < MODE_COUNT; m++)
			if (m != (int)f->mode &&
			    lookup((enum cfg_mode)m, tok, ntok, &cmd, &nkw) !=
				    MATCH_NONE)
				break;
		if (m < MODE_COUNT)
			return fail(p, "command not valid in this mode");
		return fail(p, "%s", refusal(tok, ntok));
	case MATCH_OK:
		break;
	}
	a.v = tok + nkw;
	a.n = ntok - nkw;
	a.rest = a.n > 0 ? raw + off[nkw] : "";
	if (a.n < cmd->min_args)
		return fail(p, "missing argument");
	if (a.n > cmd->max_args)
		return fail(p, "unexpected argument");
	if (cmd->parse != NULL && cmd->parse(p, cmd, &a) < 0)
		return -1;
	if (cmd->opens != MODE_NONE) {
		f = &p->stack[p->depth++];
		f->mode = cmd->opens;
		f->header_indent = indent;
		f->child_indent = -1;
	}
	return 0;
}

/*
 * Checks that need the whole file (a voice-gateway may come after the pots
 * dial-peers that need it). Reported at the dial-peer's header line.
 */
static void check_dialpeers(struct cfg_parser *p)
{
	const struct sbc_config *cfg = p->cfg;
	size_t i;

	for (i = 0; i < cfg->n_dp; i++) {
		const struct sbc_dialpeer_cfg *dp = &cfg->dp[i];
		const char *text = p->dp_header[i] ? p->dp_header[i] : "";

		if (dp->kind == SBC_DP_VOIP && dp->destination[0] != '\0' &&
		    !dp->has_target)
			report(p->errs, dp->line,
			       "destination-pattern without session target",
			       text, false);
		if (dp->kind == SBC_DP_POTS && dp->destination[0] != '\0' &&
		    !cfg->s.has_gateway)
			report(p->errs, dp->line,
			       "pots dial-peer needs a voice-gateway", text,
			       false);
	}
}

static void report_where(struct cfg_parser *p, enum tls_src src)
{
	const struct cfg_where *w = &p->cfg->tls_where[src];

	report(p->errs, w->line, p->reason, w->text, false);
}

/*
 * TLS settings that need the whole file: certificate and key come as a
 * pair, a verify policy that checks certificates needs a CA file, and TLS
 * in use (a `listen tls`, a dial-peer with `session transport tls`) needs
 * the pair. Each problem is reported at the line it is about.
 */
static void check_tls(struct cfg_parser *p)
{
	const struct sbc_config *cfg = p->cfg;
	const struct sbc_settings *s = &cfg->s;
	bool cert = s->tls_certificate[0] != '\0';
	bool key = s->tls_private_key[0] != '\0';
	size_t i;

	if (cert && !key) {
		fail(p, "tls certificate without tls private-key");
		report_where(p, TLS_SRC_CERT);
	} else if (key && !cert) {
		fail(p, "tls private-key without tls certificate");
		report_where(p, TLS_SRC_KEY);
	}
	if ((s->tls_verify == SBC_TLS_VERIFY_PEER ||
	     s->tls_verify == SBC_TLS_VERIFY_SERVER) &&
	    s->tls_ca_file[0] == '\0') {
		fail(p, "tls verify %s needs a tls ca-file",
		     sbc_tls_verify_name(s->tls_verify));
		report_where(p, TLS_SRC_VERIFY);
	}
	if (cert || key)
		return;
	if (cfg->tls_where[TLS_SRC_LISTEN].line != 0) {
		fail(p, "TLS needs tls certificate and tls private-key");
		report_where(p, TLS_SRC_LISTEN);
	}
	for (i = 0; i < cfg->n_dp; i++)
		if (cfg->dp[i].kind == SBC_DP_VOIP &&
		    cfg->dp[i].transport == SBC_TP_TLS)
			report(p->errs, cfg->dp[i].line,
			       "TLS needs tls certificate and tls private-key",
			       p->dp_header[i] ? p->dp_header[i] : "", false);
}

/*
 * The lines under a line in error are its body (a dial-peer whose header
 * was refused): they are not checked, so that one mistake gives one error.
 */
static void skip_body(struct cfg_parser *p, const char *line)
{
	struct cfg_frame *f;
	int indent = 0;

	while (is_blank(line[indent]))
		indent++;
	if (p->depth >= CFG_MAX_DEPTH)
		return;
	f = &p->stack[p->depth++];
	f->mode = MODE_SKIP;
	f->header_indent = indent;
	f->child_indent = -1;
}

/* The rest of an over-long line, up to CFG_SKIP_MAX bytes; false when its
 * end was not found (a file without newlines: stop reading). */
static bool skip_rest(struct cfg_src *src)
{
	size_t n;
	int c = 0;

	for (n = 0; n < CFG_SKIP_MAX && (c = src_getc(src)) != EOF; n++)
		if (c == '\n')
			return true;
	return c == EOF;
}

/*
 * The parser proper, shared by load (FILE) and parse (text). Every error
 * goes to `e`; the config is returned even then (NULL only when out of
 * memory), and the caller frees it when e->n says there were errors.
 */
static struct sbc_config *parse_src(struct cfg_src *src, struct cfg_errors *e)
{
	char line[SBC_CFG_MAX_LINE + 2];
	struct cfg_parser p;
	struct sbc_config *cfg = NULL;
	bool too_long = false, bad_char = false, at_end = true;
	unsigned lineno = 0;
	size_t i;
	int rc = 0;

	memset(&p, 0, sizeof(p));
	p.errs = e;
	p.cfg = config_new();
	if (p.cfg != NULL) {
		p.cfg->name = strdup(e->name);
		if (p.cfg->name == NULL)
			sbc_config_free(&p.cfg);
	}
	if (p.cfg == NULL) {
		err_set(p.reason, sizeof(p.reason), "%s: out of memory",
			e->name);
		errors_add(e, p.reason);
		goto out;
	}
	p.stack[0].mode = MODE_TOP;
	p.stack[0].header_indent = -1;
	p.stack[0].child_indent = 0;
	p.depth = 1;

	while (!p.ended && !e->full &&
	       (rc = read_line(src, line, &too_long, &bad_char, &at_end)) > 0) {
		p.lineno = ++lineno;
		p.line = line;
		if (lineno > SBC_CFG_MAX_LINES) {
			fail(&p, "too many lines (max %d)", SBC_CFG_MAX_LINES);
			report(e, lineno, p.reason, line, false);
			break;
		}
		if (too_long)
			fail(&p, "line too long (max %d)", SBC_CFG_MAX_LINE);
		else if (bad_char)
			fail(&p, "invalid character");
		else if (parse_line(&p, line) == 0)
			continue;
		report(e, lineno, p.reason, line, too_long);
		skip_body(&p, line);
		if (!at_end && !skip_rest(src))
			break;
	}
	if (!p.ended && rc < 0) {
		err_set(p.reason, sizeof(p.reason), "%s: read error: %.100s",
			e->name, strerror(errno));
		errors_add(e, p.reason);
	}
	if (!e->full) {
		check_dialpeers(&p);
		check_tls(&p);
	}
	cfg = p.cfg;
	p.cfg = NULL;

	for (i = 0; i < p.n_header; i++)
		free(p.dp_header[i]);
	free(p.dp_header);
	sbc_config_free(&p.cfg);
out:
	return cfg;
}

struct sbc_config *sbc_config_parse_each(const char *name, const char *text,
					 sbc_config_error_fn *fn, void *arg)
{
	struct cfg_src src = {.fp = NULL, .text = text ? text : "", .pos = 0};
	struct cfg_errors e = {.fn = fn, .arg = arg, .name = name ? name : "-"};
	struct sbc_config *cfg = parse_src(&src, &e);

	if (e.n > 0)
		sbc_config_free(&cfg);
	return cfg;
}

struct sbc_config *sbc_config_parse(const char *name, const char *text,
				    char *err, size_t errlen)
{
	struct cfg_src src = {.fp = NULL, .text = text ? text : "", .pos = 0};
	struct cfg_errors e = {.first = err, .firstlen = errlen,
			       .name = name ? name : "-"};
	struct sbc_config *cfg = parse_src(&src, &e);

	if (e.n > 0)
		sbc_config_free(&cfg);
	return cfg;
}

static void check_files(const struct sbc_config *cfg, struct cfg_errors *e);

/*
 * A relative `license smart ca-file` is taken from the directory of the
 * configuration file, whatever sbcd's working directory: `sbcd -n`, the
 * start and every reload then open the same file. The path is stored
 * resolved, so the running configuration shows the file in use. (The tls
 * paths are absolute by rule.)
 */
static void resolve_relative(struct sbc_config *cfg, const char *path)
{
	char *ca = cfg->s.license_ca_file;
	char buf[sizeof(cfg->s.license_ca_file)];
	char *real, *slash;
	int n;

	if (ca[0] == '\0' || ca[0] == '/')
		return;
	real = realpath(path, NULL);
	if (real == NULL)
		return;
	slash = strrchr(real, '/');
	n = snprintf(buf, sizeof(buf), "%.*s/%s", (int)(slash - real), real,
		     ca);
	if (n > 0 && (size_t)n < sizeof(buf))
		memcpy(ca, buf, (size_t)n + 1);
	free(real);
}

/*
 * Parse the file, then check the files it names, all errors to e. The
 * files are checked even when the text had errors, so that one run shows
 * everything.
 */
static struct sbc_config *load(const char *path, struct cfg_errors *e)
{
	struct cfg_src src = {.fp = NULL, .text = NULL, .pos = 0};
	struct sbc_config *cfg = NULL;
	char msg[512];

	e->name = path;
	src.fp = fopen(path, "r");
	if (src.fp == NULL) {
		err_set(msg, sizeof(msg), "%s: cannot open: %s", path,
			strerror(errno));
		errors_add(e, msg);
		goto out;
	}
	cfg = parse_src(&src, e);
	fclose(src.fp);
	if (cfg != NULL && !e->full) {
		resolve_relative(cfg, path);
		check_files(cfg, e);
	}
	if (e->n > 0)
		sbc_config_free(&cfg);
out:
	return cfg;
}

struct sbc_config *sbc_config_load_each(const char *path,
					sbc_config_error_fn *fn, void *arg)
{
	struct cfg_errors e = {.fn = fn, .arg = arg};

	return load(path, &e);
}

struct sbc_config *sbc_config_load(const char *path, char *err, size_t errlen)
{
	struct cfg_errors e = {.first = err, .firstlen = errlen};

	return load(path, &e);
}

void sbc_config_free(struct sbc_config **cfg)
{
	if (cfg == NULL || *cfg == NULL)
		return;
	free((*cfg)->dp);
	free((*cfg)->name);
	free((*cfg)->pending);
	free(*cfg);
	*cfg = NULL;
}

/* ---- the files a config names ---- */

/*
 * Every file the config names, each problem reported at its line: the TLS
 * certificate, key (matching the certificate when that one is good) and
 * CA file, and the licensing CA file (`license smart ca-file`, which the
 * HTTPS client reads as PEM certificates).
 */
static void check_files(const struct sbc_config *cfg, struct cfg_errors *e)
{
	const struct sbc_settings *s = &cfg->s;
	X509 *cert = NULL;
	char why[160];

	if (s->tls_certificate[0] != '\0' &&
	    sbc_tlsfiles_check_certs(s->tls_certificate, &cert, why,
				     sizeof(why)) < 0)
		report(e, cfg->tls_where[TLS_SRC_CERT].line, why,
		       cfg->tls_where[TLS_SRC_CERT].text, false);
	if (s->tls_private_key[0] != '\0' &&
	    sbc_tlsfiles_check_key(s->tls_private_key, cert, why,
				   sizeof(why)) < 0)
		report(e, cfg->tls_where[TLS_SRC_KEY].line, why,
		       cfg->tls_where[TLS_SRC_KEY].text, false);
	if (s->tls_ca_file[0] != '\0' &&
	    sbc_tlsfiles_check_certs(s->tls_ca_file, NULL, why,
				     sizeof(why)) < 0)
		report(e, cfg->tls_where[TLS_SRC_CA].line, why,
		       cfg->tls_where[TLS_SRC_CA].text, false);
	if (s->license_ca_file[0] != '\0' &&
	    sbc_tlsfiles_check_certs(s->license_ca_file, NULL, why,
				     sizeof(why)) < 0) {
		const struct cfg_where *w = &cfg->tls_where[SRC_LICENSE_CA];
		char full[sizeof(why) + sizeof(s->license_ca_file) + 8];

		/* A relative path was resolved: say which file was meant. */
		if (strstr(w->text, s->license_ca_file) == NULL)
			err_set(full, sizeof(full), "%s (%s)", why,
				s->license_ca_file);
		else
			err_set(full, sizeof(full), "%s", why);
		report(e, w->line, full, w->text, false);
	}
	X509_free(cert);
	ERR_clear_error();
}

int sbc_config_check_files(const struct sbc_config *cfg, char *err,
			   size_t errlen)
{
	struct cfg_errors e = {.first = err, .firstlen = errlen};

	if (cfg == NULL)
		return -1;
	e.name = cfg->name ? cfg->name : "-";
	check_files(cfg, &e);
	return e.n == 0 ? 0 : -1;
}

bool sbc_config_uses_tls(const struct sbc_config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return false;
	for (i = 0; i < cfg->s.n_listen; i++)
		if (cfg->s.listen[i].transport == SBC_TP_TLS)
			return true;
	for (i = 0; i < cfg->n_dp; i++)
		if (cfg->dp[i].kind == SBC_DP_VOIP &&
		    cfg->dp[i].transport == SBC_TP_TLS)
			return true;
	return false;
}

enum sbc_tls_verify sbc_config_tls_verify(const struct sbc_settings *s)
{
	if (s->tls_verify != SBC_TLS_VERIFY_AUTO)
		return s->tls_verify;
	return s->tls_ca_file[0] != '\0' ? SBC_TLS_VERIFY_PEER
					 : SBC_TLS_VERIFY_NONE;
}

const struct sbc_settings *sbc_config_settings(const struct sbc_config *cfg)
{
	return cfg == NULL ? NULL : &cfg->s;
}

size_t sbc_config_dialpeer_count(const struct sbc_config *cfg)
{
	return cfg == NULL ? 0 : cfg->n_dp;
}

const struct sbc_dialpeer_cfg *sbc_config_dialpeer(const struct sbc_config *cfg,
						   size_t i)
{
	if (cfg == NULL || i >= cfg->n_dp)
		return NULL;
	return &cfg->dp[i];
}

/* One row (or the periodicity) printed for cfg, into buf. */
static void row_text(const struct cfg_cmd *cmd, const struct sbc_config *cfg,
		     char *buf, size_t len)
{
	struct cfg_out o = {.fp = NULL};
	FILE *f = fmemopen(buf, len, "w");

	buf[0] = '\0';
	if (f == NULL)
		return;
	o.fp = f;
	cmd->print(&o, cmd, cfg, NULL, 0);
	fclose(f);
	buf[len - 1] = '\0';
}

/* Licensing settings that need a restart (all but the endpoint ones
 * when the caller applied those): in_force's into d. */
static void keep_lic(struct sbc_settings *d, const struct sbc_settings *f,
		     bool endpoint)
{
	memcpy(d->license_release, f->license_release,
	       sizeof(d->license_release));
	d->license_transport = f->license_transport;
	d->license_usage_interval_days = f->license_usage_interval_days;
	d->license_privacy_hostname = f->license_privacy_hostname;
	d->periodicity_hours = f->periodicity_hours;
	d->periodicity_raised = f->periodicity_raised;
	if (!endpoint)
		return;
	memcpy(d->license_url, f->license_url, sizeof(d->license_url));
	d->license_url_default = f->license_url_default;
	memcpy(d->license_ca_file, f->license_ca_file,
	       sizeof(d->license_ca_file));
	memcpy(d->license_proxy_host, f->license_proxy_host,
	       sizeof(d->license_proxy_host));
	d->license_proxy_port = f->license_proxy_port;
}

/* url, ca-file and proxy rows: the endpoint the agent can switch live. */
static bool endpoint_row(const struct cfg_cmd *cmd)
{
	return cmd->kw[2] != NULL &&
	       (strcmp(cmd->kw[2], "url") == 0 ||
		strcmp(cmd->kw[2], "ca-file") == 0 ||
		strcmp(cmd->kw[2], "proxy") == 0);
}

bool sbc_config_endpoint_differs(const struct sbc_config *a,
				 const struct sbc_config *b)
{
	const struct sbc_settings *x = &a->s, *y = &b->s;

	return strcmp(x->license_url, y->license_url) != 0 ||
	       strcmp(x->license_ca_file, y->license_ca_file) != 0 ||
	       strcmp(x->license_proxy_host, y->license_proxy_host) != 0 ||
	       x->license_proxy_port != y->license_proxy_port;
}

size_t sbc_config_keep_licensing(struct sbc_config *cfg,
				 const struct sbc_config *in_force,
				 bool endpoint_applied)
{
	char a[SBC_CFG_MAX_LINE * 2], b[sizeof(a) + 32], kw[128];
	const struct cfg_cmd *cmd;
	size_t n = 0, used = 0, cap = 0;
	char *pend = NULL;

	if (cfg == NULL || in_force == NULL)
		return 0;
	for (cmd = top_cmds; cmd->kw[0] != NULL; cmd++) {
		const char *line = a;
		size_t need;
		char *np;

		if (strcmp(cmd->kw[0], "license") != 0 || cmd->print == NULL ||
		    (endpoint_applied && endpoint_row(cmd)))
			continue;
		row_text(cmd, cfg, a, sizeof(a));
		row_text(cmd, in_force, b, sizeof(b));
		if (strcmp(a, b) == 0)
			continue;
		if (a[0] == '\0') {
			snprintf(b, sizeof(b), "no %s\n",
				 kw_text(cmd, kw, sizeof(kw)));
			line = b;
		}
		need = strlen("! pending restart: ") + strlen(line) + 1;
		if (used + need > cap) {
			cap = (used + need) * 2;
			np = realloc(pend, cap);
			if (np == NULL)
				break;
			pend = np;
		}
		used += (size_t)snprintf(pend + used, cap - used,
					 "! pending restart: %s", line);
		n++;
	}
	if (cfg->s.periodicity_hours != in_force->s.periodicity_hours) {
		for (cmd = voip_cmds;
		     cmd->kw[0] != NULL && cmd->parse != cmd_border; cmd++)
			;
		row_text(cmd, cfg, a, sizeof(a));
		/* The file dropped `mode border-element`: say so, as the
		 * license rows say `no ...`. */
		snprintf(b, sizeof(b), "! pending restart: %s",
			 a[0] ? a : "no mode border-element license "
				    "periodicity\n");
		if (used + strlen(b) + 1 > cap) {
			char *np = realloc(pend, used + strlen(b) + 1);

			if (np != NULL) {
				pend = np;
				cap = used + strlen(b) + 1;
			}
		}
		if (used + strlen(b) + 1 <= cap) {
			memcpy(pend + used, b, strlen(b) + 1);
			used += strlen(b);
			n++;
		}
	}
	keep_lic(&cfg->s, &in_force->s, !endpoint_applied);
	free(cfg->pending);
	cfg->pending = pend;
	return n;
}

void sbc_config_set_bound_port(struct sbc_config *cfg, size_t i,
			       unsigned port)
{
	if (cfg != NULL && i < cfg->s.n_listen)
		cfg->s.listen[i].bound_port = port;
}

int sbc_config_write(const struct sbc_config *cfg, FILE *out)
{
	struct cfg_out o = {.fp = out, .last_bang = false, .any = false};

	if (cfg == NULL || out == NULL)
		return -1;
	write_mode(&o, MODE_TOP, cfg, NULL, 0);
	return ferror(out) ? -1 : 0;
}
