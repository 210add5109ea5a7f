/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* File open: every open of a governed task, whatever the path it used. */
#include "common.h"

SEC("lsm/file_open")
int BPF_PROG(check_open, struct file *file, int ret)
{
	if (ret)
		return ret;
	return check_file(ACTGATE_ACTION_OPEN, file);
}
