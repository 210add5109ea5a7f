/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* What the fuzz targets share: a property that must hold, or the run stops with its line. */
#ifndef ACTGATE_FUZZ_CHECK_H
#define ACTGATE_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                      \
	do {                                                                             \
		if (!(cond)) {                                                           \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                         \
		}                                                                        \
	} while (0)

#endif /* ACTGATE_FUZZ_CHECK_H */
