# The path verdict cache under mounts: the cache keeps what the directories
# inside one file system decide, and the mount points above them are read at
# every open. So a directory whose opens are cached, bind-mounted under a
# denied directory, is denied there at once and still allowed where it was;
# a file system moved (mount --move) under the denied directory is denied at
# once and allowed again when moved back; and a new file system mounted where
# an old one was (its device number possibly the old one's) is decided
# afresh. All mounts are made by an ungoverned root shell while a governed
# workload keeps its cache warm.
. /actgate/lib.sh

mkdir -p "$T/pub/d/e" "$T/secret/bind" "$T/secret/moved" "$T/pub/m"
echo f >"$T/pub/d/e/f"
cat >"$POLICIES/p.yaml" <<YAML
apiVersion: actgate.dev/v1
kind: Policy
metadata: {name: cache}
spec:
  selector: {workloads: ["cache:*"]}
  open: {default: allow, deny: [$T/secret/]}
YAML
start_daemon
start_batch job 3 4 --workload cache:job
ask() { batch_ask 3 4 "open $1 r"; }

# 1. A bind mount of a cached directory under the denied one.
expect_eq "$(ask "$T/pub/d/e/f")" ok "before the bind mount"
expect_eq "$(ask "$T/pub/d/e/f")" ok "before the bind mount, again"
mount --bind "$T/pub/d" "$T/secret/bind" || fail "mount --bind"
expect_eq "$(ask "$T/secret/bind/e/f")" EPERM "through the bind mount under $T/secret"
expect_eq "$(ask "$T/pub/d/e/f")" ok "the same file by its first path"
expect_eq "$(ask "$T/secret/bind/e/f")" EPERM "through the bind mount, again"
umount "$T/secret/bind" || fail "umount the bind mount"
expect_eq "$(ask "$T/pub/d/e/f")" ok "after the bind mount is gone"

# 2. A file system moved under the denied directory and back.
mount -t tmpfs tmp1 "$T/pub/m" || fail "mount tmpfs"
mkdir -p "$T/pub/m/x/y"
echo g >"$T/pub/m/x/y/g"
expect_eq "$(ask "$T/pub/m/x/y/g")" ok "on a tmpfs under $T/pub"
expect_eq "$(ask "$T/pub/m/x/y/g")" ok "on a tmpfs under $T/pub, again"
mount --move "$T/pub/m" "$T/secret/moved" || fail "mount --move into secret"
expect_eq "$(ask "$T/secret/moved/x/y/g")" EPERM "the tmpfs moved under $T/secret"
mount --move "$T/secret/moved" "$T/pub/m" || fail "mount --move back"
expect_eq "$(ask "$T/pub/m/x/y/g")" ok "the tmpfs moved back"

# 3. Unmounted, and a new file system mounted on the denied side with the same tree.
umount "$T/pub/m" || fail "umount tmp1"
mount -t tmpfs tmp2 "$T/secret/moved" || fail "mount tmp2"
mkdir -p "$T/secret/moved/x/y"
echo g >"$T/secret/moved/x/y/g"
expect_eq "$(ask "$T/secret/moved/x/y/g")" EPERM "a new tmpfs under $T/secret"
umount "$T/secret/moved" || fail "umount tmp2"
mount -t tmpfs tmp3 "$T/pub/m" || fail "mount tmp3"
mkdir -p "$T/pub/m/x/y"
echo g >"$T/pub/m/x/y/g"
expect_eq "$(ask "$T/pub/m/x/y/g")" ok "a new tmpfs under $T/pub"
umount "$T/pub/m"

expect_record '"action":"open"' '"verdict":"deny"' "\"target\":\"$T/secret/bind/e/f\""
expect_record '"action":"open"' '"verdict":"deny"' "\"target\":\"$T/secret/moved/x/y/g\""
