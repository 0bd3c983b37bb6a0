/*
 * The SDP codec filter (sbc/sdpfilter.h): one table of offers, policies
 * and the exact body (or result) expected; names of the config; caps.
 */
#include "sbc/sdpfilter.h"

#include "unit.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#define HEAD "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"

/* A typical PBX offer: PCMU, PCMA, G729, opus and telephone-event. */
#define OFFER                                                               \
	HEAD "m=audio 4000 RTP/AVP 0 8 18 111 101\r\n"                       \
	     "a=rtpmap:0 PCMU/8000\r\n"                                      \
	     "a=rtpmap:8 PCMA/8000\r\n"                                      \
	     "a=rtpmap:18 G729/8000\r\n"                                     \
	     "a=fmtp:18 annexb=no\r\n"                                       \
	     "a=rtpmap:111 opus/48000/2\r\n"                                 \
	     "a=fmtp:111 useinbandfec=1\r\n"                                 \
	     "a=rtcp-fb:111 transport-cc\r\n"                                \
	     "a=rtpmap:101 telephone-event/8000\r\n"                         \
	     "a=fmtp:101 0-16\r\n"                                           \
	     "a=ptime:20\r\n"                                                \
	     "a=sendrecv\r\n"

struct sdp_case {
	const char *name;
	const char *in;
	enum sbc_codec codecs[4];
	bool add_nte;
	enum sbc_sdp_result rc;
	const char *out; /* for SBC_SDP_OK */
};

static const struct sdp_case cases[] = {
	{"no policy passes all", OFFER, {SBC_CODEC_NONE}, false, SBC_SDP_OK,
	 OFFER},
	{"one codec", OFFER, {SBC_CODEC_G711ALAW}, false, SBC_SDP_OK,
	 HEAD "m=audio 4000 RTP/AVP 8 101\r\n"
	      "a=rtpmap:8 PCMA/8000\r\n"
	      "a=rtpmap:101 telephone-event/8000\r\n"
	      "a=fmtp:101 0-16\r\n"
	      "a=ptime:20\r\n"
	      "a=sendrecv\r\n"},
	{"preference order", OFFER,
	 {SBC_CODEC_OPUS, SBC_CODEC_G729R8, SBC_CODEC_G711ULAW}, false,
	 SBC_SDP_OK,
	 HEAD "m=audio 4000 RTP/AVP 111 18 0 101\r\n"
	      "a=rtpmap:0 PCMU/8000\r\n"
	      "a=rtpmap:18 G729/8000\r\n"
	      "a=fmtp:18 annexb=no\r\n"
	      "a=rtpmap:111 opus/48000/2\r\n"
	      "a=fmtp:111 useinbandfec=1\r\n"
	      "a=rtcp-fb:111 transport-cc\r\n"
	      "a=rtpmap:101 telephone-event/8000\r\n"
	      "a=fmtp:101 0-16\r\n"
	      "a=ptime:20\r\n"
	      "a=sendrecv\r\n"},
	{"none left", OFFER, {SBC_CODEC_G722_64}, false, SBC_SDP_NO_CODEC,
	 NULL},
	{"static types without rtpmap, LF only",
	 "v=0\nc=IN IP4 10.0.0.1\nm=audio 5000 RTP/AVP 0 8 9\n",
	 {SBC_CODEC_G722_64, SBC_CODEC_G711ULAW}, false, SBC_SDP_OK,
	 "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 5000 RTP/AVP 9 0\r\n"},
	{"nte added", HEAD "m=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
	 {SBC_CODEC_NONE}, true, SBC_SDP_OK,
	 HEAD "m=audio 4000 RTP/AVP 0 101\r\n"
	      "a=rtpmap:0 PCMU/8000\r\n"
	      "a=rtpmap:101 telephone-event/8000\r\n"
	      "a=fmtp:101 0-16\r\n"},
	{"nte added on a free type",
	 HEAD "m=audio 4000 RTP/AVP 101\r\na=rtpmap:101 PCMU/8000\r\n",
	 {SBC_CODEC_G711ULAW}, true, SBC_SDP_OK,
	 HEAD "m=audio 4000 RTP/AVP 101 102\r\n"
	      "a=rtpmap:101 PCMU/8000\r\n"
	      "a=rtpmap:102 telephone-event/8000\r\n"
	      "a=fmtp:102 0-16\r\n"},
	{"nte kept, not doubled", OFFER, {SBC_CODEC_G711ULAW}, true,
	 SBC_SDP_OK,
	 HEAD "m=audio 4000 RTP/AVP 0 101\r\n"
	      "a=rtpmap:0 PCMU/8000\r\n"
	      "a=rtpmap:101 telephone-event/8000\r\n"
	      "a=fmtp:101 0-16\r\n"
	      "a=ptime:20\r\n"
	      "a=sendrecv\r\n"},
	{"video and disabled audio untouched",
	 HEAD "m=audio 0 RTP/AVP 0 8\r\na=rtpmap:8 PCMA/8000\r\n"
	      "m=video 6000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
	      "m=audio 4002 RTP/AVP 8 0\r\n",
	 {SBC_CODEC_G711ULAW}, false, SBC_SDP_OK,
	 HEAD "m=audio 0 RTP/AVP 0 8\r\na=rtpmap:8 PCMA/8000\r\n"
	      "m=video 6000 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
	      "m=audio 4002 RTP/AVP 0\r\n"},
	{"opus by name, case-insensitive",
	 HEAD "m=audio 4000 RTP/AVP 96 0\r\na=rtpmap:96 OPUS/48000/2\r\n",
	 {SBC_CODEC_OPUS}, false, SBC_SDP_OK,
	 HEAD "m=audio 4000 RTP/AVP 96\r\na=rtpmap:96 OPUS/48000/2\r\n"},
	{"m= without formats", HEAD "m=audio 4000 RTP/AVP\r\n",
	 {SBC_CODEC_G711ULAW}, false, SBC_SDP_BAD, NULL},
	{"payload type out of range", HEAD "m=audio 4000 RTP/AVP 0 128\r\n",
	 {SBC_CODEC_G711ULAW}, false, SBC_SDP_BAD, NULL},
	{"junk in format list", HEAD "m=audio 4000 RTP/AVP 0x8\r\n",
	 {SBC_CODEC_G711ULAW}, false, SBC_SDP_BAD, NULL},
	{"CR inside a line", HEAD "m=audio 4000 RTP/AVP 0\ra=x\r\n",
	 {SBC_CODEC_G711ULAW}, false, SBC_SDP_BAD, NULL},
};

