/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * actgate's version, from one place: the Makefile writes it into
 * build/actgate-version.h from debian/changelog's newest entry, followed by
 * `git describe --always --dirty` when built from a git checkout
 * ("0.1.0+c2d5256-dirty"; a plain "0.1.0" from a release tarball). Both
 * binaries, the status reply, the journal's segment headers and exported
 * records show this same string.
 */
#ifndef ACTGATE_UTIL_VERSION_H
#define ACTGATE_UTIL_VERSION_H

/* The longest version the build accepts (the Makefile refuses a longer one): it must fit the
 * journal segment header's writer-version field with a NUL (docs/journal-store.md). */
#define ACTGATE_VERSION_MAX 63

/* "0.1.0" or "0.1.0+<git describe>": printable ASCII, no spaces, at most ACTGATE_VERSION_MAX. */
const char *actgate_version(void);

/* "PROG VERSION\n" to stdout: what `--version` prints; returns 0 or 1 on a write error. */
int actgate_print_version(const char *prog);

#endif /* ACTGATE_UTIL_VERSION_H */
