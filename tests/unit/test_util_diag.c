/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Diagnostics: how they print, and how they sort by position. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "util/diag.h"

static void test_diag_print(void **state)
{
	struct diag_list d = { 0 };
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_int_equal(diag_add(&d, DIAG_ERROR, "p.yaml", 3, 7, "bad %s", "thing"), 0);
	assert_int_equal(diag_add(&d, DIAG_WARNING, "p.yaml", 1, 2, "odd"), 0);
	assert_int_equal(diag_add(&d, DIAG_ERROR, "dir", 0, 0, "whole file"), 0);
	assert_int_equal(d.errors, 2);
	assert_int_equal(d.warnings, 1);
	f = open_memstream(&out, &len);
	assert_non_null(f);
	diag_print(&d, f);
	fclose(f);
	assert_string_equal(out, "p.yaml:3:7: error: bad thing\n"
				 "p.yaml:1:2: warning: odd\n"
				 "dir: error: whole file\n");
	free(out);
	assert_int_equal(diag_sort(&d, 1), 0);
	assert_string_equal(d.items[0].message, "bad thing");
	assert_string_equal(d.items[1].message, "whole file");
	assert_string_equal(d.items[2].message, "odd");
	diag_list_free(&d);
	assert_int_equal(d.count, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_diag_print),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
