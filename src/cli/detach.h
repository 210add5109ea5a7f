/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* `actgate detach`: argv[0] is "detach". Returns the exit status. */
#ifndef ACTGATE_CMD_DETACH_H
#define ACTGATE_CMD_DETACH_H

int cmd_detach(int argc, char **argv);

#endif /* ACTGATE_CMD_DETACH_H */
