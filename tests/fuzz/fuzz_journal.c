// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/*
 * libFuzzer target for the version-0 journal reader and writer.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iinclude -Isrc \
 *       tests/fuzz/fuzz_journal.c src/journal.c -o build/fuzz_journal
 *   build/fuzz_journal -max_total_time=60 CORPUS_DIR
 *
 * The first input byte picks what the rest is:
 *   0: one line for journal_parse_line; an accepted line must format and
 *      parse back to the same record;
 *   1: the body of a journal after its magic line; every line must come out
 *      as a record or as one skipped line;
 *   2: the body of an existing journal (after its magic line) when the writer
 *      opens it: a record appended then must read back intact, last;
 *   3: the same with the whole existing file, magic line or not, from the input.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/types.h>
#include "actgate/abi.h"

#include "journal/v0.h"
#include "fuzz_check.h"

static void check_equal(const struct journal_record *a, const struct journal_record *b)
{
	CHECK(a->time_ns == b->time_ns);
	CHECK(a->action == b->action && a->verdict == b->verdict);
	CHECK(a->mode == b->mode && a->reason == b->reason);
	CHECK(a->workload_id == b->workload_id && a->cgroup_id == b->cgroup_id);
	CHECK(a->pid == b->pid && a->tgid == b->tgid && a->ppid == b->ppid);
	CHECK(a->uid == b->uid && a->generation == b->generation);
	CHECK(!strcmp(a->comm, b->comm));
	CHECK(!strcmp(a->workload, b->workload));
	CHECK(!strcmp(a->principal, b->principal));
	CHECK(!strcmp(a->labels, b->labels));
	CHECK(!strcmp(a->policy, b->policy));
	CHECK(!strcmp(a->rule, b->rule));
	CHECK(!strcmp(a->target, b->target));
}

static void fuzz_line(const uint8_t *data, size_t size)
{
	struct journal_record a = { 0 }, b = { 0 };
	char why[160], *line, *line2;
	size_t len, len2;

	if (journal_parse_line((const char *)data, size, &a, why, sizeof(why))) {
		CHECK(why[0] != '\0');
		CHECK(a.workload == NULL && a.target == NULL);
		return;
	}
	CHECK(journal_format_line(&a, &line, &len) == 0);
	CHECK(len > 0 && line[len - 1] == '\n' && memchr(line, '\n', len) == line + len - 1);
	CHECK(journal_parse_line(line, len - 1, &b, why, sizeof(why)) == 0);
	check_equal(&a, &b);
	/* The writer's form is canonical: formatting again gives the same bytes. */
	CHECK(journal_format_line(&b, &line2, &len2) == 0);
	CHECK(len == len2 && !memcmp(line, line2, len));
	free(line);
	free(line2);
	journal_record_clear(&a);
	journal_record_clear(&b);
}

static void fuzz_body(const uint8_t *data, size_t size)
{
	struct journal_record rec = { 0 };
	struct journal_reader r;
	unsigned long lines = 0, records = 0;
	char path[64];
	size_t i;
	int fd, ret;

	fd = memfd_create("journal", MFD_CLOEXEC);
	CHECK(fd >= 0);
	CHECK(write(fd, JOURNAL_MAGIC_LINE "\n", strlen(JOURNAL_MAGIC_LINE) + 1) ==
	      (ssize_t)strlen(JOURNAL_MAGIC_LINE) + 1);
	CHECK(size == 0 || write(fd, data, size) == (ssize_t)size);
	for (i = 0; i < size; i++)
		lines += data[i] == '\n';
	if (size && data[size - 1] != '\n')
		lines++;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	CHECK(journal_reader_open_err(&r, path, NULL, "fuzz") == 0);
	while ((ret = journal_read(&r, &rec)) == 1) {
		records++;
		CHECK(strlen(rec.comm) <= 16);
	}
	CHECK(ret == 0);
	CHECK(records + r.skipped == lines);
	journal_record_clear(&rec);
	journal_reader_close(&r);
	close(fd);
}

static void fuzz_reopen(const uint8_t *data, size_t size, bool with_magic)
{
	char dir[] = "/tmp/fuzz-journal-XXXXXX", path[64];
	struct journal_record in = { 0 }, out = { 0 };
	struct journal_writer w;
	struct journal_reader r;
	unsigned long records = 0;
	FILE *f;
	int ret;

	CHECK(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/" JOURNAL_FILE_NAME, dir);
	f = fopen(path, "we");
	CHECK(f);
	if (with_magic)
		fputs(JOURNAL_MAGIC_LINE "\n", f);
	CHECK(fwrite(data, 1, size, f) == size);
	CHECK(fclose(f) == 0);

	ret = journal_writer_open(&w, dir);
	CHECK(ret == 0 || (!with_magic && ret == -EINVAL));
	if (ret == 0) {
		in.time_ns = 42;
		in.action = ACTGATE_ACTION_CONNECT;
		in.target = (char *)"10.0.0.1:443/tcp";
		in.rule = (char *)"r\tx";
		CHECK(journal_append(&w, &in) == 0);
		journal_writer_close(&w);

		CHECK(journal_reader_open_err(&r, path, NULL, "fuzz") == 0);
		while ((ret = journal_read(&r, &out)) == 1)
			records++;
		CHECK(ret == 0);
		CHECK(records >= 1);
		CHECK(out.time_ns == 42 && !strcmp(out.target, in.target) && !strcmp(out.rule, in.rule));
		journal_record_clear(&out);
		journal_reader_close(&r);
	}
	unlink(path);
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 4) {
	case 0:
		fuzz_line(data + 1, size - 1);
		break;
	case 1:
		fuzz_body(data + 1, size - 1);
		break;
	case 2:
		fuzz_reopen(data + 1, size - 1, true);
		break;
	case 3:
		fuzz_reopen(data + 1, size - 1, false);
		break;
	}
	return 0;
}
