/*
 * Fuzz target: the configuration parser (sbc/config.h), as sbcd -n and a
 * reload see a file.
 *
 * Input: the file text (up to its first NUL byte, as a text holds).
 * Checks: a refusal names the file and a line; an accepted config prints
 * back (show running-config) to a text that parses again and prints back
 * the same, and its dial-peers build a routing table (sbc/dialpeer.h)
 * that answers lookups.
 */
#include "sbc/config.h"
#include "sbc/dialpeer.h"

#include "fuzz.h"

#include <string.h>

#define NAME "fuzz.conf"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* show running-config of cfg, as a malloc'd text. */
static char *running(const struct sbc_config *cfg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	FUZZ_CHECK(fp != NULL, "open_memstream");
	FUZZ_CHECK(sbc_config_write(cfg, fp) == 0, "sbc_config_write failed");
	fclose(fp);
	return buf;
}

static void check_routing(const struct sbc_config *cfg)
{
	static const char *const numbers[] = {"", "1", "14085551234",
					      "+15551234567", "2000", "*#"};
	struct sbc_dptable *t;
	char err[512] = "";
	size_t i;

	t = sbc_dptable_new(cfg, err, sizeof(err));
	FUZZ_CHECK(t != NULL, "an accepted config gives no routing table: %s",
		   err);
	FUZZ_CHECK(sbc_dptable_count(t) == sbc_config_dialpeer_count(cfg),
		   "%zu dial-peers in the table, %zu configured",
		   sbc_dptable_count(t), sbc_config_dialpeer_count(cfg));
	for (i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		sbc_dptable_inbound(t, numbers[i]);
		sbc_dptable_outbound(t, numbers[i]);
	}
	sbc_dptable_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sbc_config *cfg, *again;
	const struct sbc_settings *s;
	char err[1024], *text = fuzz_text(data, size);
	char *shown, *shown_again;

	err[0] = '\0';
	cfg = sbc_config_parse(NAME, text, err, sizeof(err));
	if (cfg == NULL) {
		FUZZ_CHECK(strncmp(err, NAME ":", strlen(NAME ":")) == 0,
			   "a refusal without the file name: '%s'", err);
		goto out;
	}
	s = sbc_config_settings(cfg);
	FUZZ_CHECK(s->n_listen <= SBC_CFG_MAX_LISTEN, "%zu listen addresses",
		   s->n_listen);
	FUZZ_CHECK(sbc_config_dialpeer_count(cfg) <= SBC_CFG_MAX_DIALPEERS,
		   "%zu dial-peers", sbc_config_dialpeer_count(cfg));
	check_routing(cfg);

	shown = running(cfg);
	again = sbc_config_parse(NAME, shown, err, sizeof(err));
	FUZZ_CHECK(again != NULL, "running-config does not parse: %s\n%s", err,
		   shown);
	shown_again = running(again);
	FUZZ_CHECK(strcmp(shown, shown_again) == 0,
		   "running-config changes when read back:\n%s\n---\n%s",
		   shown, shown_again);
	free(shown_again);
	free(shown);
	sbc_config_free(&again);
	sbc_config_free(&cfg);
out:
	free(text);
	return 0;
}
