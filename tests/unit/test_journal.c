// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* The version-0 journal: the exact line format, round trips, torn tails, bad input. */
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_tree.h"

#include <linux/types.h>
#include "actgate/abi.h"

#include "journal/v0.h"

#define SAMPLE_LINE                                                                            \
	"1795871657123456789\texec\tdeny\tenforce\trule\t7\t12345\t100\t101\t1\t1000\t3\tcurl\t" \
	"ci-runner\talice@example.com\tenv=ci,team=infra\tci-runner\tci-runner:exec.deny[0]\t"   \
	"/usr/bin/curl\t\t.\n"

/* The same record as a line written before the access field (20 fields). */
#define SAMPLE_LINE_WITHOUT_ACCESS                                                             \
	"1795871657123456789\texec\tdeny\tenforce\trule\t7\t12345\t100\t101\t1\t1000\t3\tcurl\t" \
	"ci-runner\talice@example.com\tenv=ci,team=infra\tci-runner\tci-runner:exec.deny[0]\t"   \
	"/usr/bin/curl\t.\n"

struct fixture {
	char dir[64];
	char path[128]; /* dir/decisions.log */
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	strcpy(fx->dir, "/tmp/actgate-test-journal-XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/%s", fx->dir, JOURNAL_FILE_NAME);
	umask(022);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	remove_tree(fx->dir);
	free(fx);
	return 0;
}

static void sample_record(struct journal_record *r, uint64_t time_ns)
{
	memset(r, 0, sizeof(*r));
	r->time_ns = time_ns;
	r->action = ACTGATE_ACTION_EXEC;
	r->verdict = ACTGATE_VERDICT_DENY;
	r->mode = ACTGATE_MODE_ENFORCE;
	r->reason = ACTGATE_REASON_RULE;
	r->workload_id = 7;
	r->cgroup_id = 12345;
	r->pid = 100;
	r->tgid = 101;
	r->ppid = 1;
	r->uid = 1000;
	r->generation = 3;
	strcpy(r->comm, "curl");
	r->workload = strdup("ci-runner");
	r->principal = strdup("alice@example.com");
	r->labels = strdup("env=ci,team=infra");
	r->policy = strdup("ci-runner");
	r->rule = strdup("ci-runner:exec.deny[0]");
	r->target = strdup("/usr/bin/curl");
}

/* Every field differs from the sample and every text field holds what needs escaping. */
static void hostile_record(struct journal_record *r)
{
	memset(r, 0, sizeof(*r));
	r->time_ns = UINT64_MAX;
	r->action = ACTGATE_ACTION_CONNECT;
	r->verdict = ACTGATE_VERDICT_ALLOW;
	r->mode = ACTGATE_MODE_AUDIT;
	r->reason = ACTGATE_REASON_NO_POLICY;
	r->workload_id = UINT64_MAX - 1;
	r->cgroup_id = 1;
	r->pid = UINT32_MAX;
	r->tgid = UINT32_MAX - 1;
	r->ppid = 0;
	r->uid = 65534;
	r->generation = UINT32_MAX;
	memcpy(r->comm, "a\tb\\c\nd\re\x01\x7f" "fghij", 16); /* 16 bytes, no NUL in the array */
	r->comm[16] = '\0';
	r->workload = strdup("w\tw\\t\nx");
	r->principal = strdup("\\\\\\x41\\");
	r->labels = strdup("k=v\t1,k2=\n");
	r->policy = strdup("caf\xc3\xa9 \xff\xfe");
	r->rule = strdup("\x1b[31mred\x1b[0m\r\n");
	r->target = strdup("[::1]:80/tcp\t.");
	r->access = ACTGATE_ACCESS_ALL;
}

