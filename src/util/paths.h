/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/*
 * Where actgate keeps things by default (FHS and systemd's directories). One
 * place, because the daemon creates and the CLI finds them: every one of them
 * can be overridden by a flag of both (and the daemon's by its configuration
 * file, DEFAULT_CONFIG_PATH).
 */
#ifndef ACTGATE_UTIL_PATHS_H
#define ACTGATE_UTIL_PATHS_H

#define DEFAULT_CONFIG_PATH "/etc/actgate/actgated.yaml"
#define DEFAULT_POLICY_DIR "/etc/actgate/policies"
#define DEFAULT_JOURNAL_DIR "/var/log/actgate"
#define DEFAULT_JOURNAL_KEY "/var/lib/actgate/journal.key"
#define DEFAULT_STATE_DIR "/var/lib/actgate"
#define DEFAULT_SOCKET_PATH "/run/actgate/actgate.sock"
#define DEFAULT_PIN_DIR "/sys/fs/bpf/actgate"
#define DEFAULT_CGROUP_PARENT "/actgate"

#endif /* ACTGATE_UTIL_PATHS_H */
