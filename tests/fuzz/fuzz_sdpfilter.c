/*
 * Fuzz target: the SDP codec filter (sbc/sdpfilter.h).
 *
 * Input: a policy line, then the SDP. The policy line is letters, one per
 * codec in preference order (u g711ulaw, a g711alaw, 9 g729r8, b g729br8,
 * 2 g722-64, i ilbc, o opus), and `n` for dtmf-relay rtp-nte; the first
 * newline ends it. Properties: a result is one of the three; a refusal
 * has a reason; an accepted body is NUL-terminated, as long as *outused
 * says, fits the documented room, has only CRLF line ends,
 * and filtering it again gives the same body (the filter is idempotent:
 * what it lets through already meets the policy).
 */
#include "sbc/sdpfilter.h"

#include "fuzz.h"

#include <stdbool.h>
#include <string.h>

static void policy_of(const char *s, size_t n, struct sbc_sdp_policy *p)
{
	static const char letters[] = "ua9b2io";
	size_t i;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < n; i++) {
		const char *l = s[i] != '\0' ? strchr(letters, s[i]) : NULL;

		if (s[i] == 'n')
			p->add_nte = true;
		else if (l != NULL && p->n_codecs < SBC_SDP_MAX_CODECS)
			p->codecs[p->n_codecs++] =
				(enum sbc_codec)(SBC_CODEC_G711ULAW +
						 (l - letters));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	const char *nl = memchr(text, '\n', size);
	const char *sdp = nl != NULL ? nl + 1 : text + size;
	size_t len = size - (size_t)(sdp - text);
	size_t cap = len + SBC_SDP_EXTRA * SBC_SDP_MAX_MEDIA + 1;
	char *out = malloc(cap), *again = malloc(cap);
	char err[160];
	struct sbc_sdp_policy pol;
	enum sbc_sdp_result rc, rc2;
	size_t used = 0, used2 = 0, i;

	FUZZ_CHECK(out != NULL && again != NULL, "memory");
	policy_of(text, nl != NULL ? (size_t)(nl - text) : 0, &pol);
	err[0] = '\0';
	rc = sbc_sdp_filter(sdp, len, &pol, out, cap, &used, err, sizeof(err));
	FUZZ_CHECK(rc == SBC_SDP_OK || rc == SBC_SDP_NO_CODEC ||
			   rc == SBC_SDP_BAD,
		   "result %d", rc);
	if (rc == SBC_SDP_BAD)
		FUZZ_CHECK(err[0] != '\0' && memchr(err, '\0', sizeof(err)),
			   "refused without a reason");
	if (rc == SBC_SDP_NO_CODEC)
		FUZZ_CHECK(pol.n_codecs > 0, "no codec left without a policy");
	if (rc != SBC_SDP_OK)
		goto out;
	FUZZ_CHECK(used < cap && out[used] == '\0' && strlen(out) == used,
		   "length %zu of %zu", used, cap);
	for (i = 0; i < used; i++)
		FUZZ_CHECK(out[i] != '\n' || (i > 0 && out[i - 1] == '\r'),
			   "bare LF at %zu", i);
	rc2 = sbc_sdp_filter(out, used, &pol, again, cap, &used2, err,
			     sizeof(err));
	FUZZ_CHECK(rc2 == SBC_SDP_OK, "filtered body refused: %d %s", rc2,
		   err);
	FUZZ_CHECK(used2 == used && memcmp(out, again, used) == 0,
		   "filtering twice changed the body");
out:
	free(again);
	free(out);
	free(text);
	return 0;
}
