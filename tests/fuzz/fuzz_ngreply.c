/*
 * Fuzz target: the reply parser of the ng control client
 * (sbc_ng_parse_reply, sbc/media_ng.h), what a relay (or anybody who can
 * send to the client's port) puts in a datagram.
 *
 * Input: the datagram. Properties: a refusal has a reason and no object;
 * an accepted reply's cookie is the input's first bytes, 1..SBC_NG_COOKIE_MAX
 * printable non-space ASCII, followed by a space; the object has a string
 * "result"; the cookie and the object printed back parse again to the
 * same cookie and an equal object; a cookie buffer too small is refused.
 */
#include "sbc/media_ng.h"

#include "fuzz.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	char cookie[SBC_NG_COOKIE_MAX + 1], again[SBC_NG_COOKIE_MAX + 1];
	char err[160], *text, *dgram;
	json_t *o = (json_t *)1, *o2 = NULL;
	size_t cl, i, tl;
	int rc;

	err[0] = '\0';
	rc = sbc_ng_parse_reply(buf, size, cookie, sizeof(cookie), &o, err,
				sizeof(err));
	FUZZ_CHECK(rc == 0 || rc == -1, "result %d", rc);
	if (rc != 0) {
		FUZZ_CHECK(o == NULL, "refused with an object");
		FUZZ_CHECK(err[0] != '\0' && memchr(err, '\0', sizeof(err)),
			   "refused without a reason");
		return 0;
	}
	cl = strlen(cookie);
	FUZZ_CHECK(cl >= 1 && cl <= SBC_NG_COOKIE_MAX, "cookie of %zu", cl);
	FUZZ_CHECK(cl < size && memcmp(cookie, buf, cl) == 0 && buf[cl] == ' ',
		   "cookie is not the input's first bytes");
	for (i = 0; i < cl; i++)
		FUZZ_CHECK(cookie[i] > ' ' && cookie[i] < 0x7f,
			   "cookie byte %d", cookie[i]);
	FUZZ_CHECK(json_is_object(o) &&
			   json_is_string(json_object_get(o, "result")),
		   "accepted without a string result");

	/* Round trip: what the client accepted, sent back, reads the same. */
	text = json_dumps(o, JSON_COMPACT | JSON_ENCODE_ANY);
	FUZZ_CHECK(text != NULL, "memory");
	tl = strlen(text);
	dgram = malloc(cl + 1 + tl);
	FUZZ_CHECK(dgram != NULL, "memory");
	memcpy(dgram, cookie, cl);
	dgram[cl] = ' ';
	memcpy(dgram + cl + 1, text, tl);
	if (cl + 1 + tl <= SBC_NG_REPLY_MAX) {
		rc = sbc_ng_parse_reply(dgram, cl + 1 + tl, again,
					sizeof(again), &o2, err, sizeof(err));
		FUZZ_CHECK(rc == 0, "printed reply refused: %s", err);
		FUZZ_CHECK(strcmp(again, cookie) == 0, "cookie changed");
		FUZZ_CHECK(json_equal(o, o2), "object changed");
		json_decref(o2);
	}
	/* The cookie buffer must hold the longest cookie. */
	o2 = (json_t *)1;
	rc = sbc_ng_parse_reply(dgram, cl + 1 + tl, again, SBC_NG_COOKIE_MAX,
				&o2, err, sizeof(err));
	FUZZ_CHECK(rc == -1 && o2 == NULL, "short cookie buffer accepted");
	free(dgram);
	free(text);
	json_decref(o);
	return 0;
}
