/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* `actgate policy diff OLD NEW`: what a policy change widens and narrows (policy/diff.h). */
#ifndef ACTGATE_CLI_POLICYDIFF_H
#define ACTGATE_CLI_POLICYDIFF_H

int cmd_policy_diff(int argc, char **argv);

#endif /* ACTGATE_CLI_POLICYDIFF_H */