static void assert_records_equal(const struct journal_record *a, const struct journal_record *b)
{
	assert_int_equal(a->time_ns, b->time_ns);
	assert_int_equal(a->action, b->action);
	assert_int_equal(a->verdict, b->verdict);
	assert_int_equal(a->mode, b->mode);
	assert_int_equal(a->reason, b->reason);
	assert_int_equal(a->workload_id, b->workload_id);
	assert_int_equal(a->cgroup_id, b->cgroup_id);
	assert_int_equal(a->pid, b->pid);
	assert_int_equal(a->tgid, b->tgid);
	assert_int_equal(a->ppid, b->ppid);
	assert_int_equal(a->uid, b->uid);
	assert_int_equal(a->generation, b->generation);
	assert_int_equal(a->access, b->access);
	assert_string_equal(a->comm, b->comm);
	assert_string_equal(a->workload ? a->workload : "", b->workload);
	assert_string_equal(a->principal ? a->principal : "", b->principal);
	assert_string_equal(a->labels ? a->labels : "", b->labels);
	assert_string_equal(a->policy ? a->policy : "", b->policy);
	assert_string_equal(a->rule ? a->rule : "", b->rule);
	assert_string_equal(a->target ? a->target : "", b->target);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}

static void spit(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/*
 * Read every record of path into recs (up to max); returns the count, the
 * skipped count in *skipped and what the reader said in *said (malloc'd).
 */
static size_t read_all(const char *path, struct journal_record *recs, size_t max,
		       unsigned long *skipped, char **said)
{
	struct journal_record rec = { 0 };
	struct journal_reader r;
	size_t count = 0, said_len;
	FILE *err = open_memstream(said, &said_len);
	int ret;

	assert_non_null(err);
	assert_int_equal(journal_reader_open_err(&r, path, err, "test"), 0);
	while ((ret = journal_read(&r, &rec)) == 1) {
		assert_true(count < max);
		recs[count++] = rec;
		memset(&rec, 0, sizeof(rec));
	}
	assert_int_equal(ret, 0);
	*skipped = r.skipped;
	journal_reader_close(&r);
	fclose(err);
	return count;
}

static void clear_all(struct journal_record *recs, size_t n)
{
	while (n--)
		journal_record_clear(&recs[n]);
}

static void test_format_line_exact(void **state)
{
	struct journal_record r;
	char *line;
	size_t len;

	(void)state;
	sample_record(&r, 1795871657123456789ull);
	assert_int_equal(journal_format_line(&r, &line, &len), 0);
	assert_int_equal(len, strlen(SAMPLE_LINE));
	assert_memory_equal(line, SAMPLE_LINE, len);
	free(line);
	journal_record_clear(&r);

	hostile_record(&r);
	assert_int_equal(journal_format_line(&r, &line, &len), 0);
	assert_string_equal(
		line, "18446744073709551615\tconnect\tallow\taudit\tno-policy\t18446744073709551614\t1\t"
		      "4294967295\t4294967294\t0\t65534\t4294967295\t"
		      "a\\tb\\\\c\\nd\\re\\x01\\x7ffghij\t"
		      "w\\tw\\\\t\\nx\t\\\\\\\\\\\\x41\\\\\tk=v\\t1,k2=\\n\tcaf\xc3\xa9 \xff\xfe\t"
		      "\\x1b[31mred\\x1b[0m\\r\\n\t[::1]:80/tcp\\t.\tread,write,create,exec-map\t.\n");
	free(line);
	journal_record_clear(&r);

	/* NULL strings are written empty. */
	memset(&r, 0, sizeof(r));
	r.action = ACTGATE_ACTION_OPEN;
	assert_int_equal(journal_format_line(&r, &line, &len), 0);
	assert_string_equal(line, "0\topen\tallow\tenforce\tdefault\t0\t0\t0\t0\t0\t0\t0\t\t\t\t\t\t\t\t\t.\n");
	free(line);

	/* Accesses in slot order, whatever order the bits were set in. */
	r.access = ACTGATE_ACCESS_EXEC_MAP | ACTGATE_ACCESS_READ;
	assert_int_equal(journal_format_line(&r, &line, &len), 0);
	assert_non_null(strstr(line, "\tread,exec-map\t.\n"));
	free(line);
}

static void test_format_rejects_unnamed_enums(void **state)
{
	struct journal_record r;
	char *line = (char *)"x";
	size_t len = 1;

	(void)state;
	sample_record(&r, 1);
	r.action = ACTGATE_ACTION_NONE;
	assert_int_equal(journal_format_line(&r, &line, &len), -EINVAL);
	assert_null(line);
	r.action = ACTGATE_ACTION_EXEC;
	r.verdict = 7;
	assert_int_equal(journal_format_line(&r, &line, &len), -EINVAL);
	r.verdict = 0;
	r.mode = 2;
	assert_int_equal(journal_format_line(&r, &line, &len), -EINVAL);
	r.mode = 0;
	r.reason = ACTGATE_REASON_DISCONNECTED + 1;
	assert_int_equal(journal_format_line(&r, &line, &len), -EINVAL);
	r.reason = 0;
	r.access = 0x20; /* no such access */
	assert_int_equal(journal_format_line(&r, &line, &len), -EINVAL);
	journal_record_clear(&r);
}

static void test_writer_creates_dir_and_file(void **state)
{
	struct fixture *fx = *state;
	struct journal_writer w;
	struct journal_record r;
	char dir[128], path[160], *text;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/new", fx->dir);
	snprintf(path, sizeof(path), "%s/" JOURNAL_FILE_NAME, dir);
	assert_int_equal(journal_writer_open(&w, dir), 0);
	assert_string_equal(w.path, path);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	sample_record(&r, 1795871657123456789ull);
	assert_int_equal(journal_append(&w, &r), 0);
	journal_writer_close(&w);
	assert_null(w.file);

	/* Reopening an existing journal adds no second magic line. */
	assert_int_equal(journal_writer_open(&w, dir), 0);
	assert_int_equal(journal_append(&w, &r), 0);
	r.action = 0;
	assert_int_equal(journal_append(&w, &r), -EINVAL);
	journal_writer_close(&w);
	journal_record_clear(&r);

	text = slurp(path, NULL);
	assert_string_equal(text, JOURNAL_MAGIC_LINE "\n" SAMPLE_LINE SAMPLE_LINE);
	free(text);

	snprintf(dir, sizeof(dir), "%s/no/such", fx->dir);
	assert_int_equal(journal_writer_open(&w, dir), -ENOENT);
}

static void test_round_trip_every_field(void **state)
{
	struct fixture *fx = *state;
	struct journal_record in[3], out[4];
	struct journal_writer w;
	unsigned long skipped;
	char *said;
	size_t i, n;

	sample_record(&in[0], 1795871657123456789ull);
	hostile_record(&in[1]);
	memset(&in[2], 0, sizeof(in[2]));
	in[2].action = ACTGATE_ACTION_OPEN;
	/* A long field: lines have no length limit. */
	in[2].target = malloc(300001);
	assert_non_null(in[2].target);
	for (i = 0; i < 300000; i++)
		in[2].target[i] = "/\t\\a\n"[i % 5];
	in[2].target[300000] = '\0';

	assert_int_equal(journal_writer_open(&w, fx->dir), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(journal_append(&w, &in[i]), 0);
	journal_writer_close(&w);

	/* Open by directory. */
	n = read_all(fx->dir, out, 4, &skipped, &said);
	assert_int_equal(n, 3);
	assert_int_equal(skipped, 0);
	assert_string_equal(said, "");
	for (i = 0; i < 3; i++)
		assert_records_equal(&in[i], &out[i]);
	free(said);
	clear_all(out, n);

	/* Open by file; journal_read replaces the strings of a reused record. */
	{
		struct journal_record rec = { 0 };
		struct journal_reader r;

		assert_int_equal(journal_reader_open(&r, fx->path), 0);
		for (i = 0; i < 3; i++) {
			assert_int_equal(journal_read(&r, &rec), 1);
			assert_records_equal(&in[i], &rec);
		}
		assert_int_equal(journal_read(&r, &rec), 0);
		assert_int_equal(journal_read(&r, &rec), 0);
		journal_record_clear(&rec);
		journal_reader_close(&r);
	}
	clear_all(in, 3);
}

/* Journal text of records with time_ns 1..n and the offset where the last line starts. */
static char *journal_text(size_t n, size_t *len, size_t *last_start)
{
	struct journal_record r;
	char *text = strdup(JOURNAL_MAGIC_LINE "\n"), *line;
	size_t l, i;

	assert_non_null(text);
	*len = strlen(text);
	for (i = 1; i <= n; i++) {
		sample_record(&r, i);
		assert_int_equal(journal_format_line(&r, &line, &l), 0);
		text = realloc(text, *len + l + 1);
		assert_non_null(text);
		*last_start = *len;
		memcpy(text + *len, line, l + 1);
		*len += l;
		free(line);
		journal_record_clear(&r);
	}
	return text;
}

static void test_torn_tail_every_offset(void **state)
{
	struct fixture *fx = *state;
	struct journal_record out[4];
	size_t len, last, cut, n;
	unsigned long skipped;
	char *text, *said, expect[256];

	text = journal_text(3, &len, &last);
	for (cut = last; cut < len; cut++) {
		spit(fx->path, text, cut);
		n = read_all(fx->path, out, 4, &skipped, &said);
		assert_int_equal(n, 2);
		assert_int_equal(out[0].time_ns, 1);
		assert_int_equal(out[1].time_ns, 2);
		assert_string_equal(out[1].target, "/usr/bin/curl");
		if (cut == last) {
			assert_int_equal(skipped, 0);
			assert_string_equal(said, "");
		} else {
			assert_int_equal(skipped, 1);
			snprintf(expect, sizeof(expect),
				 "test: %s:4: skipped a torn last line (no newline: its write was cut "
				 "short)\n", fx->path);
			assert_string_equal(said, expect);
		}
		free(said);
		clear_all(out, n);
	}
	free(text);
}

static void test_reopen_torn_then_append(void **state)
{
	struct fixture *fx = *state;
	struct journal_record out[5], r;
	struct journal_writer w;
	size_t len, last, cut, n;
	unsigned long skipped;
	char *text, *said;

	text = journal_text(3, &len, &last);
	for (cut = last + 1; cut < len; cut++) {
		spit(fx->path, text, cut);
		assert_int_equal(journal_writer_open(&w, fx->dir), 0);
		sample_record(&r, 99);
		free(r.target);
		r.target = strdup("/new\tone");
		assert_int_equal(journal_append(&w, &r), 0);
		journal_writer_close(&w);

		n = read_all(fx->path, out, 5, &skipped, &said);
		if (cut == len - 1) {
			/* Only the '\n' was missing: the completed line is the whole record. */
			assert_int_equal(n, 4);
			assert_int_equal(skipped, 0);
			assert_int_equal(out[2].time_ns, 3);
			assert_string_equal(out[2].target, "/usr/bin/curl");
		} else {
			/* The torn record, now ended by '\n', lacks its end mark. */
			assert_int_equal(n, 3);
			assert_int_equal(skipped, 1);
			assert_non_null(strstr(said, ":4: skipped a malformed line: "));
		}
		assert_int_equal(out[0].time_ns, 1);
		assert_int_equal(out[1].time_ns, 2);
		assert_records_equal(&r, &out[n - 1]);
		free(said);
		clear_all(out, n);
		journal_record_clear(&r);
	}
	free(text);
}

static void test_writer_torn_or_empty_header(void **state)
{
	struct fixture *fx = *state;
	struct journal_writer w;
	struct journal_record r;
	char *text;
	size_t cut;

	/* An empty file, or one holding part of the magic line, becomes a fresh journal. */
	for (cut = 0; cut < strlen(JOURNAL_MAGIC_LINE "\n"); cut++) {
		spit(fx->path, JOURNAL_MAGIC_LINE "\n", cut);
		assert_int_equal(journal_writer_open(&w, fx->dir), 0);
		sample_record(&r, 1795871657123456789ull);
		assert_int_equal(journal_append(&w, &r), 0);
		journal_record_clear(&r);
		journal_writer_close(&w);
		text = slurp(fx->path, NULL);
		assert_string_equal(text, JOURNAL_MAGIC_LINE "\n" SAMPLE_LINE);
		free(text);
	}
}

static void test_malformed_lines_skipped(void **state)
{
	static const char good[] = SAMPLE_LINE;
	struct fixture *fx = *state;
	struct journal_record out[4];
	unsigned long skipped;
	char *text, *said, *p, *expect;
	size_t n, i;
	/* Each bad line and what the reader says about it. */
	static const struct {
		const char *line;
		const char *why;
	} bad[] = {
		{ "\n", "1 tab-separated fields, expected 21 (or 20)" },
		{ "garbage\n", "1 tab-separated fields, expected 21 (or 20)" },
		{ "1\texec\tdeny\tenforce\trule\t7\t12345\t100\t101\t1\t1000\t3\tcurl\tw\tp\tl\tpol\t"
		  "r\t/t\tread\t.\textra\n", "more than 21 tab-separated fields" },
		{ "1\texec\tdeny\tenforce\trule\t7\t12345\t100\t101\t1\t1000\t3\tcurl\tw\tp\tl\tpol\t"
		  "r\t/t\n", "19 tab-separated fields, expected 21 (or 20)" },
		/* 21 fields: the access field is checked. */
		{ "1\topen\tdeny\tenforce\trule\t7\t12345\t100\t101\t1\t1000\t3\tcurl\tw\tp\tl\tpol\t"
		  "r\t/t\t.\textra\n", "field access: unknown access name" },
		{ "1\topen\tdeny\tenforce\trule\t7\t12345\t100\t101\t1\t1000\t3\tcurl\tw\tp\tl\tpol\t"
		  "r\t/t\treed\t.\n", "field access: unknown access name" },
		{ "1\topen\tdeny\tenforce\trule\t7\t12345\t100\t101\t1\t1000\t3\tcurl\tw\tp\tl\tpol\t"
		  "r\t/t\tread,read\t.\n", "field access: unknown access name" },
		{ "1\topen\tdeny\tenforce\trule\t7\t12345\t100\t101\t1\t1000\t3\tcurl\tw\tp\tl\tpol\t"
		  "r\t/t\tread,\t.\n", "field access: unknown access name" },
		{ "1\topen\tdeny\tenforce\trule\t7\t12345\t100\t101\t1\t1000\t3\tcurl\tw\tp\tl\tpol\t"
		  "r\t/t\tread\t\n", "field end: not the end mark \".\"" },
		{ "x1\texec\tdeny\tenforce\trule\t7\t12345\t100\t101\t1\t1000\t3\tcurl\tw\tp\tl\tpol\t"
		  "r\t/t\t.\n", "field time_ns: not a decimal number in range" },
		{ "18446744073709551616\texec\tdeny\tenforce\trule\t7\t12345\t100\t101\t1\t1000\t3\t"
		  "curl\tw\tp\tl\tpol\tr\t/t\t.\n", "field time_ns: not a decimal number in range" },
		{ "1\texec\tdeny\tenforce\trule\t7\t12345\t4294967296\t101\t1\t1000\t3\tcurl\tw\tp\t"
		  "l\tpol\tr\t/t\t.\n", "field pid: not a decimal number in range" },
		{ "1\texec\tdeny\tenforce\trule\t7\t12345\t100\t-1\t1\t1000\t3\tcurl\tw\tp\tl\tpol\t"
		  "r\t/t\t.\n", "field tgid: not a decimal number in range" },
		{ "1\texec\tdeny\tenforce\trule\t7\t\t100\t101\t1\t1000\t3\tcurl\tw\tp\tl\tpol\t"
		  "r\t/t\t.\n", "field cgroup_id: not a decimal number in range" },
		{ "1\tEXEC\tdeny\tenforce\trule\t7\t12345\t100\t101\t1\t1000\t3\tcurl\tw\tp\tl\tpol\t"
		  "r\t/t\t.\n", "field action: unknown name" },
		{ "1\texec\tdenied\tenforce\trule\t7\t12345\t100\t101\t1\t1000\t3\tcurl\tw\tp\tl\tpol\t"
		  "r\t/t\t.\n", "field verdict: unknown name" },
		{ "1\texec\tdeny\tmonitor\trule\t7\t12345\t100\t101\t1\t1000\t3\tcurl\tw\tp\tl\tpol\t"
		  "r\t/t\t.\n", "field mode: unknown name" },
		{ "1\texec\tdeny\tenforce\trules\t7\t12345\t100\t101\t1\t1000\t3\tcurl\tw\tp\tl\tpol\t"
		  "r\t/t\t.\n", "field reason: unknown name" },
		{ "1\texec\tdeny\tenforce\trule\t7\t12345\t100\t101\t1\t1000\t3\t01234567890123456\t"
		  "w\tp\tl\tpol\tr\t/t\t.\n", "field comm: longer than 16 bytes" },
		{ "1\texec\tdeny\tenforce\trule\t7\t12345\t100\t101\t1\t1000\t3\tcurl\tw\\q\tp\tl\t"
		  "pol\tr\t/t\t.\n", "field workload: an unknown escape" },
		{ "1\texec\tdeny\tenforce\trule\t7\t12345\t100\t101\t1\t1000\t3\tcurl\tw\tp\\x0\tl\t"
		  "pol\tr\t/t\t.\n", "field principal: \\x without two hex digits" },
		{ "1\texec\tdeny\tenforce\trule\t7\t12345\t100\t101\t1\t1000\t3\tcurl\tw\tp\tl\\x00\t"
		  "pol\tr\t/t\t.\n", "field labels: an escaped NUL byte" },
		{ "1\texec\tdeny\tenforce\trule\t7\t12345\t100\t101\t1\t1000\t3\tcurl\tw\tp\tl\tpol\\\t"
		  "r\t/t\t.\n", "field policy: a lone '\\' at its end" },
		{ "1\texec\tdeny\tenforce\trule\t7\t12345\t100\t101\t1\t1000\t3\tcurl\tw\tp\tl\tpol\t"
		  "r\x1b\t/t\t.\n", "field rule: an unescaped control byte" },
		{ "1\texec\tdeny\tenforce\trule\t7\t12345\t100\t101\t1\t1000\t3\tcurl\tw\tp\tl\tpol\t"
		  "r\t/t\t.\r\n", "field end: not the end mark \".\"" },
		{ "1\texec\tdeny\tenforce\trule\t7\t12345\t100\t101\t1\t1000\t3\tcurl\tw\tp\tl\tpol\t"
		  "r\t/t\t\n", "field end: not the end mark \".\"" },
	};
	size_t nbad = sizeof(bad) / sizeof(bad[0]), len = 0, elen = 0, cap = 1 << 16;

	text = malloc(cap);
	expect = malloc(cap);
	assert_non_null(text);
	assert_non_null(expect);
	p = text;
	p += sprintf(p, "%s\n%s", JOURNAL_MAGIC_LINE, good);
	for (i = 0; i < nbad; i++) {
		p += sprintf(p, "%s", bad[i].line);
		elen += (size_t)snprintf(expect + elen, cap - elen,
					 "test: %s:%zu: skipped a malformed line: %s\n", fx->path,
					 i + 3, bad[i].why);
	}
	/* A NUL byte inside a line is a control byte too. */
	memcpy(p, good, sizeof(good) - 1);
	p[20] = '\0';
	p += sizeof(good) - 1;
	elen += (size_t)snprintf(expect + elen, cap - elen,
				 "test: %s:%zu: skipped a malformed line: field action: unknown name\n",
				 fx->path, nbad + 3);
	p += sprintf(p, "%s", good);
	len = (size_t)(p - text);
	spit(fx->path, text, len);

	n = read_all(fx->path, out, 4, &skipped, &said);
	assert_int_equal(n, 2);
	assert_int_equal(skipped, nbad + 1);
	assert_string_equal(said, expect);
	assert_string_equal(out[0].target, "/usr/bin/curl");
	assert_string_equal(out[1].target, "/usr/bin/curl");
	free(said);
	clear_all(out, n);
	free(text);
	free(expect);
}

static void assert_open_fails(const char *path, int expect_err, const char *expect_said)
{
	struct journal_reader r;
	char *said = NULL;
	size_t said_len;
	FILE *err = open_memstream(&said, &said_len);

	assert_non_null(err);
	assert_int_equal(journal_reader_open_err(&r, path, err, "actgate: replay"), expect_err);
	assert_null(r.file);
	fclose(err);
	assert_string_equal(said, expect_said);
	free(said);
}

static void test_not_a_journal(void **state)
{
	static const char elf[] = "\x7f" "ELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0\x01\0";
	struct fixture *fx = *state;
	struct journal_writer w;
	char expect[512], *text;

	spit(fx->path, "root:x:0:0:root:/root:/bin/bash\n", 32);
	snprintf(expect, sizeof(expect),
		 "actgate: replay: %s: not an actgate journal (its first line is not "
		 "\"#actgate-journal 0\")\n", fx->path);
	assert_open_fails(fx->path, -EINVAL, expect);
	assert_open_fails(fx->dir, -EINVAL, expect);

	/* The writer refuses to append to it, and leaves it alone. */
	assert_int_equal(journal_writer_open(&w, fx->dir), -EINVAL);
	text = slurp(fx->path, NULL);
	assert_string_equal(text, "root:x:0:0:root:/root:/bin/bash\n");
	free(text);

	spit(fx->path, "#actgate-journal 1\nwhatever\n", 28);
	snprintf(expect, sizeof(expect),
		 "actgate: replay: %s: unsupported journal version \"1\" (this actgate reads "
		 "version 0)\n", fx->path);
	assert_open_fails(fx->path, -EINVAL, expect);

	spit(fx->path, "#actgate-journal 0 \n", 20);
	snprintf(expect, sizeof(expect),
		 "actgate: replay: %s: unsupported journal version \"0 \" (this actgate reads "
		 "version 0)\n", fx->path);
	assert_open_fails(fx->path, -EINVAL, expect);

	/* No '\n' at all in a binary file: refused after reading one line's worth. */
	spit(fx->path, elf, sizeof(elf) - 1);
	snprintf(expect, sizeof(expect),
		 "actgate: replay: %s: not an actgate journal (its first line is not "
		 "\"#actgate-journal 0\")\n", fx->path);
	assert_open_fails(fx->path, -EINVAL, expect);

	snprintf(expect, sizeof(expect), "%s/missing", fx->dir);
	text = strdup(expect);
	snprintf(expect, sizeof(expect), "actgate: replay: %s: No such file or directory\n", text);
	assert_open_fails(text, -ENOENT, expect);
	free(text);
}

static void test_empty_journal(void **state)
{
	struct fixture *fx = *state;
	struct journal_record out[1];
	unsigned long skipped;
	char *said;

	spit(fx->path, "", 0);
	assert_int_equal(read_all(fx->path, out, 1, &skipped, &said), 0);
	assert_string_equal(said, "");
	free(said);
	spit(fx->path, "#actgate-jour", 13);
	assert_int_equal(read_all(fx->path, out, 1, &skipped, &said), 0);
	free(said);
	spit(fx->path, JOURNAL_MAGIC_LINE "\n", strlen(JOURNAL_MAGIC_LINE) + 1);
	assert_int_equal(read_all(fx->path, out, 1, &skipped, &said), 0);
	assert_int_equal(skipped, 0);
	free(said);
}

/*
 * Let the file grow by only `extra` bytes: RLIMIT_FSIZE makes write(2) stop
 * part-way and then fail with EFBIG (SIGXFSZ ignored).
 */
static void limit_file_growth(const char *path, off_t extra, struct rlimit *old)
{
	struct rlimit lim;
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, old), 0);
	lim = *old;
	lim.rlim_cur = (rlim_t)(st.st_size + extra);
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
}

