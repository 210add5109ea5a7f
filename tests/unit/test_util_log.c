/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Log lines (util/log.c): "<N>" syslog priorities only when stderr is the
 * stream $JOURNAL_STREAM names (journald's), as journald reads them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/log.h"

static void test_stream_match(void **state)
{
	char text[64];
	struct stat st;
	int fds[2];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(fstat(fds[1], &st), 0);
	snprintf(text, sizeof(text), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	assert_true(log_stream_is_journal(text, fds[1]));
	assert_false(log_stream_is_journal(NULL, fds[1]));
	assert_false(log_stream_is_journal("", fds[1]));
	assert_false(log_stream_is_journal("1:2", fds[1]));
	snprintf(text, sizeof(text), "%llu:%llu:", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	assert_false(log_stream_is_journal(text, fds[1])); /* trailing junk */
	close(fds[0]);
	close(fds[1]);
}

/* The lines a child logs with stderr on a pipe, $JOURNAL_STREAM naming it or not. */
static void child_lines(bool journal, char *out, size_t size)
{
	int fds[2];
	pid_t pid;
	ssize_t n, total = 0;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct stat st;
		char text[64];

		dup2(fds[1], 2);
		fstat(2, &st);
		snprintf(text, sizeof(text), "%llu:%llu", (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino);
		if (journal)
			setenv("JOURNAL_STREAM", text, 1);
		else
			unsetenv("JOURNAL_STREAM");
		log_error("mod", "bad %d", 1);
		log_warn("mod", "odd");
		log_info("mod", "fine");
		_exit(0);
	}
	close(fds[1]);
	while ((n = read(fds[0], out + total, size - 1 - (size_t)total)) > 0)
		total += n;
	out[total] = '\0';
	close(fds[0]);
	waitpid(pid, NULL, 0);
}

static void test_prefixes(void **state)
{
	char out[1024];

	(void)state;
	child_lines(true, out, sizeof(out));
	assert_non_null(strstr(out, "<3>"));
	assert_non_null(strstr(out, ": mod: error: bad 1\n<4>"));
	assert_non_null(strstr(out, ": mod: warning: odd\n<6>"));
	assert_non_null(strstr(out, ": mod: fine\n"));
	assert_int_equal(out[0], '<');
	child_lines(false, out, sizeof(out));
	assert_null(strchr(out, '<'));
	assert_non_null(strstr(out, ": mod: error: bad 1\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_match),
		cmocka_unit_test(test_prefixes),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
