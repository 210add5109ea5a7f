/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Exec: decided on the file about to be executed. */
#include "lib/drift.h"
#include "lib/kernel.h"

/*
 * bprm_check_security runs once per binary handler round, so a script is
 * checked as itself and again as its interpreter (#!): denying
 * /usr/bin/python3 also denies scripts that name it. execveat (with
 * AT_EMPTY_PATH, as fexecve does) comes here with the descriptor's file, a
 * memfd's too: `written: deny` sees it as anonymous (lib/drift.h).
 */
SEC("lsm/bprm_check_security")
int BPF_PROG(check_exec, struct linux_binprm *bprm, int ret)
{
	if (ret)
		return ret; /* an earlier LSM already refused */
	return check_exec_file(bprm->file);
}
