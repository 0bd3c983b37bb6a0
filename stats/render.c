/*
 * stats render: the table and graph views of the usage tables. The layouts,
 * the measurements they come from and every rule chosen here (grouping,
 * rounding, y scale, marks, header line) are in docs/internals/render.md.
 *
 * Everything is read through stats_read (tables, seconds graph) and
 * stats_read_detail (the other graphs) as of the caller's now_ms, so the
 * output is a pure function of the tables and the arguments. Lines are
 * built in fixed buffers; trailing blanks are never written.
 */
#include "stats/render.h"

#include <inttypes.h>
#include <string.h>

#define GROUPS 12	     /* rows of every table view */
#define GRAPH_ROWS 10	     /* value rows of every graph */
#define MIN_LABEL_WIDTH 5    /* y labels are %5d as in CUBE / IOS XE */
#define MIN_DIGIT_LINES 5    /* CUBE prints the 10^4 .. units places */
#define TITLE_INDENT 10	     /* blanks before a graph's title and legend */
#define HOSTNAME_MAX 63	     /* IOS hostnames are at most 63 characters */
#define LINE_CAP 128	     /* label (<= 20) + blank + 72 columns */

/*
 * One table of a class as both views show it: the stats table, the title
 * suffix, how many buckets make one row of the table view (5 or 6: 12
 * rows either way), and whether the graph draws the bucket's max and avg
 * with the legend under it. The seconds graph draws its single value with
 * '#' and has no legend (CUBE); the others draw `*` up to the bucket's
 * max and `#` up to its avg, as CUBE and IOS CPU history do.
 */
struct period {
	enum stats_table table;
	const char *span;
	size_t group;
	bool detail;
};

static const struct period periods[STATS_TABLE_COUNT] = {
	{STATS_SECONDS, "(last 60 seconds)", 5, false},
	{STATS_MINUTES, "(last 60 minutes)", 5, true},
	{STATS_HOURS, "(last 72 hours)", 6, true},
	{STATS_DAYS, "(last 72 days)", 6, true},
};

#define CLASS_TITLE(id, abbr, name, tag, license, desc, title) title,
static const char *const titles[STATS_CLASS_COUNT] = {CLASSES_ALL(CLASS_TITLE)};

/* The words that select a class: its name and its abbreviation. */
static const char *const class_words[STATS_CLASS_COUNT] = {
	CLASSES_ALL(CLASSES_NAME)};
static const char *const class_abbrs[STATS_CLASS_COUNT] = {
	CLASSES_ALL(CLASSES_ABBR)};

/* CUBE's order, with Redundant (not shown by CUBE) after Enhanced. */
static const enum stats_class all_order[] = {STATS_STANDARD, STATS_ENHANCED,
					     STATS_REDUNDANT, STATS_AGGREGATE,
					     STATS_VGW};
_Static_assert(sizeof(all_order) / sizeof(all_order[0]) == STATS_CLASS_COUNT,
	       "every class has its place in the order of all");

static const char *const weekdays[7] = {
	"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
	"Saturday"};
static const char *const months[12] = {"Jan", "Feb", "Mar", "Apr",
				       "May", "Jun", "Jul", "Aug",
				       "Sep", "Oct", "Nov", "Dec"};

const char *stats_render_title(int cls)
{
	return cls >= 0 && cls < STATS_CLASS_COUNT ? titles[cls] : NULL;
}

/*
 * In the table view CUBE puts two blanks before `(last` except for
 * TDM-SIP, which has one; graphs always have one.
 */
static const char *table_gap(enum stats_class cls)
{
	return cls == STATS_VGW ? " " : "  ";
}

static int ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Whole-word, case-insensitive; stops at the end of `known`. */
static bool word_is(const char *word, const char *known)
{
	size_t i;

	for (i = 0; known[i] != '\0'; i++) {
		if (ascii_lower((unsigned char)word[i]) !=
		    ascii_lower((unsigned char)known[i]))
			return false;
	}
	return word[i] == '\0';
}

int stats_class_parse(const char *word)
{
	int c;

	if (word == NULL)
		return -1;
	for (c = 0; c < STATS_CLASS_COUNT; c++) {
		if (word_is(word, class_words[c]) ||
		    word_is(word, class_abbrs[c]))
			return c;
	}
	return -1;
}

/*
 * Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's
 * days-to-civil algorithm), exact for any int64 day count a millisecond
 * clock can produce, so no dependence on time_t or the C library's
 * gmtime range.
 */
static void civil_from_days(int64_t days, int64_t *year, int *month, int *mday)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int m = (int)(mp < 10 ? mp + 3 : mp - 9);

	*mday = (int)(doy - (153 * mp + 2) / 5 + 1);
	*month = m;
	*year = yoe + era * 400 + (m <= 2);
}

