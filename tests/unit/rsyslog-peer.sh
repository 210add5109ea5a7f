#!/bin/sh
# A real syslog receiver for the export tests: Debian's rsyslogd, started in
# the foreground on a directory of its own, receiving RFC 5424 over a unix
# stream socket (imptcp), a unix datagram socket (imuxsock, as /dev/log),
# TCP (imptcp) and TLS (imtcp with the GnuTLS driver, a CA and server
# certificate made here), each written to its own file.
#
#   rsyslog-peer.sh DIR TCP_PORT TLS_PORT
#
# Prints rsyslogd's pid once every listener is up; the caller kills it.
# Files: DIR/{unix,dgram,tcp,tls}.log, DIR/ca.pem, DIR/stream.sock, DIR/dgram.sock.
set -eu
dir=$1 tcp=$2 tls=$3
command -v rsyslogd >/dev/null || { echo "rsyslog-peer: rsyslogd is missing (make deps)" >&2; exit 1; }
cd "$dir"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key \
	-out ca.pem -days 2 -subj /CN=actgate-test-ca 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout key.pem \
	-out srv.csr -subj /CN=localhost 2>/dev/null
printf 'subjectAltName=DNS:localhost\n' >ext
openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out cert.pem -days 2 \
	-extfile ext >/dev/null 2>&1
# What each line shows: what rsyslog parsed out of the RFC 5424 message.
cat >rsyslog.conf <<CONF
global(workDirectory="$dir" maxMessageSize="64k"
       DefaultNetstreamDriverCAFile="$dir/ca.pem"
       DefaultNetstreamDriverCertFile="$dir/cert.pem"
       DefaultNetstreamDriverKeyFile="$dir/key.pem")
module(load="imptcp")
module(load="imuxsock" SysSock.Use="off")
module(load="imtcp" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode="anon")
template(name="fields" type="string"
         string="%protocol-version% %pri% %hostname% %app-name% %msgid% %structured-data% %msg%\n")
ruleset(name="unix") { action(type="omfile" file="$dir/unix.log" template="fields") }
ruleset(name="dgram") { action(type="omfile" file="$dir/dgram.log" template="fields") }
ruleset(name="tcp") { action(type="omfile" file="$dir/tcp.log" template="fields") }
ruleset(name="tls") { action(type="omfile" file="$dir/tls.log" template="fields") }
input(type="imptcp" path="$dir/stream.sock" unlink="on" ruleset="unix")
input(type="imuxsock" Socket="$dir/dgram.sock" useSpecialParser="off" parseHostname="on"
      ruleset="dgram")
input(type="imptcp" address="127.0.0.1" port="$tcp" ruleset="tcp")
input(type="imtcp" address="127.0.0.1" port="$tls" ruleset="tls")
CONF
rsyslogd -n -f "$dir/rsyslog.conf" -i "$dir/rsyslogd.pid" >"$dir/rsyslogd.out" 2>&1 &
pid=$!
# Up when every listener is: the sockets exist and the ports accept.
i=0
while :; do
	if [ -S "$dir/stream.sock" ] && [ -S "$dir/dgram.sock" ] &&
		python3 - "$tcp" "$tls" <<'PY' 2>/dev/null; then
import socket, sys
for port in sys.argv[1:]:
    socket.create_connection(("127.0.0.1", int(port)), timeout=1).close()
PY
		break
	fi
	i=$((i + 1))
	if [ $i -gt 200 ] || ! kill -0 $pid 2>/dev/null; then
		echo "rsyslog-peer: rsyslogd did not start:" >&2
		cat "$dir/rsyslogd.out" >&2
		kill $pid 2>/dev/null || true
		exit 1
	fi
	sleep 0.05
done
echo $pid
