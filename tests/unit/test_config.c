/*
 * The configuration file: the product's reference sample and a file using every
 * command, defaults, the periodicity raise, every error with its exact
 * message, printing back and re-parsing, loading from disk, and the TLS
 * files a config names (made here with OpenSSL in a temporary directory).
 */
#include "sbc/config.h"
#include "common/log.h"

#include "memtext.h"
#include "testpki.h"
#include "unit.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef NELEM
#endif

/* docs/configuration.md, as written there but for the ports: the parts
 * it shares with what sbc_config_write prints for it. */
#define DOCS_SAMPLE_PEERS                                                \
	"hostname cube1\n"                                                 \
	"!\n"                                                              \
	"voice service voip\n"                                             \
	" mode border-element license periodicity hours 8\n"               \
	" sip\n"                                                           \
	"  listen udp 127.0.0.1 15060\n"                                   \
	"  listen tcp 127.0.0.1 15060\n"                                   \
	"!\n"                                                              \
	"call threshold global max-calls 5000\n"                           \
	"!\n"                                                              \
	"dial-peer voice 100 voip\n"                                       \
	" description calls from the PBX\n"                                \
	" incoming called-number .T\n"                                     \
	"!\n"                                                              \
	"dial-peer voice 200 voip\n"                                       \
	" description carrier A\n"                                         \
	" destination-pattern 1T\n"                                        \
	" session target ipv4:127.0.0.1:5090\n"
#define DOCS_SAMPLE_URL                                                  \
	"license smart url https://127.0.0.1:8443/licensing/v1\n"          \
	"license smart usage interval 1\n"                                 \
	"!\n"                                                              \
	"end\n"

static const char docs_sample[] =
	DOCS_SAMPLE_PEERS
	" session transport udp\n"
	" preference 1\n"
	"!\n"
	"license release 17.6.1a\n"
	"license smart transport smart\n"
	DOCS_SAMPLE_URL;

/* What sbc_config_write prints for it: the defaults (session transport
 * udp, license smart transport smart) left out. */
static const char docs_sample_canonical[] =
	DOCS_SAMPLE_PEERS
	" preference 1\n"
	"!\n"
	"license release 17.6.1a\n"
	DOCS_SAMPLE_URL;

/* Every command, with non-default values and odd but legal spacing. */
static const char full_conf[] =
	"! every command of the subset\n"
	"hostname edge-1.lab_A\n"
	"voice service voip\n"
	"   mode border-element license periodicity days 2\n"
	"   sip\n"
	"     listen udp 127.0.0.1 15060\n"
	"     listen tcp 127.0.0.1 5061\n"
	"     listen tls 0.0.0.0 0\n"
	"     tls certificate /etc/sbc/tls/sbc.crt\n"
	"     tls private-key /etc/sbc/tls/sbc.key\n"
	"     tls ca-file /etc/sbc/tls/trunk-ca.pem\n"
	"     tls verify server\n"
	"   ! a comment inside the block\n"
	"\n"
	"sip-ua\n"
	" timers expires 30000\n"
	"call threshold global max-calls 250\n"
	"call max-duration 3600\n"
	"call shutdown-grace 0\n"
	"voice-gateway ipv4:10.0.0.9:5070 tcp\n"
	"dial-peer voice 100 voip\n"
	" description   inbound from   PBX  \n"
	" incoming called-number +?[2-9]..T\n"
	" session transport tcp\n"
	"dial-peer   voice 200\tvoip\r\n"
	" destination-pattern 1[2-9]..[2-9]......$\n"
	" session target ipv4:192.0.2.10:5090\n"
	" session transport tls\n"
	" preference 3\n"
	"dial-peer voice 2147483647 pots\n"
	" destination-pattern 2...\n"
	" incoming called-number 9T\n"
	" port 0/1/0\n"
	" preference 10\n"
	"license release 17.10.1\n"
	"license smart transport cslu\n"
	"license smart url http://cslu.example:8182/cslu/v1/pi\n"
	"license smart usage interval 3650\n"
	"license smart ca-file /etc/sbc/ca.pem\n"
	"license smart privacy hostname\n"
	"end\n"
	"anything after end is ignored, as in IOS\n";

static struct sbc_config *parse_ok(const char *text)
{
	struct sbc_config *cfg;
	char err[600] = "";