/*
 * The header line `<hostname>   hh:mm:ss AM Weekday Mon d yyyy UTC`, then
 * a blank line: IOS's CPU-history header, which CUBE 17.6 prints above its
 * graphs. 12-hour clock with a zero-padded hour (00:xx is 12 AM), English
 * names whatever the locale, always UTC since the tables are. The hostname
 * is printed as given, cut at 63 bytes, each byte that is not a visible
 * ASCII character (a blank, a newline, UTF-8) shown as '?' so that it
 * cannot break the layout; an absent one leaves the three blanks (as in
 * CUBE's sibling `show call history stats` table sample).
 */
static void put_header(int64_t now_ms, const char *hostname, FILE *out)
{
	int64_t sec = now_ms / 1000 - (now_ms % 1000 < 0);
	int64_t days = sec / 86400 - (sec % 86400 < 0);
	int64_t sod = sec - days * 86400;
	int64_t year;
	int month, mday, hour, wday;
	size_t i;

	for (i = 0; hostname != NULL && i < HOSTNAME_MAX && hostname[i] != '\0';
	     i++) {
		unsigned char c = (unsigned char)hostname[i];

		fputc(c > ' ' && c < 0x7f ? c : '?', out);
	}
	civil_from_days(days, &year, &month, &mday);
	wday = (int)(((days % 7) + 7 + 4) % 7); /* day 0 was a Thursday */
	hour = (int)(sod / 3600) % 12;
	fprintf(out, "   %02d:%02d:%02d %s %s %s %d %" PRId64 " UTC\n\n",
		hour == 0 ? 12 : hour, (int)(sod / 60 % 60), (int)(sod % 60),
		sod < 12 * 3600 ? "AM" : "PM", weekdays[wday],
		months[month - 1], mday, year);
}

/*
 * The buckets of one table, most recent first; rows stats_read does not
 * fill (there are none when the period table matches the stats table)
 * read as empty.
 */
static size_t read_period(const struct stats *s, enum stats_class cls,
			  const struct period *p, int64_t now_ms,
			  uint32_t v[STATS_MAX_ROWS])
{
	size_t n = p->group * GROUPS;

	memset(v, 0, sizeof(v[0]) * STATS_MAX_ROWS);
	stats_read(s, cls, p->table, now_ms, v, NULL, n);
	return n;
}

/*
 * One table: title, header, separator, 12 rows, blank line. A row is a
 * group of 5 (seconds, minutes) or 6 (hours, days) buckets; Average is
 * their mean, empty buckets counting as 0, rounded half up with the
 * exact integer formula (2 sum + n) / 2n; Max is the largest. The %11
 * fields hold any uint32_t (10 digits) with a blank to spare, so the
 * columns never run together.
 */
static void put_table(const struct stats *s, enum stats_class cls,
		      const struct period *p, int64_t now_ms, FILE *out)
{
	uint32_t v[STATS_MAX_ROWS];
	size_t g, i;

	read_period(s, cls, p, now_ms, v);
	fprintf(out, "%s%s%s\n", titles[cls], table_gap(cls), p->span);
	fputs("Period     Average       Max\n"
	      "----------------------------\n",
	      out);
	for (g = 0; g < GROUPS; g++) {
		const uint32_t *row = v + g * p->group;
		uint64_t sum = 0;
		uint32_t max = 0;

		for (i = 0; i < p->group; i++) {
			sum += row[i];
			if (row[i] > max)
				max = row[i];
		}
		fprintf(out, "%2zu-%-2zu%11" PRIu64 "%11" PRIu32 "\n",
			g * p->group + 1, (g + 1) * p->group,
			(2 * sum + p->group) / (2 * p->group), max);
	}
	fputc('\n', out);
}