static void restore_file_limit(const struct rlimit *old)
{
	assert_int_equal(setrlimit(RLIMIT_FSIZE, old), 0);
	signal(SIGXFSZ, SIG_DFL);
}

static void test_short_write_leaves_no_partial_line(void **state)
{
	struct fixture *fx = *state;
	struct journal_writer w;
	struct journal_record r;
	struct rlimit old;
	char *text;

	assert_int_equal(journal_writer_open(&w, fx->dir), 0);
	sample_record(&r, 1795871657123456789ull);
	assert_int_equal(journal_append(&w, &r), 0);
	limit_file_growth(fx->path, 10, &old);
	assert_int_equal(journal_append(&w, &r), -EFBIG);
	restore_file_limit(&old);
	assert_int_equal(journal_append(&w, &r), 0);
	journal_writer_close(&w);
	journal_record_clear(&r);

	text = slurp(fx->path, NULL);
	assert_string_equal(text, JOURNAL_MAGIC_LINE "\n" SAMPLE_LINE SAMPLE_LINE);
	free(text);
}

static void test_parse_line_direct(void **state)
{
	struct journal_record r = { 0 };
	char why[128];

	(void)state;
	assert_int_equal(journal_parse_line(SAMPLE_LINE, strlen(SAMPLE_LINE) - 1, &r, why,
					    sizeof(why)), 0);
	assert_string_equal(r.rule, "ci-runner:exec.deny[0]");
	assert_string_equal(r.comm, "curl");
	journal_record_clear(&r);
	/* The '\n' is not part of the line: given one, the end mark is wrong. */
	assert_int_equal(journal_parse_line(SAMPLE_LINE, strlen(SAMPLE_LINE), &r, why, sizeof(why)),
			 -EINVAL);
	assert_string_equal(why, "field end: not the end mark \".\"");
	assert_null(r.workload);
}

