#include "sbc/sdpfilter.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define NTE_NAME "telephone-event"
#define NTE_PT_PREFERRED 101
#define ENC_MAX 32 /* encoding name in a=rtpmap */

/* One row per config name: how it appears in SDP. */
struct codec_row {
	enum sbc_codec codec;
	const char *ios;      /* config name */
	const char *enc;      /* RTP encoding name (a=rtpmap) */
	unsigned rate;	      /* clock rate in the rtpmap */
	int static_pt;	      /* RFC 3551 static payload type, -1: dynamic */
};

static const struct codec_row codecs[] = {
	{SBC_CODEC_G711ULAW, "g711ulaw", "PCMU", 8000, 0},
	{SBC_CODEC_G711ALAW, "g711alaw", "PCMA", 8000, 8},
	{SBC_CODEC_G729R8, "g729r8", "G729", 8000, 18},
	{SBC_CODEC_G729BR8, "g729br8", "G729", 8000, 18},
	{SBC_CODEC_G722_64, "g722-64", "G722", 8000, 9},
	{SBC_CODEC_ILBC, "ilbc", "iLBC", 8000, -1},
	{SBC_CODEC_OPUS, "opus", "opus", 48000, -1},
};

/* Static payload types an offer may use without an a=rtpmap. */
static const struct {
	int pt;
	const char *enc;
	unsigned rate;
} static_pts[] = {
	{0, "PCMU", 8000}, {3, "GSM", 8000},  {4, "G723", 8000},
	{8, "PCMA", 8000}, {9, "G722", 8000}, {13, "CN", 8000},
	{18, "G729", 8000},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

enum sbc_codec sbc_codec_from_name(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < NELEM(codecs); i++)
		if (strcmp(name, codecs[i].ios) == 0)
			return codecs[i].codec;
	return SBC_CODEC_NONE;
}

static const struct codec_row *codec_row(enum sbc_codec c)
{
	size_t i;

	for (i = 0; i < NELEM(codecs); i++)
		if (codecs[i].codec == c)
			return &codecs[i];
	return NULL;
}

const char *sbc_codec_name(enum sbc_codec c)
{
	const struct codec_row *r = codec_row(c);

	return r != NULL ? r->ios : "?";
}

/* Kept in step with codecs[] by tests/unit/test_sdpfilter.c. */
const char *sbc_codec_names(void)
{
	return "g711ulaw|g711alaw|g729r8|g729br8|g722-64|ilbc|opus";
}

/* ---- the filter ---- */

struct fmt {
	int pt;
	char enc[ENC_MAX + 1]; /* "" when unknown */
	unsigned rate;
	bool keep;
};

struct filt {
	const char *in;
	size_t inlen;
	char *out;
	size_t outlen;
	size_t used;
	bool overflow;
	char *err;
	size_t errlen;
};

