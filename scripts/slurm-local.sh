#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for dnmf's tests and for trying the batch scripts:
# munged, slurmctld and slurmd (Debian's munge and slurm-wlm) started from a slurm.conf generated
# in a directory of their own (localhost, ports 16817/16818, state and logs there). Needs root.
#
#   scripts/slurm-local.sh start [DIR]   then: export SLURM_CONF=DIR/slurm.conf
#   scripts/slurm-local.sh stop  [DIR]
set -euo pipefail

action=${1:?usage: slurm-local.sh start|stop [DIR]}
dir=$(realpath -m "${2:-${TMPDIR:-/tmp}/dnmf-slurm}")
conf=$dir/slurm.conf

stop() {
  for daemon in slurmd slurmctld munged; do
    pid_file=$dir/$daemon.pid
    [ -f "$pid_file" ] || continue
    pid=$(cat "$pid_file")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  # Remove only a directory this script made (it holds its slurm.conf), never a user's folder.
  if [ -f "$conf" ] && grep -q '^ClusterName=dnmflocal$' "$conf"; then rm -rf "$dir"; fi
}

start() {
  if [ "$(id -u)" -ne 0 ]; then echo "slurm-local.sh: slurmd needs root" >&2; exit 1; fi
  for tool in munged slurmctld slurmd sbatch; do
    command -v "$tool" >/dev/null || { echo "slurm-local.sh: $tool missing (apt-get install slurm-wlm munge)" >&2; exit 1; }
  done
  stop
  if [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
    echo "slurm-local.sh: $dir exists and is not a cluster this script made; choose another DIR" >&2
    exit 1
  fi
  mkdir -p "$dir/state" "$dir/spool" "$dir/log"
  chmod 700 "$dir"
  head -c 1024 /dev/urandom > "$dir/munge.key"
  chmod 600 "$dir/munge.key"
  munged --force --socket="$dir/munge.socket" --key-file="$dir/munge.key" \
         --pid-file="$dir/munged.pid" --log-file="$dir/log/munged.log" --seed-file="$dir/munge.seed"

  local host cpus memory
  host=$(hostname -s)
  cpus=$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)  # GNU nproc honours OMP_NUM_THREADS
  memory=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
  cat > "$conf" <<CONF
ClusterName=dnmflocal
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge.socket,cred_expire=5
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1,bf_interval=1
ReturnToService=2
JobRequeue=1
KillWait=10
MinJobAge=300
InactiveLimit=0
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE OverSubscribe=FORCE:4 State=UP
CONF
  export SLURM_CONF=$conf
  slurmctld -f "$conf"
  slurmd -f "$conf" -N "$host"
  for _ in $(seq 100); do
    if sinfo -h -o %T 2>/dev/null | grep -qx idle; then
      echo "export SLURM_CONF=$conf"
      return 0
    fi
    sleep 0.2
  done
  echo "slurm-local.sh: the node did not come up; logs in $dir/log" >&2
  tail -n 20 "$dir"/log/*.log >&2 || true
  exit 1
}

case $action in
  start) start ;;
  stop) stop ;;
  *) echo "usage: slurm-local.sh start|stop [DIR]" >&2; exit 2 ;;
esac