static void test_lines_without_access(void **state)
{
	const char *with = "1\topen\tdeny\tenforce\trule\t7\t1\t1\t1\t1\t0\t3\tcat\tw\t\t\tp\t"
			   "p:open.deny[0]\t/etc/shadow\twrite,create\t.";
	struct journal_record r = { 0 }, again = { 0 };
	char why[128], *line;
	size_t len;

	(void)state;
	/* Written before the access field: read as a record that asked for none. */
	assert_int_equal(journal_parse_line(SAMPLE_LINE_WITHOUT_ACCESS,
					    strlen(SAMPLE_LINE_WITHOUT_ACCESS) - 1, &r, why,
					    sizeof(why)), 0);
	assert_string_equal(r.target, "/usr/bin/curl");
	assert_int_equal(r.access, 0);
	/* Written again, it gains the (empty) field. */
	assert_int_equal(journal_format_line(&r, &line, &len), 0);
	assert_string_equal(line, SAMPLE_LINE);
	free(line);
	journal_record_clear(&r);

	if (journal_parse_line(with, strlen(with), &r, why, sizeof(why)))
		fail_msg("%s", why);
	assert_int_equal(r.access, ACTGATE_ACCESS_WRITE | ACTGATE_ACCESS_CREATE);
	assert_string_equal(r.target, "/etc/shadow");
	assert_int_equal(journal_format_line(&r, &line, &len), 0);
	assert_int_equal(journal_parse_line(line, len - 1, &again, why, sizeof(why)), 0);
	assert_records_equal(&r, &again);
	free(line);
	journal_record_clear(&r);
	journal_record_clear(&again);
}