static void policy_of(const struct sdp_case *c, struct sbc_sdp_policy *p)
{
	memset(p, 0, sizeof(*p));
	while (p->n_codecs < 4 && c->codecs[p->n_codecs] != SBC_CODEC_NONE) {
		p->codecs[p->n_codecs] = c->codecs[p->n_codecs];
		p->n_codecs++;
	}
	p->add_nte = c->add_nte;
}

UNIT_LOOP_TEST(test_table, 0, (int)NELEM(cases))
{
	const struct sdp_case *c = &cases[_i];
	struct sbc_sdp_policy pol;
	char out[4096], err[128] = "";
	size_t used = 99;
	enum sbc_sdp_result rc;

	policy_of(c, &pol);
	rc = sbc_sdp_filter(c->in, strlen(c->in), &pol, out, sizeof(out),
			    &used, err, sizeof(err));
	ck_assert_msg(rc == c->rc, "%s: rc %d, want %d (%s)", c->name, rc,
		      c->rc, err);
	if (rc == SBC_SDP_OK) {
		ck_assert_msg(strcmp(out, c->out) == 0, "%s: got\n%s", c->name,
			      out);
		ck_assert_uint_eq(used, strlen(c->out));
	}
	if (rc == SBC_SDP_BAD)
		ck_assert_msg(err[0] != '\0', "%s: no reason", c->name);
}
END_TEST

UNIT_TEST(test_names)
{
	ck_assert_int_eq(sbc_codec_from_name("g711ulaw"), SBC_CODEC_G711ULAW);
	ck_assert_int_eq(sbc_codec_from_name("g722-64"), SBC_CODEC_G722_64);
	ck_assert_int_eq(sbc_codec_from_name("opus"), SBC_CODEC_OPUS);
	ck_assert_int_eq(sbc_codec_from_name("G711ULAW"), SBC_CODEC_NONE);
	ck_assert_int_eq(sbc_codec_from_name("pcmu"), SBC_CODEC_NONE);
	ck_assert_str_eq(sbc_codec_name(SBC_CODEC_G729R8), "g729r8");
	ck_assert_str_eq(sbc_codec_name(SBC_CODEC_NONE), "?");
	ck_assert_ptr_nonnull(strstr(sbc_codec_names(), "g711alaw|"));
}
END_TEST

/* The names in error messages are exactly the table's, in its order. */
UNIT_TEST(test_names_list)
{
	char want[256] = "";
	size_t used = 0;
	int c;

	for (c = SBC_CODEC_NONE + 1; c < SBC_CODEC_COUNT; c++) {
		const char *name = sbc_codec_name((enum sbc_codec)c);

		ck_assert_int_eq(sbc_codec_from_name(name), c);
		used += (size_t)snprintf(want + used, sizeof(want) - used,
					 "%s%s", used ? "|" : "", name);
	}
	ck_assert_str_eq(sbc_codec_names(), want);
}
END_TEST

/* Caps: output too small, input over SBC_SDP_MAX, too many formats. */
UNIT_TEST(test_caps)
{
	static char big[SBC_SDP_MAX + 2];
	struct sbc_sdp_policy pol = {.codecs = {SBC_CODEC_G711ULAW},
				     .n_codecs = 1};
	char out[64], line[512], err[128];
	const char *in = OFFER;
	size_t used, i, n;

	ck_assert_int_eq(sbc_sdp_filter(in, strlen(in), &pol, out,
					sizeof(out), &used, err, sizeof(err)),
			 SBC_SDP_BAD);
	ck_assert_ptr_nonnull(strstr(err, "does not fit"));
	memset(big, 'x', sizeof(big) - 1);
	ck_assert_int_eq(sbc_sdp_filter(big, sizeof(big) - 1, &pol, out,
					sizeof(out), &used, err, sizeof(err)),
			 SBC_SDP_BAD);
	n = (size_t)snprintf(line, sizeof(line), "m=audio 1 RTP/AVP");
	for (i = 0; i <= SBC_SDP_MAX_FMTS; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, " %zu", i);
	ck_assert_int_eq(sbc_sdp_filter(line, n, &pol, out, sizeof(out),
					&used, err, sizeof(err)),
			 SBC_SDP_BAD);
	ck_assert_ptr_nonnull(strstr(err, "formats"));
}
END_TEST

UNIT_MAIN("sdpfilter")
