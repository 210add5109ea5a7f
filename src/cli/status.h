/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* `actgate status`: argv[0] is "status". Returns the exit status. */
#ifndef ACTGATE_CMD_STATUS_H
#define ACTGATE_CMD_STATUS_H

int cmd_status(int argc, char **argv);

#endif /* ACTGATE_CMD_STATUS_H */
