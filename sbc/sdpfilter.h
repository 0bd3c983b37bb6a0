/*
 * sdpfilter: the codec policy of a dial-peer applied to an SDP offer
 * (docs/sip.md, "Codecs and DTMF").
 *
 * A pure function over a bounded text: the audio m= lines keep only the
 * allowed codecs, in the policy's preference order, and their a=rtpmap,
 * a=fmtp and a=rtcp-fb lines; telephone-event is kept, and added when the
 * policy asks for RFC 2833 DTMF (`dtmf-relay rtp-nte`) and the offer has
 * none. Everything else (session lines, other media, other attributes)
 * passes unchanged. No Sofia-SIP, no allocation.
 */
#ifndef SBC_SDPFILTER_H
#define SBC_SDPFILTER_H

#include <stdbool.h>
#include <stddef.h>

#define SBC_SDP_MAX 65536	 /* bodies larger than this are refused */
#define SBC_SDP_MAX_CODECS 14	 /* `codec preference` 1..14 */
#define SBC_SDP_MAX_FMTS 32	 /* payload types on one m= line */
#define SBC_SDP_EXTRA 256	 /* room the filter may add per m=audio line */
#define SBC_SDP_MAX_MEDIA 16	 /* m= lines in one body */

/* The codec names of the config, as IOS spells them. */
enum sbc_codec {
	SBC_CODEC_NONE = 0,
	SBC_CODEC_G711ULAW,
	SBC_CODEC_G711ALAW,
	SBC_CODEC_G729R8,
	SBC_CODEC_G729BR8,
	SBC_CODEC_G722_64,
	SBC_CODEC_ILBC,
	SBC_CODEC_OPUS,
	SBC_CODEC_COUNT
};

struct sbc_sdp_policy {
	enum sbc_codec codecs[SBC_SDP_MAX_CODECS]; /* in preference order */
	size_t n_codecs; /* 0: every codec passes (no codec policy) */
	bool add_nte;	 /* add telephone-event when the offer has none */
};

enum sbc_sdp_result {
	SBC_SDP_OK = 0,	      /* out holds the filtered body */
	SBC_SDP_NO_CODEC = 1, /* an audio stream has no allowed codec left */
	SBC_SDP_BAD = -1,     /* malformed or over a cap; reason in err */
};

/* The codec for an IOS name ("g711ulaw"), or SBC_CODEC_NONE. */
enum sbc_codec sbc_codec_from_name(const char *name);
/* The IOS name ("g711ulaw"); "?" for NONE or out of range. */
const char *sbc_codec_name(enum sbc_codec c);
/* "g711ulaw|g711alaw|..." for error messages. */
const char *sbc_codec_names(void);

/*
 * Filter the SDP `in` (inlen bytes, at most SBC_SDP_MAX, need not be
 * NUL-terminated) into out (outlen bytes; inlen + SBC_SDP_EXTRA *
 * SBC_SDP_MAX_MEDIA + 1 is always enough). Lines end in CRLF in the output.
 * *outused gets the length written (out is NUL-terminated). On
 * SBC_SDP_BAD err gets the reason; out is then undefined.
 */
enum sbc_sdp_result sbc_sdp_filter(const char *in, size_t inlen,
				   const struct sbc_sdp_policy *pol, char *out,
				   size_t outlen, size_t *outused, char *err,
				   size_t errlen);

#endif
