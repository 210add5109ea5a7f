/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * `actgate policy suggest`: a policy from recorded decisions. argv[0] is
 * the subcommand; returns the exit status its --help documents.
 */
#ifndef ACTGATE_CLI_SUGGEST_H
#define ACTGATE_CLI_SUGGEST_H

int cmd_policy_suggest(int argc, char **argv);

#endif /* ACTGATE_CLI_SUGGEST_H */
