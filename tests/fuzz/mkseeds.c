/*
 * fuzz_mkseeds DIR: writes the seed corpus of fuzz_licmsg (one file per
 * input, named <kind letter>-<what>) into DIR: the messages of
 * docs/licensing-protocol.md built by the real builders and signed with the
 * fixed keys of fuzz.h, each as an envelope (lower-case kind) and as the
 * payload the target signs itself (upper case). Run again when the
 * protocol or the keys change; tests/fuzz/corpus/licmsg holds the output.
 */
#include "licensing/envelope.h"
#include "licensing/keys.h"
#include "licensing/policy.h"
#include "licensing/report.h"
#include "licensing/trust.h"

#include "fuzz.h"

#include <jansson.h>
#include <string.h>

#define T0 INT64_C(1700000000)
#define ID1 "9f0c3b5e2a7d4c18b6e1f0a2d3c4b5a6"
#define ID2 "00112233445566778899aabbccddeeff"

static const char *dir;
static const struct fuzz_keys *K;
static const struct lic_udi UDI = {FUZZ_PID, FUZZ_SN};

static const char policy_doc[] =
	"{\"name\":\"Custom Policy\",\"source\":\"Customer Policy\","
	"\"installed_on\":1634211472,\"reporting_ack_required\":true,"
	"\"groups\":{\"perpetual\":{\"first_report_days\":365,"
	"\"reporting_frequency_days\":0,\"report_on_change_days\":90},"
	"\"subscription\":{\"first_report_days\":90,"
	"\"reporting_frequency_days\":90,\"report_on_change_days\":90},"
	"\"enforced\":{\"first_report_days\":365,"
	"\"reporting_frequency_days\":90,\"report_on_change_days\":90},"
	"\"export\":{\"first_report_days\":{\"days\":365,\"source\":"
	"\"Product default\"},\"reporting_frequency_days\":90,"
	"\"report_on_change_days\":90,\"source\":\"Product default\"}}}";
static const char policy_small[] =
	"{\"name\":\"P\",\"reporting_ack_required\":{\"value\":false,"
	"\"source\":\"CISCO default\"},\"groups\":{}}";

static void put(char kind, const char *name, const void *body, size_t len)
{
	char path[4096];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%c-%s", dir, kind, name);
	fp = fopen(path, "wb");
	FUZZ_CHECK(fp != NULL, "cannot write %s", path);
	fputc(kind, fp);
	fwrite(body, 1, len, fp);
	FUZZ_CHECK(fclose(fp) == 0, "cannot write %s", path);
}

/* An envelope as kind `lower`, its verified payload as kind `upper`:
 * what a builder made (rc 0, else build_err says why). */
static void put_env(int rc, const char *build_err, char lower,
		    const char *name, char *env, size_t len,
		    const struct lic_pubkey *pk, const char *type)
{
	char err[512] = "", *payload = NULL;
	size_t plen = 0;

	FUZZ_CHECK(rc == 0, "%c-%s: %s", lower, name, build_err);
	FUZZ_CHECK(env != NULL, "%c-%s: %s", lower, name, err);
	put(lower, name, env, len);
	FUZZ_CHECK(lic_envelope_open(pk, env, len, type, &payload, &plen, err,
				     sizeof(err)) == 0,
		   "%c-%s: %s", lower, name, err);
	put((char)(lower - 'a' + 'A'), name, payload, plen);
	free(payload);
	free(env);
}

static void reports(void)
{
	struct lic_usage_record recs[] = {
		{"42", LIC_TAG_STD, T0 - 604800, T0, 12},
		{"43", LIC_TAG_ENH, T0 - 604800, T0, 3},
		{"65a1b2c3-44", LIC_TAG_VGW, T0, T0, 0},
	};
	struct lic_report_info r = {
		.report_id = ID1,
		.release = "17.6.1a",
		.hostname = "cube1",
		.udi = UDI,
		.ha_group = "grp1",
		.ha_role = LIC_HA_ACTIVE,
		.created_s = T0,
		.records = recs,
		.nrecords = 3,
	};
	char err[512] = "", *env = NULL;
	size_t len = 0;
	int rc;

	rc = lic_report_build(K->device, &r, &env, &len, err, sizeof(err));
	put_env(rc, err, 'r', "full", env, len, K->device_pub,
		LIC_TYPE_REPORT);
	r.hostname = NULL;
	r.ha_group = NULL;
	r.ha_role = LIC_HA_STANDALONE;
	r.nrecords = 0;
	rc = lic_report_build(K->device, &r, &env, &len, err, sizeof(err));
	put_env(rc, err, 'r', "heartbeat", env, len, K->device_pub,
		LIC_TYPE_REPORT);
}

static void acks(void)
{
	const char *ids[] = {ID1, ID2};
	struct lic_ack_info a = {
		.udi = UDI,
		.report_ids = ids,
		.nids = 2,
		.ack_time_s = T0 + 60,
		.policy_json = NULL,
	};
	char err[512] = "", *env = NULL;
	size_t len = 0;
	int rc;

	rc = lic_ack_build(K->server, &a, &env, &len, err, sizeof(err));
	put_env(rc, err, 'a', "two-ids", env, len, K->server_pub,
		LIC_TYPE_ACK);
	a.nids = 1;
	a.policy_json = policy_doc;
	rc = lic_ack_build(K->server, &a, &env, &len, err, sizeof(err));
	put_env(rc, err, 'a', "policy", env, len, K->server_pub, LIC_TYPE_ACK);
}

