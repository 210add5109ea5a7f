/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * What the policy parser's tests share: parse a policy text and compare what
 * its user would see, the "file:line:col: severity: message" lines, exactly.
 * Positions are 1-based (line, column of the offending scalar).
 */
#ifndef ACTGATE_TEST_POLICY_H
#define ACTGATE_TEST_POLICY_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy/parse.h"
#include "policy/policy.h"
#include "util/diag.h"

/* Five lines; spec keys written after it start on line 6, column 3. */
#define HEAD                                   \
	"apiVersion: actgate.dev/v1\n"         \
	"kind: Policy\n"                       \
	"metadata: {name: t}\n"                \
	"spec:\n"                              \
	"  selector: {workloads: [\"w\"]}\n"

struct parsed {
	struct policy_set set;
	struct diag_list diags;
	int ret;
};

static inline void parse(struct parsed *p, const char *text)
{
	p->ret = policy_parse_buffer("t.yaml", text, strlen(text), &p->set, &p->diags);
}

static inline void parsed_free(struct parsed *p)
{
	policy_set_free(&p->set);
	diag_list_free(&p->diags);
}

/* Everything diag_print shows, as one string (caller frees). */
static inline char *printed(const struct diag_list *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	diag_print(d, f);
	fclose(f);
	return buf;
}

/* The text must fail with exactly one error, printed exactly as expected. */
static inline void expect_error(const char *text, const char *expected_line)
{
	struct parsed p = { 0 };
	char *out;

	parse(&p, text);
	out = printed(&p.diags);
	assert_string_equal(out, expected_line);
	assert_int_equal(p.ret, -EINVAL);
	assert_int_equal(p.diags.errors, 1);
	assert_int_equal(p.set.count, 0);
	free(out);
	parsed_free(&p);
}

/* The same for a single spec line appended to HEAD (line 6). */
static inline void expect_spec_error(const char *spec_line, const char *expected_line)
{
	char text[8192];

	snprintf(text, sizeof(text), "%s%s\n", HEAD, spec_line);
	expect_error(text, expected_line);
}

static inline bool selects(const struct policy *p, const char *name)
{
	struct workload_identity id = { .name = name };

	return policy_selects(p, &id);
}

#endif /* ACTGATE_TEST_POLICY_H */
