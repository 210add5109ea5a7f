/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* `actgate grant ...` and `actgate revoke ...`: argv[0] is the verb. Return the exit status. */
#ifndef ACTGATE_CMD_GRANT_H
#define ACTGATE_CMD_GRANT_H

int cmd_grant(int argc, char **argv);
int cmd_revoke(int argc, char **argv);

#endif /* ACTGATE_CMD_GRANT_H */
