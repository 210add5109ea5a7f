/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* `actgate signal ...`: argv[0] is "signal". Returns the exit status. */
#ifndef ACTGATE_CMD_SIGNAL_H
#define ACTGATE_CMD_SIGNAL_H

int cmd_signal(int argc, char **argv);

#endif /* ACTGATE_CMD_SIGNAL_H */