static void test_deferred_batch_and_lost_count(void **state)
{
	struct fixture *fx = *state;
	struct journal_writer w;
	struct journal_record r;
	struct rlimit old;
	size_t lost = 99;
	char *text;

	assert_int_equal(journal_writer_open(&w, fx->dir), 0);
	sample_record(&r, 1795871657123456789ull);
	/* Nothing reaches the file before the flush; then both lines at once. */
	assert_int_equal(journal_append_deferred(&w, &r), 0);
	assert_int_equal(journal_append_deferred(&w, &r), 0);
	assert_int_equal(w.pending_records, 2);
	text = slurp(fx->path, NULL);
	assert_string_equal(text, JOURNAL_MAGIC_LINE "\n");
	free(text);
	assert_int_equal(journal_flush(&w, &lost), 0);
	assert_int_equal(lost, 0);
	assert_int_equal(w.pending_records, 0);

	/* A batch the file system takes only part of is cut off whole and counted. */
	assert_int_equal(journal_append_deferred(&w, &r), 0);
	assert_int_equal(journal_append_deferred(&w, &r), 0);
	assert_int_equal(journal_append_deferred(&w, &r), 0);
	limit_file_growth(fx->path, 10, &old);
	assert_int_equal(journal_flush(&w, &lost), -EFBIG);
	restore_file_limit(&old);
	assert_int_equal(lost, 3);
	/* Queued and not flushed: close writes it. */
	assert_int_equal(journal_append_deferred(&w, &r), 0);
	journal_writer_close(&w);
	journal_record_clear(&r);

	text = slurp(fx->path, NULL);
	assert_string_equal(text, JOURNAL_MAGIC_LINE "\n" SAMPLE_LINE SAMPLE_LINE SAMPLE_LINE);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_line_exact),
		cmocka_unit_test(test_format_rejects_unnamed_enums),
		cmocka_unit_test(test_parse_line_direct),
		cmocka_unit_test(test_lines_without_access),
		cmocka_unit_test_setup_teardown(test_writer_creates_dir_and_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip_every_field, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail_every_offset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_torn_then_append, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writer_torn_or_empty_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_lines_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_journal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_journal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_write_leaves_no_partial_line, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_deferred_batch_and_lost_count, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("journal", tests, NULL, NULL);
}