static enum sbc_sdp_result bad(struct filt *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static enum sbc_sdp_result bad(struct filt *f, const char *fmt, ...)
{
	va_list ap;

	if (f->err != NULL && f->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(f->err, f->errlen, fmt, ap);
		va_end(ap);
	}
	return SBC_SDP_BAD;
}

static void put(struct filt *f, const char *s, size_t n)
{
	if (f->overflow || f->used + n >= f->outlen) {
		f->overflow = true;
		return;
	}
	memcpy(f->out + f->used, s, n);
	f->used += n;
	f->out[f->used] = '\0';
}

static void putf(struct filt *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void putf(struct filt *f, const char *fmt, ...)
{
	char buf[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		f->overflow = true;
	else
		put(f, buf, (size_t)n);
}

static void put_line(struct filt *f, const char *s, size_t n)
{
	put(f, s, n);
	put(f, "\r\n", 2);
}

/*
 * The line at *pos (without its LF or CRLF) as [*s, *s + *n); advances
 * *pos past it. False at the end of the text.
 */
static bool next_line(const struct filt *f, size_t *pos, const char **s,
		      size_t *n)
{
	const char *nl;
	size_t len;

	if (*pos >= f->inlen)
		return false;
	*s = f->in + *pos;
	nl = memchr(*s, '\n', f->inlen - *pos);
	len = nl != NULL ? (size_t)(nl - *s) : f->inlen - *pos;
	*pos += len + (nl != NULL ? 1 : 0);
	if (len > 0 && (*s)[len - 1] == '\r')
		len--;
	*n = len;
	return true;
}

static bool starts(const char *s, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);

	return n >= k && memcmp(s, prefix, k) == 0;
}

/* A decimal 0..127 at s[*i]; advances past it. */
static bool read_pt(const char *s, size_t n, size_t *i, int *pt)
{
	int v = 0;
	size_t start = *i;

	while (*i < n && s[*i] >= '0' && s[*i] <= '9' && *i - start < 4)
		v = v * 10 + (s[(*i)++] - '0');
	if (*i == start || v > 127)
		return false;
	*pt = v;
	return true;
}

/* Payload type of an "a=rtpmap:", "a=fmtp:" or "a=rtcp-fb:" line; -1. */
static int attr_pt(const char *s, size_t n)
{
	static const char *const prefixes[] = {"a=rtpmap:", "a=fmtp:",
					       "a=rtcp-fb:"};
	size_t i, k;
	int pt;

	for (i = 0; i < NELEM(prefixes); i++) {
		if (!starts(s, n, prefixes[i]))
			continue;
		k = strlen(prefixes[i]);
		if (read_pt(s, n, &k, &pt) && (k == n || s[k] == ' '))
			return pt;
		return -1;
	}
	return -1;
}

static struct fmt *find_fmt(struct fmt *fmts, size_t n, int pt)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (fmts[i].pt == pt)
			return &fmts[i];
	return NULL;
}

/* "a=rtpmap:PT ENC/RATE[/CH]": fill the encoding of that format. */
static void note_rtpmap(struct fmt *fmts, size_t nf, const char *s, size_t n)
{
	size_t k = strlen("a=rtpmap:"), e;
	unsigned long rate = 0;
	struct fmt *fm;
	int pt;

	if (!read_pt(s, n, &k, &pt) || k >= n || s[k] != ' ')
		return;
	fm = find_fmt(fmts, nf, pt);
	if (fm == NULL)
		return;
	for (e = ++k; k < n && s[k] != '/' && k - e < ENC_MAX; k++)
		;
	if (k >= n || s[k] != '/' || k == e)
		return;
	memcpy(fm->enc, s + e, k - e);
	fm->enc[k - e] = '\0';
	for (k++; k < n && s[k] >= '0' && s[k] <= '9' && rate < 1000000; k++)
		rate = rate * 10 + (unsigned long)(s[k] - '0');
	fm->rate = (unsigned)rate;
}

static bool is_nte(const struct fmt *fm)
{
	return strcasecmp(fm->enc, NTE_NAME) == 0;
}

static bool is_codec(const struct fmt *fm, const struct codec_row *r)
{
	return strcasecmp(fm->enc, r->enc) == 0 && fm->rate == r->rate;
}

/*
 * One audio section [start, end): the m= line is the first line. Writes
 * the filtered section. m: the m= line, split into "m=audio PORT PROTO"
 * (head) and the format list.
 */
static enum sbc_sdp_result audio_section(struct filt *f, size_t start,
					 size_t end,
					 const struct sbc_sdp_policy *pol)
{
	struct fmt fmts[SBC_SDP_MAX_FMTS];
	int order[SBC_SDP_MAX_FMTS];
	size_t nf = 0, no = 0, i, j, k, pos = start, n, head;
	bool have_codec = false, have_nte = false;
	struct filt sect = *f;
	const char *s, *m;
	int pt, nte_pt = -1;

	sect.inlen = end;
	next_line(&sect, &pos, &m, &n);
	/* "m=audio" SP port SP proto, then formats. */
	for (k = 0, i = 0; i < n && k < 3; i++)
		if (m[i] == ' ')
			k++;
	if (k < 3)
		return bad(f, "m= line without formats");
	head = i - 1;
	while (i < n) {
		if (nf == SBC_SDP_MAX_FMTS)
			return bad(f, "more than %d formats on an m= line",
				   SBC_SDP_MAX_FMTS);
		if (!read_pt(m, n, &i, &pt) || (i < n && m[i] != ' '))
			return bad(f, "invalid payload type on m= line");
		memset(&fmts[nf], 0, sizeof(fmts[nf]));
		fmts[nf].pt = pt;
		for (j = 0; j < NELEM(static_pts); j++)
			if (static_pts[j].pt == pt) {
				snprintf(fmts[nf].enc, sizeof(fmts[nf].enc),
					 "%s", static_pts[j].enc);
				fmts[nf].rate = static_pts[j].rate;
			}
		if (find_fmt(fmts, nf, pt) == NULL)
			nf++;
		while (i < n && m[i] == ' ')
			i++;
	}
	if (nf == 0)
		return bad(f, "m= line without formats");
	for (k = pos; next_line(&sect, &k, &s, &n);)
		if (starts(s, n, "a=rtpmap:"))
			note_rtpmap(fmts, nf, s, n);

	/* Allowed codecs in preference order, then telephone-event. */
	for (i = 0; pol->n_codecs > 0 && i < pol->n_codecs; i++) {
		const struct codec_row *r = codec_row(pol->codecs[i]);

		for (j = 0; r != NULL && j < nf; j++)
			if (!fmts[j].keep && is_codec(&fmts[j], r)) {
				fmts[j].keep = true;
				order[no++] = (int)j;
				have_codec = true;
			}
	}
	for (j = 0; j < nf; j++) {
		if (pol->n_codecs == 0 && !fmts[j].keep) {
			fmts[j].keep = true;
			order[no++] = (int)j;
			have_codec = have_codec || !is_nte(&fmts[j]);
		} else if (!fmts[j].keep && is_nte(&fmts[j])) {
			fmts[j].keep = true;
			order[no++] = (int)j;
		}
		have_nte = have_nte || (fmts[j].keep && is_nte(&fmts[j]) &&
					fmts[j].rate == 8000);
	}
	if (pol->n_codecs > 0 && !have_codec)
		return SBC_SDP_NO_CODEC;
	if (pol->add_nte && !have_nte) {
		/* 101, else the next free dynamic type (nf < 32 of them). */
		for (pt = NTE_PT_PREFERRED, k = 0;
		     find_fmt(fmts, nf, pt) != NULL && k < 32; k++)
			pt = pt == 127 ? 96 : pt + 1;
		nte_pt = find_fmt(fmts, nf, pt) == NULL ? pt : -1;
	}

	put(f, m, head);
	for (i = 0; i < no; i++)
		putf(f, " %d", fmts[order[i]].pt);
	if (nte_pt >= 0)
		putf(f, " %d", nte_pt);
	put(f, "\r\n", 2);
	while (next_line(&sect, &pos, &s, &n)) {
		struct fmt *fm;

		pt = attr_pt(s, n);
		fm = pt >= 0 ? find_fmt(fmts, nf, pt) : NULL;
		if (pt >= 0 && (fm == NULL || !fm->keep))
			continue;
		put_line(f, s, n);
	}
	if (nte_pt >= 0) {
		putf(f, "a=rtpmap:%d " NTE_NAME "/8000\r\n", nte_pt);
		putf(f, "a=fmtp:%d 0-16\r\n", nte_pt);
	}
	return SBC_SDP_OK;
}

/* An m=audio line with a port other than 0 (a stream in use). */
static bool live_audio(const char *s, size_t n)
{
	return starts(s, n, "m=audio ") && !starts(s, n, "m=audio 0 ") &&
	       !starts(s, n, "m=audio 0/");
}

enum sbc_sdp_result sbc_sdp_filter(const char *in, size_t inlen,
				   const struct sbc_sdp_policy *pol, char *out,
				   size_t outlen, size_t *outused, char *err,
				   size_t errlen)
{
	struct filt f = {.in = in, .inlen = inlen, .out = out,
			 .outlen = outlen, .err = err, .errlen = errlen};
	size_t pos = 0, sect_start = 0, nmedia = 0, n, i;
	enum sbc_sdp_result rc = SBC_SDP_OK;
	bool in_audio = false;
	const char *s;

	if (outused != NULL)
		*outused = 0;
	if (in == NULL || pol == NULL || out == NULL || outlen == 0)
		return bad(&f, "no SDP");
	out[0] = '\0';
	if (inlen > SBC_SDP_MAX)
		return bad(&f, "SDP larger than %d bytes", SBC_SDP_MAX);
	if (pol->n_codecs > SBC_SDP_MAX_CODECS)
		return bad(&f, "too many codecs in the policy");
	if (memchr(in, '\0', inlen) != NULL)
		return bad(&f, "NUL in SDP");
	for (;;) {
		size_t here = pos;
		bool more = next_line(&f, &pos, &s, &n);
		bool media = more && starts(s, n, "m=");

		if (in_audio && (media || !more)) {
			rc = audio_section(&f, sect_start, here, pol);
			if (rc != SBC_SDP_OK)
				return rc;
			in_audio = false;
		}
		if (!more)
			break;
		for (i = 0; i < n; i++)
			if (s[i] == '\r')
				return bad(&f, "CR inside an SDP line");
		if (media && ++nmedia > SBC_SDP_MAX_MEDIA)
			return bad(&f, "more than %d m= lines",
				   SBC_SDP_MAX_MEDIA);
		if (media && live_audio(s, n)) {
			in_audio = true;
			sect_start = here;
		} else if (!in_audio) {
			put_line(&f, s, n);
		}
	}
	if (f.overflow)
		return bad(&f, "filtered SDP does not fit %zu bytes", outlen);
	if (outused != NULL)
		*outused = f.used;
	return SBC_SDP_OK;
}