	cfg = sbc_config_parse("t.conf", text, err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	return cfg;
}

static char *write_text(const struct sbc_config *cfg)
{
	struct memtext m;

	ck_assert_int_eq(sbc_config_write(cfg, memtext_open(&m)), 0);
	return memtext_take(&m);
}

UNIT_TCASE("good");

UNIT_TEST(test_docs_sample)
{
	struct sbc_config *cfg = parse_ok(docs_sample);
	const struct sbc_settings *s = sbc_config_settings(cfg);
	const struct sbc_dialpeer_cfg *dp;

	ck_assert_str_eq(s->hostname, "cube1");
	ck_assert(s->border_element);
	ck_assert_uint_eq(s->periodicity_hours, 8);
	ck_assert(!s->periodicity_raised);
	ck_assert_uint_eq(s->n_listen, 2);
	ck_assert_int_eq(s->listen[0].transport, SBC_TP_UDP);
	ck_assert_str_eq(s->listen[0].addr, "127.0.0.1");
	ck_assert_uint_eq(s->listen[0].port, 15060);
	ck_assert_int_eq(s->listen[1].transport, SBC_TP_TCP);
	ck_assert_uint_eq(s->max_calls, 5000);
	ck_assert_str_eq(s->license_release, "17.6.1a");
	ck_assert_int_eq(s->license_transport, SBC_LIC_TP_SMART);
	ck_assert_str_eq(s->license_url,
			 "https://127.0.0.1:8443/licensing/v1");
	ck_assert_uint_eq(s->license_usage_interval_days, 1);
	ck_assert(!s->has_gateway);

	ck_assert_uint_eq(sbc_config_dialpeer_count(cfg), 2);
	dp = sbc_config_dialpeer(cfg, 0);
	ck_assert_uint_eq(dp->tag, 100);
	ck_assert_int_eq(dp->kind, SBC_DP_VOIP);
	ck_assert_uint_eq(dp->line, 11);
	ck_assert_str_eq(dp->description, "calls from the PBX");
	ck_assert_str_eq(dp->incoming_called, ".T");
	ck_assert_str_eq(dp->destination, "");
	ck_assert(!dp->has_target);
	dp = sbc_config_dialpeer(cfg, 1);
	ck_assert_uint_eq(dp->tag, 200);
	ck_assert_uint_eq(dp->line, 15);
	ck_assert_str_eq(dp->description, "carrier A");
	ck_assert_str_eq(dp->destination, "1T");
	ck_assert(dp->has_target);
	ck_assert_str_eq(dp->target_addr, "127.0.0.1");
	ck_assert_uint_eq(dp->target_port, 5090);
	ck_assert_int_eq(dp->transport, SBC_TP_UDP);
	ck_assert_uint_eq(dp->preference, 1);
	ck_assert_ptr_null(sbc_config_dialpeer(cfg, 2));
	sbc_config_free(&cfg);
	ck_assert_ptr_null(cfg);
}
END_TEST

UNIT_TEST(test_full)
{
	struct sbc_config *cfg = parse_ok(full_conf);
	const struct sbc_settings *s = sbc_config_settings(cfg);
	const struct sbc_dialpeer_cfg *dp;

	ck_assert_str_eq(s->hostname, "edge-1.lab_A");
	ck_assert(s->border_element);
	ck_assert_uint_eq(s->periodicity_hours, 48);
	ck_assert_uint_eq(s->n_listen, 3);
	ck_assert_int_eq(s->listen[1].transport, SBC_TP_TCP);
	ck_assert_uint_eq(s->listen[1].port, 5061);
	ck_assert_int_eq(s->listen[2].transport, SBC_TP_TLS);
	ck_assert_str_eq(s->listen[2].addr, "0.0.0.0");
	ck_assert_uint_eq(s->listen[2].port, 0);
	ck_assert_str_eq(s->tls_certificate, "/etc/sbc/tls/sbc.crt");
	ck_assert_str_eq(s->tls_private_key, "/etc/sbc/tls/sbc.key");
	ck_assert_str_eq(s->tls_ca_file, "/etc/sbc/tls/trunk-ca.pem");
	ck_assert_int_eq(s->tls_verify, SBC_TLS_VERIFY_SERVER);
	ck_assert(sbc_config_uses_tls(cfg));
	ck_assert_uint_eq(s->expires_ms, 30000);
	ck_assert_uint_eq(s->max_calls, 250);
	ck_assert_uint_eq(s->max_duration_s, 3600);
	ck_assert_uint_eq(s->shutdown_grace_s, 0);
	ck_assert(s->has_gateway);
	ck_assert_str_eq(s->gateway_addr, "10.0.0.9");
	ck_assert_uint_eq(s->gateway_port, 5070);
	ck_assert_int_eq(s->gateway_transport, SBC_TP_TCP);
	ck_assert_str_eq(s->license_release, "17.10.1");
	ck_assert_int_eq(s->license_transport, SBC_LIC_TP_CSLU);
	ck_assert_str_eq(s->license_url, "http://cslu.example:8182/cslu/v1/pi");
	ck_assert_uint_eq(s->license_usage_interval_days, 3650);
	ck_assert_str_eq(s->license_ca_file, "/etc/sbc/ca.pem");
	ck_assert(s->license_privacy_hostname);

	ck_assert_uint_eq(sbc_config_dialpeer_count(cfg), 3);
	dp = sbc_config_dialpeer(cfg, 0);
	ck_assert_str_eq(dp->description, "inbound from   PBX");
	ck_assert_str_eq(dp->incoming_called, "+?[2-9]..T");
	ck_assert_int_eq(dp->transport, SBC_TP_TCP);
	dp = sbc_config_dialpeer(cfg, 1);
	ck_assert_uint_eq(dp->tag, 200);
	ck_assert_uint_eq(dp->line, 25);
	ck_assert_str_eq(dp->destination, "1[2-9]..[2-9]......$");
	ck_assert_str_eq(dp->target_addr, "192.0.2.10");
	ck_assert_int_eq(dp->transport, SBC_TP_TLS);
	ck_assert_uint_eq(dp->preference, 3);
	dp = sbc_config_dialpeer(cfg, 2);
	ck_assert_uint_eq(dp->tag, 2147483647u);
	ck_assert_int_eq(dp->kind, SBC_DP_POTS);
	ck_assert_str_eq(dp->destination, "2...");
	ck_assert_str_eq(dp->incoming_called, "9T");
	ck_assert_str_eq(dp->port, "0/1/0");
	ck_assert_uint_eq(dp->preference, 10);
	ck_assert(!dp->has_target);
	sbc_config_free(&cfg);
}
END_TEST

static void check_defaults(const struct sbc_config *cfg)
{
	const struct sbc_settings *s = sbc_config_settings(cfg);

	ck_assert_str_eq(s->hostname, "sbc");
	ck_assert_uint_eq(s->n_listen, 0);
	ck_assert(!s->border_element);
	ck_assert_uint_eq(s->periodicity_hours, 168);
	ck_assert(!s->periodicity_raised);
	ck_assert_uint_eq(s->max_calls, 0);
	ck_assert_uint_eq(s->max_duration_s, 14400);
	ck_assert_uint_eq(s->shutdown_grace_s, 30);
	ck_assert_uint_eq(s->expires_ms, 180000);
	ck_assert(!s->has_gateway);
	ck_assert_str_eq(s->license_release, "");
	ck_assert_int_eq(s->license_transport, SBC_LIC_TP_SMART);
	ck_assert_str_eq(s->license_url, "");
	ck_assert_uint_eq(s->license_usage_interval_days, 30);
	ck_assert_str_eq(s->license_ca_file, "");
	ck_assert(!s->license_privacy_hostname);
	ck_assert_str_eq(s->tls_certificate, "");
	ck_assert_str_eq(s->tls_private_key, "");
	ck_assert_str_eq(s->tls_ca_file, "");
	ck_assert_int_eq(s->tls_verify, SBC_TLS_VERIFY_AUTO);
	ck_assert_int_eq(sbc_config_tls_verify(s), SBC_TLS_VERIFY_NONE);
	ck_assert(!sbc_config_uses_tls(cfg));
	ck_assert_uint_eq(sbc_config_dialpeer_count(cfg), 0);
}

static const char *const default_texts[] = {
	"",
	"end\n",
	"! only comments\n   \n\t\n!\n \t ! indented comment\n",
	"end\nhostname ignored-after-end\nnot even a command\n",
	"voice service voip\nsip-ua\n",
};

UNIT_LOOP_TEST(test_defaults, 0, NELEM(default_texts))
{
	struct sbc_config *cfg = parse_ok(default_texts[_i]);

	check_defaults(cfg);
	sbc_config_free(&cfg);
}
END_TEST

UNIT_TEST(test_dialpeer_defaults)
{
	struct sbc_config *cfg = parse_ok("dial-peer voice 7 voip\n");
	const struct sbc_dialpeer_cfg *dp = sbc_config_dialpeer(cfg, 0);

	ck_assert_uint_eq(dp->tag, 7);
	ck_assert_uint_eq(dp->line, 1);
	ck_assert_str_eq(dp->description, "");
	ck_assert_str_eq(dp->incoming_called, "");
	ck_assert_str_eq(dp->destination, "");
	ck_assert(!dp->has_target);
	ck_assert_int_eq(dp->transport, SBC_TP_UDP);
	ck_assert_uint_eq(dp->preference, 0);
	ck_assert_str_eq(dp->port, "");
	sbc_config_free(&cfg);
}
END_TEST

struct period_case {
	const char *line;
	unsigned hours;
	bool raised;
};

static const struct period_case period_cases[] = {
	{" mode border-element", 168, false},
	{" mode border-element license periodicity hours 1", 8, true},
	{" mode border-element license periodicity hours 7", 8, true},
	{" mode border-element license periodicity hours 8", 8, false},
	{" mode border-element license periodicity hours 23", 23, false},
	{" mode border-element license periodicity days 1", 24, false},
	{" mode border-element license periodicity days 30", 720, false},
};

UNIT_LOOP_TEST(test_periodicity, 0, NELEM(period_cases))
{
	const struct period_case *c = &period_cases[_i];
	struct sbc_config *cfg;
	char text[256];

	snprintf(text, sizeof(text), "voice service voip\n%s\n", c->line);
	cfg = parse_ok(text);
	ck_assert(sbc_config_settings(cfg)->border_element);
	ck_assert_uint_eq(sbc_config_settings(cfg)->periodicity_hours,
			  c->hours);
	ck_assert(sbc_config_settings(cfg)->periodicity_raised == c->raised);
	sbc_config_free(&cfg);
}
END_TEST

struct bad_case {
	const char *text;
	const char *err;
};

#define X40 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
#define X128 X40 X40 X40 "xxxxxxxx"

static const struct bad_case bad_cases[] = {
	/* words */
	{"hostname a\ndial-peer voyce 100 voip\n",
	 "bad.conf:2: unknown command: 'dial-peer voyce 100 voip'"},
	{"hostnam x\n", "bad.conf:1: unknown command: 'hostnam x'"},
	/* CUBE commands sbcd does not take: the reason says what. */
	{"interface GigabitEthernet0/0/0\n",
	 "bad.conf:1: not supported: sbcd has no interfaces; it binds the "
	 "`listen` addresses under voice service voip / sip: "
	 "'interface GigabitEthernet0/0/0'"},
	{"voice service voip\n ip address trusted list\n",
	 "bad.conf:2: not supported: no trusted-address list (toll-fraud "
	 "check); limit who reaches the listen addresses with a firewall: "
	 "'ip address trusted list'"},
	{"dial-peer voice 1 voip\n voice-class sip bind control "
	 "source-interface Gi0\n",
	 "bad.conf:2: not supported: sbcd binds the `listen` addresses: "
	 "'voice-class sip bind control source-interface Gi0'"},
	{"voice translation-rule 1\n",
	 "bad.conf:1: not supported yet: number translation: "
	 "'voice translation-rule 1'"},
	{"voice class tenant 1\n",
	 "bad.conf:1: not supported: tenants: 'voice class tenant 1'"},
	/* A first word alone is not enough where two words are needed. */
	{"voice classy uri 1\n",
	 "bad.conf:1: unknown command: 'voice classy uri 1'"},
	{"Hostname x\n", "bad.conf:1: unknown command: 'Hostname x'"},
	{"voice service\n", "bad.conf:1: incomplete command: 'voice service'"},
	{"call\n", "bad.conf:1: incomplete command: 'call'"},
	{"license smart\n", "bad.conf:1: incomplete command: 'license smart'"},
	{"voice service voip\n mode border-element license periodicity\n",
	 "bad.conf:2: incomplete command: "
	 "'mode border-element license periodicity'"},
	{"hostname\n", "bad.conf:1: missing argument: 'hostname'"},
	{"call threshold global max-calls\n",
	 "bad.conf:1: missing argument: 'call threshold global max-calls'"},
	{"dial-peer voice 1\n",
	 "bad.conf:1: missing argument: 'dial-peer voice 1'"},
	{"hostname a b\n", "bad.conf:1: unexpected argument: 'hostname a b'"},
	{"license smart privacy hostname yes\n",
	 "bad.conf:1: unexpected argument: "
	 "'license smart privacy hostname yes'"},
	{"voice service voip\n"
	 " mode border-element license periodicity weeks 2\n",
	 "bad.conf:2: unexpected argument: "
	 "'mode border-element license periodicity weeks 2'"},
	/* modes and indentation */
	{"description foo\n",
	 "bad.conf:1: command not valid in this mode: 'description foo'"},
	{"voice service voip\nmode border-element\n",
	 "bad.conf:2: command not valid in this mode: 'mode border-element'"},
	{"dial-peer voice 1 voip\n end\n",
	 "bad.conf:2: command not valid in this mode: 'end'"},
	{"voice service voip\n listen udp 127.0.0.1 15060\n",
	 "bad.conf:2: command not valid in this mode: "
	 "'listen udp 127.0.0.1 15060'"},
	{" hostname x\n", "bad.conf:1: bad indentation: 'hostname x'"},
	{"hostname x\n description foo\n",
	 "bad.conf:2: bad indentation: 'description foo'"},
	{"dial-peer voice 1 voip\n description a\n   preference 1\n",
	 "bad.conf:3: bad indentation: 'preference 1'"},
	{"voice service voip\n  sip\n listen udp 127.0.0.1 15060\n",
	 "bad.conf:3: bad indentation: 'listen udp 127.0.0.1 15060'"},
	{"voice service voip\n\tsip\n",
	 "bad.conf:2: tab in indentation: 'sip'"},
	/* numbers */
	{"voice service voip\n"
	 " mode border-element license periodicity days 31\n",
	 "bad.conf:2: value out of range 1-30: "
	 "'mode border-element license periodicity days 31'"},
	{"voice service voip\n"
	 " mode border-element license periodicity hours 24\n",
	 "bad.conf:2: value out of range 1-23: "
	 "'mode border-element license periodicity hours 24'"},
	{"voice service voip\n"
	 " mode border-element license periodicity hours 0\n",
	 "bad.conf:2: value out of range 1-23: "
	 "'mode border-element license periodicity hours 0'"},
	{"call threshold global max-calls 0\n",
	 "bad.conf:1: value out of range 1-1000000: "
	 "'call threshold global max-calls 0'"},
	{"call threshold global max-calls 99999999999999999999\n",
	 "bad.conf:1: value out of range 1-1000000: "
	 "'call threshold global max-calls 99999999999999999999'"},
	{"call threshold global max-calls 12a\n",
	 "bad.conf:1: invalid number: 'call threshold global max-calls 12a'"},
	{"call threshold global max-calls -5\n",
	 "bad.conf:1: invalid number: 'call threshold global max-calls -5'"},
	{"call threshold global max-calls +5\n",
	 "bad.conf:1: invalid number: 'call threshold global max-calls +5'"},
	{"call threshold global max-calls 0x10\n",
	 "bad.conf:1: invalid number: 'call threshold global max-calls 0x10'"},
	{"call max-duration 59\n",
	 "bad.conf:1: value out of range 60-604800: 'call max-duration 59'"},
	{"call shutdown-grace 3601\n",
	 "bad.conf:1: value out of range 0-3600: 'call shutdown-grace 3601'"},
	{"sip-ua\n timers expires 999\n",
	 "bad.conf:2: value out of range 1000-300000: 'timers expires 999'"},
	{"license smart usage interval 0\n",
	 "bad.conf:1: value out of range 1-3650: "
	 "'license smart usage interval 0'"},
	/* addresses */
	{"voice service voip\n sip\n  listen udp 127.0.0.256 15060\n",
	 "bad.conf:3: invalid IPv4 address: 'listen udp 127.0.0.256 15060'"},
	{"voice service voip\n sip\n  listen udp localhost 15060\n",
	 "bad.conf:3: invalid IPv4 address: 'listen udp localhost 15060'"},
	{"voice service voip\n sip\n  listen udp 127.0.0.1 65536\n",
	 "bad.conf:3: invalid port: 'listen udp 127.0.0.1 65536'"},
	{"voice service voip\n sip\n  listen udp 127.0.0.1 50x\n",
	 "bad.conf:3: invalid port: 'listen udp 127.0.0.1 50x'"},
	{"voice service voip\n sip\n  listen sctp 127.0.0.1 15060\n",
	 "bad.conf:3: invalid value, expected udp|tcp|tls: "
	 "'listen sctp 127.0.0.1 15060'"},
	{"voice service voip\n sip\n  listen udp 127.0.0.1 15060\n"
	 "  listen tcp 127.0.0.1 15060\n  listen udp 127.0.0.1 15060\n",
	 "bad.conf:5: duplicate listen address: 'listen udp 127.0.0.1 15060'"},
	{"voice service voip\n sip\n"
	 "  listen udp 127.0.0.1 1\n  listen udp 127.0.0.1 2\n"
	 "  listen udp 127.0.0.1 3\n  listen udp 127.0.0.1 4\n"
	 "  listen udp 127.0.0.1 5\n  listen udp 127.0.0.1 6\n"
	 "  listen udp 127.0.0.1 7\n  listen udp 127.0.0.1 8\n"
	 "  listen udp 127.0.0.1 9\n",
	 "bad.conf:11: too many listen addresses (max 8): "
	 "'listen udp 127.0.0.1 9'"},
	{"voice-gateway 10.0.0.1:15060\n",
	 "bad.conf:1: invalid target, expected ipv4:ADDR:PORT: "
	 "'voice-gateway 10.0.0.1:15060'"},
	{"voice-gateway ipv4:10.0.0.1:15060 tls\n",
	 "bad.conf:1: invalid value, expected udp|tcp: "
	 "'voice-gateway ipv4:10.0.0.1:15060 tls'"},
	/* dial-peers */
	{"dial-peer voice 0 voip\n",
	 "bad.conf:1: value out of range 1-2147483647: "
	 "'dial-peer voice 0 voip'"},
	{"dial-peer voice 2147483648 voip\n",
	 "bad.conf:1: value out of range 1-2147483647: "
	 "'dial-peer voice 2147483648 voip'"},
	{"dial-peer voice 1 sip\n",
	 "bad.conf:1: invalid value, expected voip|pots: "
	 "'dial-peer voice 1 sip'"},
	{"dial-peer voice 5 voip\n!\ndial-peer voice 5 pots\n",
	 "bad.conf:3: duplicate dial-peer tag: 'dial-peer voice 5 pots'"},
	{"dial-peer voice 1 voip\n description " X128 "\n",
	 "bad.conf:2: text too long (max 127): 'description " X128 "'"},
	{"dial-peer voice 1 voip\n incoming called-number 1x\n",
	 "bad.conf:2: invalid digit pattern (unknown character 'x'): "
	 "'incoming called-number 1x'"},
	{"dial-peer voice 1 voip\n destination-pattern 1T2\n",
	 "bad.conf:2: invalid digit pattern (T must be last): "
	 "'destination-pattern 1T2'"},
	{"dial-peer voice 1 voip\n destination-pattern [1-\n",
	 "bad.conf:2: invalid digit pattern (unknown character '-'): "
	 "'destination-pattern [1-'"},
	{"dial-peer voice 1 voip\n session target ipv4:127.0.0.1\n",
	 "bad.conf:2: invalid target, expected ipv4:ADDR:PORT: "
	 "'session target ipv4:127.0.0.1'"},
	{"dial-peer voice 1 voip\n session target ipv4:127.0.0.1:0\n",
	 "bad.conf:2: invalid port: 'session target ipv4:127.0.0.1:0'"},
	{"dial-peer voice 1 voip\n session target ipv4:1.2.3:15060\n",
	 "bad.conf:2: invalid IPv4 address: 'session target ipv4:1.2.3:15060'"},
	{"dial-peer voice 1 voip\n session target sip:sbc.example\n",
	 "bad.conf:2: invalid target, expected ipv4:ADDR:PORT: "
	 "'session target sip:sbc.example'"},
	{"dial-peer voice 1 voip\n session transport sctp\n",
	 "bad.conf:2: invalid value, expected udp|tcp|tls: "
	 "'session transport sctp'"},
	{"dial-peer voice 1 voip\n preference 11\n",
	 "bad.conf:2: value out of range 0-10: 'preference 11'"},
	{"voice-gateway ipv4:127.0.0.1:5070\n"
	 "dial-peer voice 3 pots\n session target ipv4:127.0.0.1:5090\n",
	 "bad.conf:3: command not valid on a pots dial-peer: "
	 "'session target ipv4:127.0.0.1:5090'"},
	{"dial-peer voice 3 pots\n session transport tcp\n",
	 "bad.conf:2: command not valid on a pots dial-peer: "
	 "'session transport tcp'"},
	{"dial-peer voice 3 voip\n port 0/1/0\n",
	 "bad.conf:2: command not valid on a voip dial-peer: 'port 0/1/0'"},
	{"dial-peer voice 3 pots\n port 0//1\n",
	 "bad.conf:2: invalid voice port name: 'port 0//1'"},
	{"dial-peer voice 3 pots\n port 0/1/\n",
	 "bad.conf:2: invalid voice port name: 'port 0/1/'"},
	{"hostname a\n  dial-peer voice 200 voip  \n",
	 "bad.conf:2: bad indentation: 'dial-peer voice 200 voip'"},
	{"hostname a\n!\ndial-peer voice  200 voip  \n destination-pattern 1T\n"
	 "!\nhostname b\n",
	 "bad.conf:3: destination-pattern without session target: "
	 "'dial-peer voice  200 voip'"},
	{"dial-peer voice 300 pots\n destination-pattern 2...\n port 0/1/0\n",
	 "bad.conf:1: pots dial-peer needs a voice-gateway: "
	 "'dial-peer voice 300 pots'"},
	/* TLS */
	{"voice service voip\n sip\n  tls certificate sbc.crt\n",
	 "bad.conf:3: not an absolute path: 'tls certificate sbc.crt'"},
	{"voice service voip\n sip\n  tls ca-file ~/ca.pem\n",
	 "bad.conf:3: not an absolute path: 'tls ca-file ~/ca.pem'"},
	{"voice service voip\n sip\n  tls private-key /" X128 X128 "\n",
	 "bad.conf:3: text too long (max 255): 'tls private-key /" X128 X128
	 "'"},
	{"voice service voip\n sip\n  tls verify always\n",
	 "bad.conf:3: invalid value, expected peer|server|none: "
	 "'tls verify always'"},
	{"voice service voip\n sip\n  tls\n",
	 "bad.conf:3: incomplete command: 'tls'"},
	{"voice service voip\n sip\n  tls certificate\n",
	 "bad.conf:3: missing argument: 'tls certificate'"},
	{"voice service voip\n sip\n  tls ca-file /a /b\n",
	 "bad.conf:3: unexpected argument: 'tls ca-file /a /b'"},
	{"tls certificate /a.crt\n",
	 "bad.conf:1: command not valid in this mode: 'tls certificate /a.crt'"},
	{"voice service voip\n sip\n  tls  certificate   /a.crt \n"
	 "  tls ca-file /ca.pem\n",
	 "bad.conf:3: tls certificate without tls private-key: "
	 "'tls  certificate   /a.crt'"},
	{"voice service voip\n sip\n  tls private-key /a.key\n",
	 "bad.conf:3: tls private-key without tls certificate: "
	 "'tls private-key /a.key'"},
	{"voice service voip\n sip\n  tls certificate /a.crt\n"
	 "  tls private-key /a.key\n  tls verify peer\n",
	 "bad.conf:5: tls verify peer needs a tls ca-file: 'tls verify peer'"},
	{"voice service voip\n sip\n  tls verify server\n",
	 "bad.conf:3: tls verify server needs a tls ca-file: "
	 "'tls verify server'"},
	{"voice service voip\n sip\n  listen udp 127.0.0.1 15060\n"
	 "  listen tls 127.0.0.1 15061\n  listen tls 127.0.0.1 15062\n"
	 "  tls ca-file /ca.pem\n",
	 "bad.conf:4: TLS needs tls certificate and tls private-key: "
	 "'listen tls 127.0.0.1 15061'"},
	{"dial-peer voice 1 voip\n!\ndial-peer voice 2 voip\n"
	 " session transport tls\n",
	 "bad.conf:3: TLS needs tls certificate and tls private-key: "
	 "'dial-peer voice 2 voip'"},
	/* other values */
	{"hostname bad!name\n",
	 "bad.conf:1: invalid hostname: 'hostname bad!name'"},
	{"hostname " X40 "xxxxxxxxxxxxxxxxxxxxxxxx\n",
	 "bad.conf:1: invalid hostname: 'hostname " X40
	 "xxxxxxxxxxxxxxxxxxxxxxxx'"},
	{"license release 17..1\n",
	 "bad.conf:1: invalid release version: 'license release 17..1'"},
	{"license release 17.6.1ab\n",
	 "bad.conf:1: invalid release version: 'license release 17.6.1ab'"},
	/* A train alone is ambiguous: 17.3.x mixes enforcement models. */
	{"license release 17.9\n",
	 "bad.conf:1: invalid release version: 'license release 17.9'"},
	{"license release v17\n",
	 "bad.conf:1: invalid release version: 'license release v17'"},
	{"license smart transport http\n",
	 "bad.conf:1: invalid value, expected smart|cslu|off: "
	 "'license smart transport http'"},
	{"license smart url ftp://x\n",
	 "bad.conf:1: invalid URL, expected http:// or https://: "
	 "'license smart url ftp://x'"},
	{"license smart url https://\n",
	 "bad.conf:1: invalid URL, expected http:// or https://: "
	 "'license smart url https://'"},
	/* raw text */
	{"hostname a\001b\n", "bad.conf:1: invalid character: 'hostname a?b'"},
	{"hostname a\rb\n", "bad.conf:1: invalid character: 'hostname a?b'"},
};

UNIT_TCASE("bad");

UNIT_LOOP_TEST(test_bad, 0, NELEM(bad_cases))
{
	const struct bad_case *c = &bad_cases[_i];
	struct sbc_config *cfg;
	char err[1024] = "";

	cfg = sbc_config_parse("bad.conf", c->text, err, sizeof(err));
	ck_assert_msg(cfg == NULL, "accepted: %s", c->text);
	ck_assert_str_eq(err, c->err);
}
END_TEST

/* The quote of an over-long line is shortened and marked. */
UNIT_TEST(test_long_line)
{
	char text[SBC_CFG_MAX_LINE + 8];
	struct sbc_config *cfg;
	char err[256];

	/* exactly SBC_CFG_MAX_LINE characters is fine */
	memset(text, 'x', SBC_CFG_MAX_LINE);
	text[0] = '!';
	text[SBC_CFG_MAX_LINE] = '\0';
	cfg = parse_ok(text);
	sbc_config_free(&cfg);

	strcpy(text + SBC_CFG_MAX_LINE, "x\n");
	cfg = sbc_config_parse("long.conf", text, err, sizeof(err));
	ck_assert_ptr_null(cfg);
	/* the quote stops after 40 characters */
	ck_assert_str_eq(err, "long.conf:1: line too long (max 512): "
			      "'!xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'");
}
END_TEST

/* Generated files: the dial-peer cap and the line cap. */
UNIT_TEST(test_caps)
{
	size_t n = SBC_CFG_MAX_DIALPEERS + 1, len = 0, i;
	size_t size = n * 40 + SBC_CFG_MAX_LINES * 2 + 64;
	struct sbc_config *cfg;
	char *text = malloc(size);
	char err[256];

	ck_assert_ptr_nonnull(text);
	for (i = 1; i < n; i++)
		len += (size_t)snprintf(text + len, size - len,
					"dial-peer voice %zu voip\n", i);
	cfg = parse_ok(text);
	ck_assert_uint_eq(sbc_config_dialpeer_count(cfg),
			  SBC_CFG_MAX_DIALPEERS);
	ck_assert_uint_eq(sbc_config_dialpeer(cfg, 1023)->tag, 1024);
	sbc_config_free(&cfg);

	snprintf(text + len, size - len, "dial-peer voice %zu voip\n", n);
	cfg = sbc_config_parse("many.conf", text, err, sizeof(err));
	ck_assert_ptr_null(cfg);
	ck_assert_str_eq(err, "many.conf:1025: too many dial-peers (max 1024): "
			      "'dial-peer voice 1025 voip'");

	for (len = 0; len < (size_t)SBC_CFG_MAX_LINES * 2; len += 2)
		memcpy(text + len, "!\n", 2);
	strcpy(text + len, "hostname x\n");
	cfg = sbc_config_parse("lines.conf", text, err, sizeof(err));
	ck_assert_ptr_null(cfg);
	ck_assert_str_eq(err, "lines.conf:100001: too many lines (max 100000): "
			      "'hostname x'");
	free(text);
}
END_TEST

/* Collects every error message of one parse. */
struct errlist {
	char msg[SBC_CFG_MAX_ERRORS + 2][600];
	size_t n;
};

static void collect(void *arg, const char *msg)
{
	struct errlist *l = arg;

	ck_assert_uint_lt(l->n, NELEM(l->msg));
	snprintf(l->msg[l->n++], sizeof(l->msg[0]), "%s", msg);
}

/*
 * One pass reports every error, in file order with its line: line errors,
 * the body of a refused dial-peer skipped (no cascade), the checks made at
 * the end; the first error also lands in err.
 */
UNIT_TEST(test_all_errors)
{
	static const char text[] =
		"hostname bad!name\n"			  /* 1 */
		"voice service voip\n"			  /* 2 */
		" sip\n"				  /* 3 */
		"  listen udp 127.0.0.300 15060\n"	  /* 4 */
		"  listen tcp 127.0.0.1 15060\n"	  /* 5 */
		"dial-peer voice 0 voip\n"		  /* 6 */
		" session target ipv4:1.2.3.4:99999\n"	  /* 7: skipped */
		" destination-pattern 1T2\n"		  /* 8: skipped */
		"dial-peer voice 5 voip\n"		  /* 9 */
		" destination-pattern 1T\n"		  /* 10 */
		" preference 11\n"			  /* 11 */
		"call max-duration 1\n"			  /* 12 */
		"bogus command\n"			  /* 13 */
		"  tls verify peer\n"			  /* 14: skipped */
		"hostname x\n"				  /* 15 */
		"  end\n";				  /* 16 */
	static const char *const want[] = {
		"e.conf:1: invalid hostname: 'hostname bad!name'",
		"e.conf:4: invalid IPv4 address: 'listen udp 127.0.0.300 15060'",
		"e.conf:6: value out of range 1-2147483647: "
		"'dial-peer voice 0 voip'",
		"e.conf:11: value out of range 0-10: 'preference 11'",
		"e.conf:12: value out of range 60-604800: "
		"'call max-duration 1'",
		"e.conf:13: unknown command: 'bogus command'",
		"e.conf:16: bad indentation: 'end'",
		"e.conf:9: destination-pattern without session target: "
		"'dial-peer voice 5 voip'",
	};
	struct errlist *l = calloc(1, sizeof(*l));
	char err[600] = "";
	size_t i;

	ck_assert_ptr_nonnull(l);
	ck_assert_ptr_null(sbc_config_parse_each("e.conf", text, collect, l));
	for (i = 0; i < l->n && i < NELEM(want); i++)
		ck_assert_str_eq(l->msg[i], want[i]);
	ck_assert_uint_eq(l->n, NELEM(want));
	/* the one-error form gives the first */
	ck_assert_ptr_null(sbc_config_parse("e.conf", text, err, sizeof(err)));
	ck_assert_str_eq(err, want[0]);
	free(l);
}
END_TEST

/* More than SBC_CFG_MAX_ERRORS: that many, then one "too many" line. */
UNIT_TEST(test_error_cap)
{
	struct errlist *l = calloc(1, sizeof(*l));
	size_t size = 200 * 16, len = 0, i;
	char *text = malloc(size);

	ck_assert_ptr_nonnull(l);
	ck_assert_ptr_nonnull(text);
	for (i = 0; i < 200; i++)
		len += (size_t)snprintf(text + len, size - len, "bogus %zu\n",
					i);
	ck_assert_ptr_null(sbc_config_parse_each("c.conf", text, collect, l));
	ck_assert_uint_eq(l->n, SBC_CFG_MAX_ERRORS + 1);
	ck_assert_str_eq(l->msg[0], "c.conf:1: unknown command: 'bogus 0'");
	ck_assert_str_eq(l->msg[SBC_CFG_MAX_ERRORS - 1],
			 "c.conf:100: unknown command: 'bogus 99'");
	ck_assert_str_eq(l->msg[SBC_CFG_MAX_ERRORS],
			 "c.conf: too many errors (max 100), stopping");
	free(text);
	free(l);
}
END_TEST

/* An over-long line is one error; the lines after it are still read. */
/* Over-long lines of every length near the cap: the next line is read
 * (one that ends exactly at the read limit once hid it). */
static const size_t long_lens[] = {SBC_CFG_MAX_LINE + 1, SBC_CFG_MAX_LINE + 2,
				   SBC_CFG_MAX_LINE + 3, 2 * SBC_CFG_MAX_LINE};

UNIT_LOOP_TEST(test_error_after_long_line, 0, NELEM(long_lens))
{
	struct errlist *l = calloc(1, sizeof(*l));
	char text[2 * SBC_CFG_MAX_LINE + 64];
	size_t n = long_lens[_i];

	ck_assert_ptr_nonnull(l);
	memset(text, 'x', n);
	strcpy(text + n, "\nhostname ok\nbogus\n");
	ck_assert_ptr_null(sbc_config_parse_each("l.conf", text, collect, l));
	ck_assert_uint_eq(l->n, 2);
	ck_assert_str_eq(l->msg[1], "l.conf:3: unknown command: 'bogus'");
	free(l);
}
END_TEST

UNIT_TCASE("write");

/* A reload's licensing values: kept as in force, listed as pending. */
UNIT_TEST(test_keep_licensing)
{
	struct sbc_config *run = parse_ok(
		"license release 17.6.1a\nlicense smart url default\n"
		"license smart usage interval 1\n");
	struct sbc_config *file = parse_ok(
		"voice service voip\n mode border-element license periodicity "
		"days 2\nlicense release 17.9.1\n"
		"license smart url https://192.0.2.1/x\n"
		"license smart proxy address 10.0.0.1\n");
	char *text = NULL;

	ck_assert(sbc_config_endpoint_differs(run, file));
	ck_assert_uint_eq(sbc_config_keep_licensing(file, run, false), 5);
	text = write_text(file);
	ck_assert_str_eq(text,
			 "hostname sbc\n!\nvoice service voip\n"
			 " mode border-element\n!\n"
			 "license release 17.6.1a\nlicense smart url default\n"
			 "license smart usage interval 1\n!\n"
			 "! pending restart: license release 17.9.1\n"
			 "! pending restart: license smart url "
			 "https://192.0.2.1/x\n"
			 "! pending restart: license smart proxy address "
			 "10.0.0.1\n"
			 "! pending restart: no license smart usage interval\n"
			 "! pending restart: mode border-element license "
			 "periodicity days 2\nend\n");
	ck_assert(!sbc_config_endpoint_differs(run, file));
	free(text);
	sbc_config_free(&file);
	file = parse_ok("license release 17.6.1a\n"
			"license smart proxy address 10.0.0.1\n"
			"license smart usage interval 1\n");
	/* the endpoint applied by the caller: only the rest is pending */
	ck_assert_uint_eq(sbc_config_keep_licensing(file, run, true), 0);
	ck_assert_str_eq(sbc_config_settings(file)->license_proxy_host,
			 "10.0.0.1");
	sbc_config_free(&file);
	sbc_config_free(&run);
	/* The file drops a periodicity in force: a `no` line, then `end`. */
	run = parse_ok("voice service voip\n mode border-element license "
		       "periodicity days 2\n");
	file = parse_ok("hostname sbc\n");
	ck_assert_uint_eq(sbc_config_keep_licensing(file, run, true), 1);
	text = write_text(file);
	ck_assert_ptr_nonnull(strstr(text, "! pending restart: no mode "
					   "border-element license "
					   "periodicity\nend\n"));
	free(text);
	sbc_config_free(&file);
	sbc_config_free(&run);
}
END_TEST

static void assert_same(const struct sbc_config *a, const struct sbc_config *b)
{
	const struct sbc_settings *x = sbc_config_settings(a);
	const struct sbc_settings *y = sbc_config_settings(b);
	size_t i;

	ck_assert_str_eq(x->hostname, y->hostname);
	ck_assert_uint_eq(x->n_listen, y->n_listen);
	for (i = 0; i < x->n_listen; i++) {
		ck_assert_int_eq(x->listen[i].transport,
				 y->listen[i].transport);
		ck_assert_str_eq(x->listen[i].addr, y->listen[i].addr);
		ck_assert_uint_eq(x->listen[i].port, y->listen[i].port);
	}
	ck_assert(x->border_element == y->border_element);
	ck_assert_uint_eq(x->periodicity_hours, y->periodicity_hours);
	ck_assert_uint_eq(x->max_calls, y->max_calls);
	ck_assert_uint_eq(x->max_duration_s, y->max_duration_s);
	ck_assert_uint_eq(x->shutdown_grace_s, y->shutdown_grace_s);
	ck_assert_uint_eq(x->expires_ms, y->expires_ms);
	ck_assert(x->has_gateway == y->has_gateway);
	ck_assert_str_eq(x->gateway_addr, y->gateway_addr);
	ck_assert_uint_eq(x->gateway_port, y->gateway_port);
	ck_assert_int_eq(x->gateway_transport, y->gateway_transport);
	ck_assert_str_eq(x->license_release, y->license_release);
	ck_assert_int_eq(x->license_transport, y->license_transport);
	ck_assert_str_eq(x->license_url, y->license_url);
	ck_assert_uint_eq(x->license_usage_interval_days,
			  y->license_usage_interval_days);
	ck_assert_str_eq(x->license_ca_file, y->license_ca_file);
	ck_assert(x->license_privacy_hostname == y->license_privacy_hostname);
	ck_assert_str_eq(x->tls_certificate, y->tls_certificate);
	ck_assert_str_eq(x->tls_private_key, y->tls_private_key);
	ck_assert_str_eq(x->tls_ca_file, y->tls_ca_file);
	ck_assert_int_eq(x->tls_verify, y->tls_verify);

	ck_assert_uint_eq(sbc_config_dialpeer_count(a),
			  sbc_config_dialpeer_count(b));
	for (i = 0; i < sbc_config_dialpeer_count(a); i++) {
		const struct sbc_dialpeer_cfg *p = sbc_config_dialpeer(a, i);
		const struct sbc_dialpeer_cfg *q = sbc_config_dialpeer(b, i);

		ck_assert_uint_eq(p->tag, q->tag);
		ck_assert_int_eq(p->kind, q->kind);
		ck_assert_str_eq(p->description, q->description);
		ck_assert_str_eq(p->incoming_called, q->incoming_called);
		ck_assert_str_eq(p->destination, q->destination);
		ck_assert(p->has_target == q->has_target);
		ck_assert_str_eq(p->target_addr, q->target_addr);
		ck_assert_uint_eq(p->target_port, q->target_port);
		ck_assert_int_eq(p->transport, q->transport);
		ck_assert_uint_eq(p->preference, q->preference);
		ck_assert_str_eq(p->port, q->port);
	}
}

/* TLS settings alone open voice service voip / sip when printed. */
static const char tls_only[] =
	"voice service voip\n"
	" sip\n"
	"  tls certificate /etc/sbc/a.pem\n"
	"  tls private-key /etc/sbc/a.key\n"
	"  tls verify none\n";

static const char *const round_trip_texts[] = {
	docs_sample,
	full_conf,
	tls_only,
	"",
	"voice service voip\n"
	" mode border-element license periodicity hours 3\n",
	"voice service voip\n mode border-element license periodicity days 7\n",
	"voice-gateway ipv4:127.0.0.1:5070\n",
};

/* parse -> write -> parse gives the same config; writing is a fixpoint. */
UNIT_LOOP_TEST(test_round_trip, 0, NELEM(round_trip_texts))
{
	struct sbc_config *a = parse_ok(round_trip_texts[_i]);
	struct sbc_config *b;
	char *first, *second;

	first = write_text(a);
	b = parse_ok(first);
	assert_same(a, b);
	second = write_text(b);
	ck_assert_str_eq(first, second);
	free(first);
	free(second);
	sbc_config_free(&a);
	sbc_config_free(&b);
}
END_TEST

UNIT_TEST(test_write_canonical)
{
	struct sbc_config *cfg = parse_ok(docs_sample);
	char *text = write_text(cfg);

	ck_assert_str_eq(text, docs_sample_canonical);
	free(text);
	sbc_config_free(&cfg);

	cfg = parse_ok(tls_only);
	text = write_text(cfg);
	ck_assert_str_eq(text, "hostname sbc\n!\nvoice service voip\n sip\n"
			       "  tls certificate /etc/sbc/a.pem\n"
			       "  tls private-key /etc/sbc/a.key\n"
			       "  tls verify none\n!\nend\n");
	free(text);
	sbc_config_free(&cfg);

	cfg = parse_ok("");
	text = write_text(cfg);
	ck_assert_str_eq(text, "hostname sbc\n!\nend\n");
	free(text);
	ck_assert_int_eq(sbc_config_write(NULL, stdout), -1);
	sbc_config_free(&cfg);
}
END_TEST

UNIT_TCASE("load");

UNIT_TEST(test_load)
{
	char path[] = "/tmp/test_config_XXXXXX";
	struct sbc_config *cfg;
	char err[512], want[600];
	FILE *fp;
	int fd;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	fp = fdopen(fd, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(docs_sample, fp);
	fclose(fp);
	cfg = sbc_config_load(path, err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_str_eq(sbc_config_settings(cfg)->hostname, "cube1");
	ck_assert_uint_eq(sbc_config_dialpeer_count(cfg), 2);
	sbc_config_free(&cfg);

	/* errors from a file name the file */
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs("hostname a\n\ncall max-duration 1\n", fp);
	fclose(fp);
	ck_assert_ptr_null(sbc_config_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want),
		 "%s:3: value out of range 60-604800: 'call max-duration 1'",
		 path);
	ck_assert_str_eq(err, want);

	unlink(path);
	ck_assert_ptr_null(sbc_config_load(path, err, sizeof(err)));
	snprintf(want, sizeof(want),
		 "%s: cannot open: No such file or directory", path);
	ck_assert_str_eq(err, want);

	ck_assert_ptr_null(sbc_config_load("/", err, sizeof(err)));
	ck_assert_str_eq(err, "/: read error: Is a directory");
}
END_TEST

/* docs/examples/sbcd.conf, found from this file's path, must stay valid. */
UNIT_TEST(test_example_file)
{
	const struct sbc_settings *s;
	struct sbc_config *cfg;
	char path[1024], err[600];
	const char *slash = strrchr(__FILE__, '/');

	ck_assert_ptr_nonnull(slash);
	snprintf(path, sizeof(path), "%.*s/../../docs/examples/sbcd.conf",
		 (int)(slash - __FILE__), __FILE__);
	cfg = sbc_config_load(path, err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	s = sbc_config_settings(cfg);
	ck_assert(s->border_element);
	ck_assert_uint_eq(s->n_listen, 2);
	ck_assert_uint_eq(s->max_calls, 5000);
	ck_assert_str_eq(s->license_release, "17.6.1a");
	ck_assert_uint_eq(sbc_config_dialpeer_count(cfg), 2);
	ck_assert_str_eq(sbc_config_dialpeer(cfg, 0)->incoming_called, ".T");
	ck_assert_str_eq(sbc_config_dialpeer(cfg, 1)->destination, "1T");
	sbc_config_free(&cfg);
}
END_TEST

UNIT_TEST(test_null_safe)
{
	struct sbc_config *cfg = NULL;

	sbc_config_free(&cfg);
	sbc_config_free(NULL);
	ck_assert_ptr_null(sbc_config_settings(NULL));
	ck_assert_uint_eq(sbc_config_dialpeer_count(NULL), 0);
	ck_assert_ptr_null(sbc_config_dialpeer(NULL, 0));
	/* no error buffer: still refused, nothing written */
	ck_assert_ptr_null(sbc_config_parse("x", "bogus\n", NULL, 0));
	ck_assert_str_eq(sbc_transport_name(SBC_TP_TLS), "tls");
}
END_TEST

/* `tls verify` as written and in force. */
struct verify_case {
	const char *lines; /* under voice service voip / sip */
	enum sbc_tls_verify written, in_force;
	bool uses_tls;
};

static const struct verify_case verify_cases[] = {
	{"", SBC_TLS_VERIFY_AUTO, SBC_TLS_VERIFY_NONE, false},
	{"  tls ca-file /ca.pem\n", SBC_TLS_VERIFY_AUTO, SBC_TLS_VERIFY_PEER,
	 false},
	{"  tls ca-file /ca.pem\n  tls verify peer\n", SBC_TLS_VERIFY_PEER,
	 SBC_TLS_VERIFY_PEER, false},
	{"  tls ca-file /ca.pem\n  tls verify server\n", SBC_TLS_VERIFY_SERVER,
	 SBC_TLS_VERIFY_SERVER, false},
	{"  tls ca-file /ca.pem\n  tls verify none\n", SBC_TLS_VERIFY_NONE,
	 SBC_TLS_VERIFY_NONE, false},
	{"  tls verify none\n", SBC_TLS_VERIFY_NONE, SBC_TLS_VERIFY_NONE,
	 false},
	{"  listen tls 127.0.0.1 5061\n", SBC_TLS_VERIFY_AUTO,
	 SBC_TLS_VERIFY_NONE, true},
	/* a later line replaces an earlier one */
	{"  tls verify none\n  tls ca-file /ca.pem\n  tls verify peer\n",
	 SBC_TLS_VERIFY_PEER, SBC_TLS_VERIFY_PEER, false},
};

UNIT_TCASE("good");

UNIT_LOOP_TEST(test_tls_verify, 0, NELEM(verify_cases))
{
	const struct verify_case *c = &verify_cases[_i];
	const struct sbc_settings *s;
	struct sbc_config *cfg;
	char text[512];

	snprintf(text, sizeof(text),
		 "voice service voip\n sip\n"
		 "  tls certificate /a.pem\n  tls private-key /a.key\n%s",
		 c->lines);
	cfg = parse_ok(text);
	s = sbc_config_settings(cfg);
	ck_assert_int_eq(s->tls_verify, c->written);
	ck_assert_int_eq(sbc_config_tls_verify(s), c->in_force);
	ck_assert(sbc_config_uses_tls(cfg) == c->uses_tls);
	ck_assert_str_eq(sbc_tls_verify_name(c->in_force),
			 c->in_force == SBC_TLS_VERIFY_PEER     ? "peer"
			 : c->in_force == SBC_TLS_VERIFY_SERVER ? "server"
								: "none");
	sbc_config_free(&cfg);
}
END_TEST

UNIT_TEST(test_uses_tls)
{
	struct sbc_config *cfg;

	cfg = parse_ok("voice service voip\n sip\n"
		       "  tls certificate /a.pem\n  tls private-key /a.key\n"
		       "dial-peer voice 1 voip\n session transport tcp\n"
		       "dial-peer voice 2 voip\n session transport tls\n");
	ck_assert(sbc_config_uses_tls(cfg));
	sbc_config_free(&cfg);
	cfg = parse_ok("dial-peer voice 1 voip\n session transport tcp\n");
	ck_assert(!sbc_config_uses_tls(cfg));
	sbc_config_free(&cfg);
	ck_assert(!sbc_config_uses_tls(NULL));
	ck_assert_str_eq(sbc_tls_verify_name(SBC_TLS_VERIFY_AUTO), "auto");
	ck_assert_str_eq(sbc_tls_verify_name((enum sbc_tls_verify)9), "?");
}
END_TEST

/* ---- the TLS files: made with OpenSSL in a temporary directory ---- */

static char tls_dir[64];

/* dir/name, opened for writing with `mode`; the caller closes it. */
static FILE *tls_file(const char *name, mode_t mode, char *path, size_t len)
{
	FILE *fp;

	snprintf(path, len, "%s/%s", tls_dir, name);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(chmod(path, mode), 0);
	return fp;
}

/*
 * cert.pem, key.pem (0600), both.pem (key and certificate, 0600),
 * open.key (0644), other.key (another key), enc.key (encrypted), empty.pem,
 * cert600.pem (a certificate, 0600).
 */
static void tls_setup(void)
{
	EVP_PKEY *k = testpki_key(), *other = testpki_key();
	X509 *x = testpki_cert(k);
	char path[128];
	FILE *fp;

	snprintf(tls_dir, sizeof(tls_dir), "/tmp/test_config_tls_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tls_dir));
	fp = tls_file("cert.pem", 0644, path, sizeof(path));
	PEM_write_X509(fp, x);
	fclose(fp);
	fp = tls_file("key.pem", 0600, path, sizeof(path));
	PEM_write_PrivateKey(fp, k, NULL, NULL, 0, NULL, NULL);
	fclose(fp);
	fp = tls_file("both.pem", 0600, path, sizeof(path));
	PEM_write_PrivateKey(fp, k, NULL, NULL, 0, NULL, NULL);
	PEM_write_X509(fp, x);
	fclose(fp);
	fp = tls_file("open.key", 0644, path, sizeof(path));
	PEM_write_PrivateKey(fp, k, NULL, NULL, 0, NULL, NULL);
	fclose(fp);
	fp = tls_file("other.key", 0600, path, sizeof(path));
	PEM_write_PrivateKey(fp, other, NULL, NULL, 0, NULL, NULL);
	fclose(fp);
	fp = tls_file("enc.key", 0600, path, sizeof(path));
	PEM_write_PrivateKey(fp, k, EVP_aes_128_cbc(), NULL, 0, NULL,
			     (void *)"secret");
	fclose(fp);
	fp = tls_file("empty.pem", 0644, path, sizeof(path));
	fclose(fp);
	fp = tls_file("cert600.pem", 0600, path, sizeof(path));
	PEM_write_X509(fp, x);
	fclose(fp);
	X509_free(x);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
}

static void tls_teardown(void)
{
	static const char *const names[] = {
		"cert.pem", "key.pem",	 "both.pem",  "open.key",
		"other.key", "enc.key", "empty.pem", "cert600.pem", "t.conf",
	};
	char path[128];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tls_dir, names[i]);
		unlink(path);
	}
	rmdir(tls_dir);
}

struct file_case {
	const char *cert, *key, *ca; /* names in tls_dir ("/" alone: the dir) */
	int bad_line;		     /* 0: accepted */
	const char *reason;
};

static const struct file_case file_cases[] = {
	{"cert.pem", "key.pem", "cert.pem", 0, NULL},
	{"both.pem", "both.pem", "both.pem", 0, NULL},
	{"nope.pem", "key.pem", "cert.pem", 4,
	 "cannot open file: No such file or directory"},
	{"/", "key.pem", "cert.pem", 4, "not a regular file"},
	{"empty.pem", "key.pem", "cert.pem", 4, "file size outside 1-1048576 bytes"},
	{"key.pem", "key.pem", "cert.pem", 4, "no PEM certificate in file"},
	{"cert.pem", "open.key", "cert.pem", 5,
	 "private key file mode 0644 gives group or other access (chmod 600)"},
	{"cert.pem", "cert.pem", "cert.pem", 5,
	 "private key file mode 0644 gives group or other access (chmod 600)"},
	{"cert.pem", "other.key", "cert.pem", 5,
	 "private key does not match tls certificate"},
	{"cert.pem", "enc.key", "cert.pem", 5,
	 "encrypted private key (not supported)"},
	{"cert.pem", "cert600.pem", "cert.pem", 5, "no PEM private key in file"},
	{"cert.pem", "key.pem", "key.pem", 6, "no PEM certificate in file"},
	{"cert.pem", "key.pem", "nope.pem", 6,
	 "cannot open file: No such file or directory"},
};

static void file_path(const char *name, char *out, size_t len)
{
	if (strcmp(name, "/") == 0)
		snprintf(out, len, "%s", tls_dir);
	else
		snprintf(out, len, "%s/%s", tls_dir, name);
}

UNIT_TCASE("tls files", .setup = tls_setup, .teardown = tls_teardown);

/*
 * sbc_config_load opens the files (errors name the config file and the
 * line); sbc_config_parse of the same text does not.
 */
UNIT_LOOP_TEST(test_check_files, 0, NELEM(file_cases))
{
	const struct file_case *c = &file_cases[_i];
	char cert[128], key[128], ca[128], conf[128], text[1024];
	char err[1024] = "", want[1024];
	const char *lines[3] = {cert, key, ca};
	struct sbc_config *cfg;
	FILE *fp;

	file_path(c->cert, cert, sizeof(cert));
	file_path(c->key, key, sizeof(key));
	file_path(c->ca, ca, sizeof(ca));
	snprintf(text, sizeof(text),
		 "voice service voip\n sip\n  listen tls 127.0.0.1 5061\n"
		 "  tls certificate %s\n  tls private-key %s\n"
		 "  tls ca-file %s\n",
		 cert, key, ca);
	cfg = parse_ok(text);
	sbc_config_free(&cfg);

	fp = tls_file("t.conf", 0644, conf, sizeof(conf));
	fputs(text, fp);
	fclose(fp);
	cfg = sbc_config_load(conf, err, sizeof(err));
	if (c->bad_line == 0) {
		ck_assert_msg(cfg != NULL, "%s", err);
		ck_assert_str_eq(sbc_config_settings(cfg)->tls_private_key,
				 key);
		ck_assert_int_eq(sbc_config_check_files(cfg, err, sizeof(err)),
				 0);
		sbc_config_free(&cfg);
		return;
	}
	ck_assert_ptr_null(cfg);
	snprintf(want, sizeof(want), "%s:%d: %s: 'tls %s %s'", conf,
		 c->bad_line, c->reason,
		 c->bad_line == 4   ? "certificate"
		 : c->bad_line == 5 ? "private-key"
				    : "ca-file",
		 lines[c->bad_line - 4]);
	ck_assert_str_eq(err, want);
}
END_TEST

/*
 * `license smart ca-file` is checked like the TLS files, a relative path
 * taken from the config file's directory (stored resolved); every file
 * error of the config is reported.
 */
UNIT_TEST(test_license_ca_file)
{
	char conf[128], want[1024], cert[128];
	struct errlist *l = calloc(1, sizeof(*l));
	struct sbc_config *cfg;
	char *real;
	FILE *fp;

	ck_assert_ptr_nonnull(l);
	fp = tls_file("lic.conf", 0644, conf, sizeof(conf));
	fputs("license smart ca-file cert.pem\n", fp);
	fclose(fp);
	cfg = sbc_config_load_each(conf, collect, l);
	ck_assert_msg(cfg != NULL, "%s", l->msg[0]);
	file_path("cert.pem", cert, sizeof(cert));
	real = realpath(cert, NULL);
	ck_assert_ptr_nonnull(real);
	ck_assert_str_eq(sbc_config_settings(cfg)->license_ca_file, real);
	free(real);
	sbc_config_free(&cfg);

	fp = fopen(conf, "w");
	fputs("license smart ca-file key.pem\n"
	      "voice service voip\n sip\n  tls ca-file /nonexistent/ca.pem\n",
	      fp);
	fclose(fp);
	ck_assert_ptr_null(sbc_config_load_each(conf, collect, l));
	ck_assert_uint_eq(l->n, 2);
	snprintf(want, sizeof(want),
		 "%s:4: cannot open file: No such file or directory: "
		 "'tls ca-file /nonexistent/ca.pem'",
		 conf);
	ck_assert_str_eq(l->msg[0], want);
	real = realpath(conf, NULL);
	ck_assert_ptr_nonnull(real);
	*strrchr(real, '/') = '\0';
	snprintf(want, sizeof(want),
		 "%s:1: no PEM certificate in file (%s/key.pem): "
		 "'license smart ca-file key.pem'",
		 conf, real);
	ck_assert_str_eq(l->msg[1], want);
	free(real);
	free(l);
}
END_TEST

UNIT_TEST(test_check_files_none)
{
	struct sbc_config *cfg = parse_ok(docs_sample);
	char err[64] = "";

	ck_assert_int_eq(sbc_config_check_files(cfg, err, sizeof(err)), 0);
	ck_assert_str_eq(err, "");
	ck_assert_int_eq(sbc_config_check_files(NULL, err, sizeof(err)), -1);
	sbc_config_free(&cfg);
}
END_TEST

/* ---- trunk commands: codecs, DTMF, keepalive, name servers ---- */

static const char trunk_text[] =
	"hostname cube1\n"
	"!\n"
	"voice service voip\n"
	" allow-connections sip to sip\n"
	"!\n"
	"ip name-server 127.0.0.53 10.0.0.2\n"
	"ip name-server port 5353\n"
	"!\n"
	"voice class codec 1\n"
	" codec preference 2 g711alaw\n"
	" codec preference 1 g729r8\n"
	" codec preference 14 opus\n"
	"!\n"
	"voice class sip-options-keepalive 7\n"
	" up-interval 2\n"
	" retry 3\n"
	"!\n"
	"dial-peer voice 200 voip\n"
	" destination-pattern 1T\n"
	" session protocol sipv2\n"
	" session target ipv4:127.0.0.1:5090\n"
	" voice-class codec 1\n"
	" dtmf-relay rtp-nte\n"
	" no vad\n"
	" voice-class sip options-keepalive profile 7\n"
	"!\n"
	"dial-peer voice 300 voip\n"
	" destination-pattern 2T\n"
	" session target ipv4:127.0.0.1:5091\n"
	" codec g722-64\n"
	"!\n"
	"dial-peer voice 400 voip\n"
	" destination-pattern 3T\n"
	" session target dns:Carrier-1.Example.NET\n"
	"!\n"
	"dial-peer voice 500 voip\n"
	" destination-pattern 4T\n"
	" session target dns:sip.carrier.test:5070\n"
	"!\n"
	"end\n";

/* As printed back: IOS order inside each block, defaults left out. */
static const char trunk_canonical[] =
	"hostname cube1\n"
	"!\n"
	"voice service voip\n"
	" allow-connections sip to sip\n"
	"!\n"
	"ip name-server 127.0.0.53 10.0.0.2\n"
	"ip name-server port 5353\n"
	"!\n"
	"voice class codec 1\n"
	" codec preference 1 g729r8\n"
	" codec preference 2 g711alaw\n"
	" codec preference 14 opus\n"
	"!\n"
	"voice class sip-options-keepalive 7\n"
	" up-interval 2\n"
	" retry 3\n"
	"!\n"
	"dial-peer voice 200 voip\n"
	" destination-pattern 1T\n"
	" session target ipv4:127.0.0.1:5090\n"
	" session protocol sipv2\n"
	" voice-class codec 1\n"
	" dtmf-relay rtp-nte\n"
	" no vad\n"
	" voice-class sip options-keepalive profile 7\n"
	"!\n"
	"dial-peer voice 300 voip\n"
	" destination-pattern 2T\n"
	" session target ipv4:127.0.0.1:5091\n"
	" codec g722-64\n"
	"!\n"
	"dial-peer voice 400 voip\n"
	" destination-pattern 3T\n"
	" session target dns:carrier-1.example.net\n"
	"!\n"
	"dial-peer voice 500 voip\n"
	" destination-pattern 4T\n"
	" session target dns:sip.carrier.test:5070\n"
	"!\n"
	"end\n";

UNIT_TCASE("trunk");

UNIT_TEST(test_trunk)
{
	struct sbc_config *cfg = parse_ok(trunk_text), *again;
	const struct sbc_settings *s = sbc_config_settings(cfg);
	const struct sbc_dialpeer_cfg *dp = sbc_config_dialpeer(cfg, 0);
	char *text = write_text(cfg), *text2;

	ck_assert(s->allow_sip_to_sip);
	ck_assert_uint_eq(s->n_name_server, 2);
	ck_assert_str_eq(s->name_server[1], "10.0.0.2");
	ck_assert_uint_eq(dp->codec_class, 1);
	ck_assert_uint_eq(dp->sdp.n_codecs, 3);
	ck_assert_int_eq(dp->sdp.codecs[0], SBC_CODEC_G729R8);
	ck_assert_int_eq(dp->sdp.codecs[1], SBC_CODEC_G711ALAW);
	ck_assert_int_eq(dp->sdp.codecs[2], SBC_CODEC_OPUS);
	ck_assert(dp->sdp.add_nte && dp->dtmf_nte && dp->no_vad &&
		  dp->proto_sipv2);
	ck_assert_uint_eq(dp->ka_profile, 7);
	ck_assert_uint_eq(dp->ka.up_s, 2);
	ck_assert_uint_eq(dp->ka.down_s, 30);
	ck_assert_uint_eq(dp->ka.retry, 3);
	dp = sbc_config_dialpeer(cfg, 1);
	ck_assert_int_eq(dp->codec, SBC_CODEC_G722_64);
	ck_assert_uint_eq(dp->sdp.n_codecs, 1);
	ck_assert(!dp->sdp.add_nte);
	ck_assert_uint_eq(dp->ka_profile, 0);
	ck_assert_uint_eq(s->name_server_port, 5353);
	dp = sbc_config_dialpeer(cfg, 2);
	ck_assert(dp->target_dns && dp->has_target);
	ck_assert_str_eq(dp->target_host, "carrier-1.example.net");
	ck_assert_uint_eq(dp->target_port, 0);
	dp = sbc_config_dialpeer(cfg, 3);
	ck_assert_str_eq(dp->target_host, "sip.carrier.test");
	ck_assert_uint_eq(dp->target_port, 5070);
	ck_assert_str_eq(text, trunk_canonical);
	again = parse_ok(text);
	text2 = write_text(again);
	ck_assert_str_eq(text, text2);
	free(text);
	free(text2);
	sbc_config_free(&cfg);
	sbc_config_free(&again);
}
END_TEST

/* Refused trunk commands: the reason names what is not supported. */
static const struct bad_case trunk_bad[] = {
	{"voice service voip\n allow-connections h323 to sip\n",
	 "allow-connections h323 to sip not supported (only sip to sip)"},
	{"voice service voip\n allow-connections sip from sip\n",
	 "expected allow-connections <from> to <to>"},
	{"dial-peer voice 1 voip\n session protocol sipv3\n",
	 "session protocol sipv3 not supported (only sipv2)"},
	{"dial-peer voice 1 voip\n dtmf-relay sip-notify\n",
	 "dtmf-relay sip-notify not supported (only rtp-nte)"},
	{"dial-peer voice 1 voip\n codec g711\n",
	 "codec not supported, expected g711ulaw|g711alaw|"},
	{"dial-peer voice 1 voip\n codec g711ulaw bytes 160\n",
	 "unexpected argument"},
	{"dial-peer voice 1 voip\n voice-class codec 5\n",
	 "voice class codec 5 not defined above"},
	{"voice class codec 5\n!\ndial-peer voice 1 voip\n"
	 " voice-class codec 5\n",
	 "voice class codec 5 has no codec"},
	{"voice class codec 1\n codec preference 15 g711ulaw\n",
	 "value out of range 1-14"},
	{"voice class codec 1\n codec preference 1 g711ulaw\n"
	 " codec preference 1 g711alaw\n",
	 "preference 1 already set"},
	{"voice class codec 1\n codec preference 1 g711ulaw\n"
	 " codec preference 2 g711ulaw\n",
	 "codec already at preference 1"},
	{"voice class codec 1\n!\nvoice class codec 1\n",
	 "duplicate voice class codec tag"},
	{"voice class codec 0\n", "value out of range 1-10000"},
	{"dial-peer voice 1 pots\n codec g711ulaw\n",
	 "command not valid on a pots dial-peer"},
	{"dial-peer voice 1 voip\n"
	 " voice-class sip options-keepalive profile 3\n",
	 "voice class sip-options-keepalive 3 not defined above"},
	{"voice class sip-options-keepalive 3\n retry 11\n",
	 "value out of range 1-10"},
	{"voice class sip-options-keepalive 3\n up-interval 0\n",
	 "value out of range 1-1200"},
	{"voice class sip-options-keepalive 3\n down-interval 1201\n",
	 "value out of range 1-1200"},
	{"ip name-server 1.2.3.4 1.2.3.4\n", "duplicate name server"},
	{"ip name-server dns.example\n", "invalid IPv4 address"},
	{"ip name-server 1.1.1.1 1.1.1.2 1.1.1.3 1.1.1.4 1.1.1.5 1.1.1.6 "
	 "1.1.1.7\n",
	 "unexpected argument"},
	{"ip name-server 1.1.1.1 1.1.1.2 1.1.1.3 1.1.1.4 1.1.1.5 1.1.1.6\n"
	 "ip name-server 1.1.1.7\n",
	 "too many name servers (max 6)"},
	{"codec preference 1 g711ulaw\n", "command not valid in this mode"},
	{"ip name-server port 0\n", "invalid port"},
	{"dial-peer voice 1 voip\n session target dns:\n",
	 "invalid target, expected dns:NAME[:PORT]"},
	{"dial-peer voice 1 voip\n session target dns:a..b\n",
	 "invalid host name"},
	{"dial-peer voice 1 voip\n session target dns:-a.b\n",
	 "invalid host name"},
	{"dial-peer voice 1 voip\n session target dns:a-.b\n",
	 "invalid host name"},
	{"dial-peer voice 1 voip\n session target dns:a_b.c\n",
	 "invalid host name"},
	{"dial-peer voice 1 voip\n session target dns:10.0.0.1\n",
	 "invalid host name"},
	{"dial-peer voice 1 voip\n session target dns:a.b:0\n",
	 "invalid port"},
	{"dial-peer voice 1 voip\n session target dns:a.b:99999\n",
	 "invalid port"},
	{"dial-peer voice 1 pots\n session target dns:a.b\n",
	 "command not valid on a pots dial-peer"},
	{"dial-peer voice 1 voip\n session target "
	 "dns:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	 ".b\n",
	 "invalid host name"},
};

UNIT_LOOP_TEST(test_trunk_bad, 0, NELEM(trunk_bad))
{
	const struct bad_case *c = &trunk_bad[_i];
	struct sbc_config *cfg;
	char err[1024] = "";

	cfg = sbc_config_parse("bad.conf", c->text, err, sizeof(err));
	ck_assert_msg(cfg == NULL, "accepted: %s", c->text);
	ck_assert_msg(strstr(err, c->err) != NULL, "%s: got '%s'", c->text,
		      err);
}
END_TEST

UNIT_TCASE("tls files", .setup = tls_setup, .teardown = tls_teardown);

/* `service timestamps`: the stamp bits, printed back as written. */
UNIT_TEST(test_timestamps)
{
	static const char full[] =
		"service timestamps log datetime msec localtime show-timezone "
		"year\n";
	struct sbc_config *cfg = parse_ok(full);
	const struct sbc_settings *s = sbc_config_settings(cfg);
	char *buf = NULL, err[256] = "";

	ck_assert_uint_eq(s->log_stamp,
			  LOG_STAMP_IOS | LOG_STAMP_MSEC | LOG_STAMP_TZ |
				  LOG_STAMP_YEAR | SBC_STAMP_LOCALTIME);
	buf = write_text(cfg);
	ck_assert_ptr_nonnull(strstr(buf, full));
	free(buf);
	sbc_config_free(&cfg);
	cfg = parse_ok("service timestamps debug datetime msec\n");
	ck_assert_uint_eq(sbc_config_settings(cfg)->log_stamp, 0);
	ck_assert_uint_eq(sbc_config_settings(cfg)->debug_stamp,
			  LOG_STAMP_IOS | LOG_STAMP_MSEC);
	sbc_config_free(&cfg);
	cfg = parse_ok("hostname x\n");
	ck_assert_uint_eq(sbc_config_settings(cfg)->log_stamp, 0);
	sbc_config_free(&cfg);
	cfg = sbc_config_parse("t.conf", "service timestamps log datetime ms\n",
			       err, sizeof(err));
	ck_assert_ptr_null(cfg);
	ck_assert_ptr_nonnull(strstr(err, "expected msec|localtime|"));
}
END_TEST

UNIT_MAIN("config")
