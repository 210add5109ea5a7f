/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* `actgate reload`: argv[0] is "reload". Returns the exit status. */
#ifndef ACTGATE_CMD_RELOAD_H
#define ACTGATE_CMD_RELOAD_H

int cmd_reload(int argc, char **argv);

#endif /* ACTGATE_CMD_RELOAD_H */
