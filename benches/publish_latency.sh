#!/usr/bin/env bash
# How long the website lags the photo folder under `watch` with `[publish] to` set, over real
# SFTP on loopback (Debian's OpenSSH sshd, started here on a free port with keys made here):
#   1. consent = false written to a published case's case.toml -> its page gone from the target;
#   2. a new pair dropped into the folder -> its page on the target.
# Goal (issue 35): 1. within 5 s. A measurement, not a test: run by hand,
#   benches/publish_latency.sh [ROUNDS]   (after `cargo build --release`)
# Prints each round's seconds and the median. Stops every process it started, by pid.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/target/release/beforeafter"
rounds="${1:-5}"
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# The SFTP host.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/ssh/bin" /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$work/ssh/host_key"
ssh-keygen -q -t ed25519 -N '' -f "$work/ssh/client_key"
cp "$work/ssh/client_key.pub" "$work/ssh/authorized_keys"
cat >"$work/ssh/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $port
HostKey $work/ssh/host_key
AuthorizedKeysFile $work/ssh/authorized_keys
PidFile none
UsePAM no
StrictModes no
PasswordAuthentication no
PermitRootLogin prohibit-password
Subsystem sftp internal-sftp
EOF
echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$work/ssh/host_key.pub")" >"$work/ssh/known_hosts"
cat >"$work/ssh/ssh_config" <<EOF
Host *
  IdentityFile $work/ssh/client_key
  IdentitiesOnly yes
  UserKnownHostsFile $work/ssh/known_hosts
  StrictHostKeyChecking yes
  BatchMode yes
EOF
printf '#!/bin/sh\nexec /usr/bin/ssh -F %s/ssh/ssh_config "$@"\n' "$work" >"$work/ssh/bin/ssh"
chmod +x "$work/ssh/bin/ssh"
/usr/sbin/sshd -D -e -f "$work/ssh/sshd_config" 2>"$work/sshd.log" &
pids+=($!)
export PATH="$work/ssh/bin:$PATH"

# The clinic's folder: the samples, publishing to the host.
cp -r samples "$work/in"
site="$work/site"
printf '\n[publish]\nto = "sftp://root@127.0.0.1:%s%s"\n' "$port" "$site" >>"$work/in/beforeafter.toml"
"$bin" watch "$work/in" --out "$work/out" --json >"$work/watch.log" 2>&1 &
pids+=($!)

now() { date +%s.%N; }
wait_for() { # wait_for SHELL-CONDITION: until it holds, at most 120 s
  local end=$(($(date +%s) + 120))
  until eval "$1"; do
    [ "$(date +%s)" -lt "$end" ] || { echo "timed out waiting for $1"; tail "$work/watch.log"; exit 1; }
    sleep 0.02
  done
}
wait_for '[ -f "$site/rotated-phone/index.html" ]'
gone=() new=()
for i in $(seq 1 "$rounds"); do
  # 1. Withdrawn.
  t0=$(now)
  printf 'slug = "rotated-phone"\nconsent = false\n' >"$work/in/rotated-phone/case.toml"
  # Gone: no file of the case left (its emptied folder is removed too).
  wait_for '[ -z "$(ls -A "$site/rotated-phone" 2>/dev/null)" ]'
  gone+=("$(awk "BEGIN {printf \"%.2f\", $(now) - $t0}")")
  # Consent given again, for the next round.
  printf 'slug = "rotated-phone"\nconsent = true\n' >"$work/in/rotated-phone/case.toml"
  wait_for '[ -f "$site/rotated-phone/index.html" ]'
  # 2. A new pair dropped in.
  t0=$(now)
  mkdir -p "$work/in/new-$i"
  printf 'slug = "new-%s"\nconsent = true\n' "$i" >"$work/in/new-$i/case.toml"
  cp samples/rotated-phone/before.jpg samples/rotated-phone/after.jpg "$work/in/new-$i/"
  wait_for '[ -f "$site/new-$i/index.html" ]'
  new+=("$(awk "BEGIN {printf \"%.2f\", $(now) - $t0}")")
  echo "round $i: withdrawn -> gone from the website ${gone[-1]} s; new pair -> its page online ${new[-1]} s"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "median: consent = false -> gone $(median "${gone[@]}") s; new pair -> page $(median "${new[@]}") s"
