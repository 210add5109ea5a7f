/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The daemon's sink: decisions written, read back, continued by a restarted
 * daemon, rotated with a string table per segment; the store's workers take
 * no signal.
 */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_journal.h"

static void test_sink_round_trip(void **state)
{
	struct fixture *fx = *state;
	struct stat st;

	(void)state;
	write_with_sink(fx, 10);
	/* The key was made outside the journal, for root only. */
	assert_int_equal(stat(fx->key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(json_lines(fx, NULL), 10);
	assert_non_null(strstr(fx->out,
		"{\"time\":\"2026-11-28T13:14:18.000Z\",\"time_ns\":1795871658000000000,"
		"\"action\":\"exec\",\"verdict\":\"deny\",\"enforced\":true,\"mode\":\"enforce\","
		"\"reason\":\"rule\",\"workload\":\"ci:build\",\"workload_id\":7,\"cgroup\":99,"
		"\"pid\":1001,\"tgid\":1001,\"ppid\":1000,\"uid\":1000,\"comm\":\"sh\","
		"\"target\":\"/usr/bin/curl\",\"access\":\"\",\"rule\":\"ci:exec.deny[0]\","
		"\"policy\":\"ci\",\"principal\":\"alice\",\"labels\":{\"env\":\"ci\",\"team\":\"a\"},"
		"\"generation\":1}\n"));
	assert_string_equal(fx->err, "");
	/* A second writer (the restarted daemon) continues the same journal. */
	write_with_sink(fx, 10);
	assert_int_equal(json_lines(fx, NULL), 20);
}

/* The store's worker threads block every signal: the daemon's signalfd must get them all. */
static void test_workers_take_no_signal(void **state)
{
	struct fixture *fx = *state;
	struct jsink_config cfg = { .dir = fx->dir, .key_path = fx->key };
	struct dirent *de;
	size_t others = 0;
	struct jsink *s;
	DIR *d;

	assert_int_equal(jsink_open(&s, &cfg), 0);
	d = opendir("/proc/self/task");
	assert_non_null(d);
	while ((de = readdir(d))) {
		char path[300], line[256];
		FILE *f;

		if (de->d_name[0] == '.' || atoi(de->d_name) == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			unsigned long long mask;

			if (sscanf(line, "SigBlk: %llx", &mask) != 1)
				continue;
			others++;
			assert_true(mask & (1ull << (SIGTERM - 1)));
			assert_true(mask & (1ull << (SIGHUP - 1)));
			assert_true(mask & (1ull << (SIGINT - 1)));
		}
		fclose(f);
	}
	closedir(d);
	assert_true(others >= 1); /* the compression worker */
	assert_int_equal(jsink_close(s), 0);
}

/* The sink rotates, and every segment defines its own strings: a segment reads alone. */
static void test_sink_rotation(void **state)
{
	struct fixture *fx = *state;
	struct jsink_config cfg = { .dir = fx->dir, .key_path = fx->key,
				    .segment_max_bytes = 512 << 10 };
	const char *paths[1];
	struct replay_options o = { .paths = paths, .n_paths = 1, .output = REPLAY_JSON };
	char path[256];
	struct jsink *s;
	size_t lines;

	assert_int_equal(jsink_open(&s, &cfg), 0);
	for (uint32_t i = 0; i < 30000; i++) {
		struct journal_record r = decision(i);
		char target[64];

		snprintf(target, sizeof(target), "/srv/file-%u", i % 3000); /* many strings */
		r.target = target;
		jsink_append(s, &r);
		if (i % 256 == 255)
			jsink_flush(s);
	}
	assert_int_equal(jsink_close(s), 0);
	snprintf(path, sizeof(path), "%s/journal-%016x.seg.gz", fx->dir, 3);
	assert_int_equal(access(path, R_OK), 0); /* at least three segments */
	paths[0] = path;
	assert_int_equal(replay(fx, &o), 0);
	lines = count_lines(fx->out);
	assert_true(lines > 1000);
	assert_string_equal(fx->err, "");
	assert_null(strstr(fx->out, "<lost string"));
	assert_non_null(strstr(fx->out, "\"target\":\"/srv/file-"));
	paths[0] = fx->dir;
	assert_int_equal(json_lines(fx, NULL), 30000);
	assert_string_equal(fx->err, "");
	assert_int_equal(verify(fx, true), JSTORE_INTACT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sink_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_workers_take_no_signal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sink_rotation, setup, teardown),
	};

	return cmocka_run_group_tests_name("journal/sink", tests, NULL, NULL);
}