static void policy_files(void)
{
	char err[512] = "", *env = NULL;
	size_t len = 0;
	int rc;

	rc = lic_policy_file_build(K->server, &UDI, T0, policy_doc, &env, &len,
				   err, sizeof(err));
	put_env(rc, err, 'f', "device", env, len, K->server_pub,
		LIC_TYPE_POLICY);
	rc = lic_policy_file_build(K->server, NULL, T0, policy_small, &env,
				   &len, err, sizeof(err));
	put_env(rc, err, 'f', "account", env, len, K->server_pub,
		LIC_TYPE_POLICY);
}

static void trust(void)
{
	struct lic_trust_request_info r = {
		.token = "MzY0ZTk5YjEtNjA1Zi00ODc5LWE0ZTgtZDY3",
		.udi = UDI,
		.force = false,
		.created_s = T0,
	};
	struct lic_trust_code_info c = {
		.udi = UDI,
		.trust_code = "TC-0123456789abcdef",
		.issued_s = T0,
		.smart_account = "SA-1",
		.virtual_account = "VA-1",
		.policy_json = policy_doc,
	};
	char kid[LIC_KEY_ID_LEN + 1], err[512] = "", *env = NULL, *inner;
	char *payload = NULL;
	size_t len = 0, plen = 0;
	json_t *o;
	int rc;

	rc = lic_trust_request_build(K->device, &r, &env, &len, err,
				     sizeof(err));
	put_env(rc, err, 't', "request", env, len, K->device_pub,
		LIC_TYPE_TRUST_REQUEST);
	r.force = true;
	rc = lic_trust_request_build(K->device, &r, &env, &len, err,
				     sizeof(err));
	put_env(rc, err, 't', "force", env, len, K->device_pub,
		LIC_TYPE_TRUST_REQUEST);

	lic_key_id(K->device, kid);
	c.device_key_id = kid;
	FUZZ_CHECK(lic_trust_answer_build(K->server, &c, &env, &len, err,
					  sizeof(err)) == 0,
		   "%s", err);
	put('n', "answer", env, len);
	/* N: the payload of the envelope inside the body. */
	o = json_loadb(env, len, 0, NULL);
	FUZZ_CHECK(o != NULL, "answer is not JSON");
	inner = json_dumps(json_object_get(o, "envelope"), JSON_COMPACT);
	FUZZ_CHECK(inner != NULL &&
			   lic_envelope_open(K->server_pub, inner,
					     strlen(inner),
					     LIC_TYPE_TRUST_CODE, &payload,
					     &plen, err, sizeof(err)) == 0,
		   "answer envelope: %s", err);
	put('N', "answer", payload, plen);
	free(payload);
	free(inner);
	json_decref(o);
	free(env);
}

static void ack_polls(void)
{
	const char *ids[] = {ID1, ID2};
	struct lic_ack_poll_info p = {
		.udi = UDI, .report_ids = ids, .nids = 2, .created_s = T0};
	char err[512] = "", *env = NULL;
	size_t len = 0;
	int rc;

	rc = lic_ack_poll_build(K->device, &p, &env, &len, err, sizeof(err));
	put_env(rc, err, 'q', "poll", env, len, K->device_pub,
		LIC_TYPE_ACK_POLL);
}

static void others(void)
{
	static const char payload[] =
		"{\"type\":\"usage_report\",\"v\":1,"
		"\"udi\":{\"pid\":\"" FUZZ_PID "\",\"sn\":\"" FUZZ_SN "\"}}";
	static const char *const releases[] = {"17.6.1a", "17.10.1", "16.12.1",
					       "17.03.04a", "17.9"};
	char err[512] = "", name[32], *env = NULL, *text;
	size_t len = 0, i;
	struct lic_policy p;
	int rc;

	rc = lic_envelope_seal(K->device, payload, strlen(payload), &env, &len,
			       err, sizeof(err));
	put_env(rc, err, 'e', "minimal", env, len, K->device_pub,
		LIC_TYPE_REPORT);

	put('p', "custom", policy_doc, strlen(policy_doc));
	put('p', "small", policy_small, strlen(policy_small));
	lic_policy_default(&p);
	text = lic_policy_to_json(&p);
	FUZZ_CHECK(text != NULL, "default policy has no JSON");
	put('p', "default-full", text, strlen(text));
	free(text);

	put('b', "three", "YWJj", 4);
	put('b', "pad1", "YWI=", 4);
	put('b', "pad2", "YQ==", 4);
	put('k', "server-pem", K->server_pem, strlen(K->server_pem));
	put('k', "device-der", K->device_b64, strlen(K->device_b64));
	for (i = 0; i < sizeof(releases) / sizeof(releases[0]); i++) {
		snprintf(name, sizeof(name), "%zu", i);
		put('v', name, releases[i], strlen(releases[i]));
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_mkseeds DIR\n");
		return 2;
	}
	dir = argv[1];
	K = fuzz_keys();
	reports();
	acks();
	policy_files();
	trust();
	ack_polls();
	others();
	return 0;
}