static int digits_of(uint64_t v)
{
	int n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

/*
 * Row step of a graph: the smallest of 1, 2, 5, 10, 20, 50, ... with ten
 * steps reaching max, so the top row is the first "round" number at or
 * above the largest value and an all-zero graph gets the 10..1 scale CUBE
 * prints when empty. Bounded: 5e9 > UINT32_MAX ends the loop.
 */
static uint64_t graph_step(uint32_t max)
{
	static const uint64_t mantissa[3] = {1, 2, 5};
	uint64_t decade = 1;
	int d, m;

	for (d = 0; d < 10; d++, decade *= 10) {
		for (m = 0; m < 3; m++) {
			if (10 * mantissa[m] * decade >= max)
				return mantissa[m] * decade;
		}
	}
	return 1000000000;
}

/* Write the first len bytes of line without its trailing blanks. */
static void put_line(const char *line, size_t len, FILE *out)
{
	while (len > 0 && line[len - 1] == ' ')
		len--;
	fwrite(line, 1, len, out);
	fputc('\n', out);
}

/*
 * One graph in the IOS XE `show processes cpu history` geometry that CUBE
 * uses: digit lines (the max of each column written vertically, units on
 * the last line, nothing for 0), 10 value rows labelled k x step, the
 * ruler and its second digit line, title, legend, blank line. Column 1
 * (the most recent bucket) is at label width + 1. The scale is set by the
 * largest max. A row is reached by a number that, rounded half up to whole
 * steps, reaches it: 2 x >= (2k - 1) step. A cell reached by the avg is
 * '#', else one reached by the max is '*' (IOS prints # below *); the
 * seconds graph has one number per column (max = avg = the value), so it
 * is all '#'. Labels wider than 5 digits (top above 99999) widen the label
 * column and shift the whole graph right with it; values above 99999 add
 * digit lines on top.
 */
static void put_graph(const struct stats *s, enum stats_class cls,
		      const struct period *p, int64_t now_ms, FILE *out)
{
	uint32_t vmax[STATS_MAX_ROWS], vavg[STATS_MAX_ROWS];
	char line[LINE_CAP];
	size_t cols, i, width;
	uint32_t max = 0;
	uint64_t step, place;
	int ndig, k;

	/* The values; for minutes, hours and days replaced by the maxima. */
	cols = read_period(s, cls, p, now_ms, vmax);
	if (p->detail) {
		memset(vavg, 0, sizeof(vavg));
		stats_read_detail(s, cls, p->table, now_ms, NULL, vmax, vavg,
				  NULL, cols);
	} else {
		memcpy(vavg, vmax, sizeof(vavg));
	}
	for (i = 0; i < cols; i++) {
		if (vmax[i] > max)
			max = vmax[i];
	}
	step = graph_step(max);
	width = (size_t)digits_of(GRAPH_ROWS * step);
	if (width < MIN_LABEL_WIDTH)
		width = MIN_LABEL_WIDTH;
	ndig = digits_of(max);
	if (ndig < MIN_DIGIT_LINES)
		ndig = MIN_DIGIT_LINES;

	for (place = 1, k = 1; k < ndig; k++)
		place *= 10;
	for (; place > 0; place /= 10) {
		memset(line, ' ', width + 1 + cols);
		for (i = 0; i < cols; i++) {
			if (vmax[i] >= place)
				line[width + 1 + i] =
					(char)('0' + vmax[i] / place % 10);
		}
		put_line(line, width + 1 + cols, out);
	}

	for (k = GRAPH_ROWS; k >= 1; k--) {
		uint64_t need = (uint64_t)(2 * k - 1) * step;

		snprintf(line, sizeof(line), "%*" PRIu64 " ", (int)width,
			 (uint64_t)k * step);
		for (i = 0; i < cols; i++) {
			char c = ' ';

			if (2 * (uint64_t)vavg[i] >= need)
				c = '#';
			else if (2 * (uint64_t)vmax[i] >= need)
				c = '*';
			line[width + 1 + i] = c;
		}
		put_line(line, width + 1 + cols, out);
	}

	/*
	 * Ruler: 0 at position 0, the tens digit at every 5th, '.' between;
	 * under it the units digit of 10, 15, 20, ...
	 */
	memset(line, ' ', width);
	for (i = 0; i <= cols; i++) {
		char c = '.';

		if (i == 0)
			c = '0';
		else if (i == 5)
			c = '5';
		else if (i % 5 == 0)
			c = (char)('0' + i / 10 % 10);
		line[width + i] = c;
	}
	put_line(line, width + 1 + cols, out);
	memset(line, ' ', width + 1 + cols);
	for (i = 10; i <= cols; i += 5)
		line[width + i] = (char)('0' + i % 10);
	put_line(line, width + 1 + cols, out);

	fprintf(out, "%*s%s %s\n", TITLE_INDENT, "", titles[cls], p->span);
	if (p->detail)
		fprintf(out, "%*s* = maximum   # = average\n", TITLE_INDENT,
			"");
	fputc('\n', out);
}

typedef void put_fn(const struct stats *s, enum stats_class cls,
		    const struct period *p, int64_t now_ms, FILE *out);

/*
 * The common frame of both views: argument checks (nothing is written on
 * a bad argument), the header once (tables) or before each class (graphs,
 * as CUBE 17.6 does), the four periods of each selected class, and the
 * stream's error state after a flush as the result.
 */
static int render(const struct stats *s, int cls, int64_t now_ms,
		  const char *hostname, FILE *out, put_fn *put,
		  bool header_per_class)
{
	size_t i;
	int t;

	if (s == NULL || out == NULL ||
	    (cls != STATS_RENDER_ALL && (cls < 0 || cls >= STATS_CLASS_COUNT)))
		return -1;
	if (!header_per_class)
		put_header(now_ms, hostname, out);
	for (i = 0; i < STATS_CLASS_COUNT; i++) {
		if (cls != STATS_RENDER_ALL && (int)all_order[i] != cls)
			continue;
		if (header_per_class)
			put_header(now_ms, hostname, out);
		for (t = 0; t < STATS_TABLE_COUNT; t++)
			put(s, all_order[i], &periods[t], now_ms, out);
	}
	if (fflush(out) != 0 || ferror(out))
		return -1;
	return 0;
}

int stats_render_table(const struct stats *s, int cls, int64_t now_ms,
		       const char *hostname, FILE *out)
{
	return render(s, cls, now_ms, hostname, out, put_table, false);
}

int stats_render_graph(const struct stats *s, int cls, int64_t now_ms,
		       const char *hostname, FILE *out)
{
	return render(s, cls, now_ms, hostname, out, put_graph, true);
}
