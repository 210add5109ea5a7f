/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * The journal's verbs: `actgate replay`, `actgate verify`, `actgate export`.
 * argv[0] is the verb. Each returns the exit status its --help documents.
 */
#ifndef ACTGATE_CMD_JOURNAL_H
#define ACTGATE_CMD_JOURNAL_H

int cmd_replay(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_export(int argc, char **argv);

#endif /* ACTGATE_CMD_JOURNAL_H */
