/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* `actgate policy check|reload|test ...`: argv[0] is "policy". Returns the exit status. */
#ifndef ACTGATE_CMD_POLICY_H
#define ACTGATE_CMD_POLICY_H

int cmd_policy(int argc, char **argv);

#endif /* ACTGATE_CMD_POLICY_H */
