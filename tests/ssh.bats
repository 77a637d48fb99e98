#!/usr/bin/env bats
# Work across hosts over ssh, for real: each test starts Debian's sshd on 127.0.0.1 on a free
# port, with a host key, a client key and a config of its own in the test's temp dir (the
# system's ssh configuration is not read or changed), and runs GNU parallel through it as two
# "hosts", host1 and host2: files shipped with --transferfile, results brought back with
# --return, the remote copies removed with --cleanup. Traffic stays on the loopback address.
# teardown stops the daemon, also when a test fails.

load lib/common

setup() {
    setup_t0
    for c in /usr/sbin/sshd ssh ssh-keygen rsync parallel; do
        command -v "$c" >/dev/null || skip "no $c (Debian: openssh-server, openssh-client, rsync, parallel)"
    done
    start_sshd
}

teardown() {
    if [ -n "${SSHD_PID:-}" ]; then
        kill "$SSHD_PID" 2>/dev/null || true
        wait "$SSHD_PID" 2>/dev/null || true
    fi
    # the hosts' working folder of the eval-tokens test, made by this test under a name of its own
    if [ -n "${REMOTE_WORK:-}" ]; then rm -rf "$REMOTE_WORK"; fi
}

# Starts sshd on a free port; sets SSHD_PID, SSH_PORT, SSH_CONFIG (an ssh_config naming host1 and
# host2, both this daemon) and PARALLEL_SSH, which GNU parallel uses for ssh and rsync.
start_sshd() {
    local dir=$TMP/ssh port try
    mkdir -p "$dir" "$TMP/home"
    [ "$(id -u)" -eq 0 ] || skip "sshd as a test daemon needs root here (it runs jobs as root)"
    # sshd needs its (empty) privilege separation directory, which Debian's service makes at
    # start (systemd's RuntimeDirectory). Made here when missing and left: another test's sshd
    # may be using it (two make check runs at once)
    if [ ! -d /run/sshd ]; then
        mkdir -p -m 755 /run/sshd 2>/dev/null || skip "sshd cannot start: no /run/sshd and it cannot be made"
    fi
    ssh-keygen -q -t ed25519 -N '' -f "$dir/host_key"
    ssh-keygen -q -t ed25519 -N '' -f "$dir/client_key"
    cp "$dir/client_key.pub" "$dir/authorized_keys"
    echo "t0-test-sshd $(cut -d' ' -f1,2 "$dir/host_key.pub")" > "$dir/known_hosts"
    for try in 1 2 3 4 5 6 7 8; do
        port=$((20000 + RANDOM % 40000))
        # a port something answers on is taken
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
        # root may log in with the test's key, on this daemon only; the "hosts" find the
        # t0 programs on PATH, as hosts with t0 tools installed would. Both hosts are this one
        # daemon, so it takes the connections of two (parallel sends each --basefile, a
        # sharded model's files, at once: sshd's default MaxStartups of 10 dropped some)
        cat > "$dir/sshd_config" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $dir/host_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
MaxStartups 64
StrictModes no
SetEnv PATH=$T0_BIN:/usr/local/bin:/usr/bin:/bin
EOF
        cat > "$dir/ssh_config" <<EOF
Host host1 host2
  HostName 127.0.0.1
  Port $port
  User root
  IdentityFile $dir/client_key
  IdentitiesOnly yes
  HostKeyAlias t0-test-sshd
  UserKnownHostsFile $dir/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
  LogLevel ERROR
EOF
        /usr/sbin/sshd -D -e -f "$dir/sshd_config" > "$dir/sshd.log" 2>&1 3>&- &
        SSHD_PID=$!
        for _ in $(seq 50); do
            if ssh -F "$dir/ssh_config" host1 true 2>/dev/null; then
                SSH_CONFIG=$dir/ssh_config SSH_PORT=$port
                export PARALLEL_SSH="ssh -F $SSH_CONFIG"
                return 0
            fi
            kill -0 "$SSHD_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill "$SSHD_PID" 2>/dev/null || true
        wait "$SSHD_PID" 2>/dev/null || true
        SSHD_PID=
    done
    skip "sshd cannot start here: $(tail -n 1 "$dir/sshd.log" 2>/dev/null)"
}

# GNU parallel with the two hosts, one job slot each; its own state (~/.parallel) in the
# test's temp dir. Remote jobs run in a fresh directory each, under $TMP/remote.
parallel_hosts() {
    HOME=$TMP/home parallel --will-cite -S 1/host1,1/host2 --wd "$TMP/remote/{#}" --cleanup \
        --joblog "$TMP/joblog" --halt now,fail=1 "$@"
}

# 50 token records of three tasks
# Two score streams hold the same records and preds, and scores equal to a relative 1e-5.
# Not bit for bit: a host may run other kernels (another CPU, or here the environment: ssh
# does not pass T0_BF16_PLAIN or OPENBLAS_CORETYPE on, so a suite run with a kernel forced
# computes the remote shards otherwise).
same_scores() {
    t0-cat "$1" > "$TMP/l.jsonl"
    t0-cat "$2" > "$TMP/r.jsonl"
    run -0 jq -n --slurpfile a "$TMP/l.jsonl" --slurpfile b "$TMP/r.jsonl" '
        ($a | length) == ($b | length) and ($a | length) > 0 and
        ([range(0; $a | length) as $k | $a[$k] as $x | $b[$k] as $y
          | ($x | del(.scores)) == ($y | del(.scores)) and ($x.scores | length) == ($y.scores | length)
            and ([range(0; $x.scores | length) as $j
                  | (($x.scores[$j] - $y.scores[$j]) | fabs) <= 1e-5 * ($x.scores[$j] | fabs)] | all)] | all)'
    [ "$output" = true ]
}

make_tokens() {
    local i
    for i in $(seq 0 49); do
        printf '{"kind":"tokens","task":"t%d","template":"p","id":%d,"input_ids":[%d,5,1],"target_ids":[7,1],"choice_ids":[[3,1],[4,1]],"label":%d}\n' \
            $((i % 3)) "$i" "$i" $((i % 2))
    done | t0-cat --encode -o "$1"
}

@test "the daemon serves two hosts on the loopback address, and only by key" {
    run -0 ssh -F "$SSH_CONFIG" host2 'echo "$SSH_CONNECTION"; command -v t0-cat'
    [[ ${lines[0]} == "127.0.0.1 "*" 127.0.0.1 "* ]]
    [ "${lines[1]}" = "$T0_BIN/t0-cat" ]
    # with another key the daemon refuses
    ssh-keygen -q -t ed25519 -N '' -f "$TMP/other_key"
    run -255 ssh -F /dev/null -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
        -o IdentitiesOnly=yes -i "$TMP/other_key" -p "$SSH_PORT" root@127.0.0.1 true
    echo "$output"
    [[ $output == *"Permission denied"* ]]
}

@test "t0-cat --shard over ssh on two hosts: shards shipped and returned equal the local ones" {
    mkdir -p "$TMP/job" && cd "$TMP/job"
    make_tokens tok.t0
    run -0 parallel_hosts --transferfile tok.t0 --return 'part{}.t0' \
        't0-cat --stream --shard {}/2 tok.t0 -o part{}.t0' ::: 0 1
    # both hosts ran a job
    run -0 cut -f2 "$TMP/joblog"
    [ "$(tail -n +2 <<<"$output" | sort | tr '\n' ' ')" = "host1 host2 " ]
    for i in 0 1; do
        t0-cat --stream --shard "$i/2" tok.t0 -o "$TMP/local$i.t0"
        cmp "part$i.t0" "$TMP/local$i.t0"
    done
    # together the shards are the input
    cat part0.t0 part1.t0 | t0-cat | sort > "$TMP/shards.jsonl"
    t0-cat tok.t0 | sort > "$TMP/all.jsonl"
    cmp "$TMP/shards.jsonl" "$TMP/all.jsonl"
    [ "$(wc -l < "$TMP/all.jsonl")" -eq 50 ]
    # --cleanup left nothing on the hosts
    [ -z "$(find "$TMP/remote" -type f 2>/dev/null)" ]
}

@test "a job that fails on a host fails the run (--halt now,fail=1)" {
    mkdir -p "$TMP/job" && cd "$TMP/job"
    echo 'not a stream' > bad.t0
    run -1 parallel_hosts --transferfile bad.t0 --return 'part{}.t0' \
        't0-cat --stream --shard {}/2 bad.t0 -o part{}.t0' ::: 0 1
    [[ $output == *"t0-cat: bad.t0: "* ]]
    [ ! -e part0.t0 ] && [ ! -e part1.t0 ]
}

@test "make eval-tokens HOSTS=host1,host2: the sharded evaluation over ssh reports as the local one, byte for byte" {
    local fix=$ROOT/tests/fixtures/score model=$ROOT/tests/fixtures/model/a_gated_untied
    t0-cat --encode -o "$TMP/a.t0" "$fix/a_gated_untied.tokens.jsonl"
    t0-cat --encode -o "$TMP/b.t0" "$fix/b_relu_tied.tokens.jsonl"
    make -s -C "$ROOT" eval-tokens EVAL_BIN="$T0_BIN" MODEL="$model" TOKENS="$TMP/a.t0 $TMP/b.t0" \
        SHARDS=2 WORK="$TMP/local" > "$TMP/local.txt"
    # eval-tokens runs the remote jobs in WORK's path relative to the home directory
    # (parallel --workdir .). Here the hosts are this machine: WORK lies in a home of the
    # test's, so the hosts work in a folder of that name in root's login directory, apart from
    # WORK itself and from the model (which --cleanup would otherwise remove through WORK's
    # link to it).
    REMOTE_WORK=$(getent passwd root | cut -d: -f6)/t0-ssh-eval.$$
    [ ! -e "$REMOTE_WORK" ]
    # the report is make's standard output; stderr may carry the hosts' login noise (root's
    # shell init running `pyenv rehash` in several sessions at once printed "cannot rehash")
    env HOME="$TMP/home" make -s -C "$ROOT" eval-tokens EVAL_BIN="$T0_BIN" MODEL="$model" \
        TOKENS="$TMP/a.t0 $TMP/b.t0" SHARDS=2 WORK="$TMP/home/t0-ssh-eval.$$" HOSTS=host1,host2 > "$TMP/remote.txt"
    cmp "$TMP/local.txt" "$TMP/remote.txt"
    [ "$(wc -l < "$TMP/local.txt")" -gt 3 ]
    # the shards ran on both hosts, and their score streams equal the local ones (same_scores)
    run -0 cut -f2 "$TMP/home/t0-ssh-eval.$$/joblog"
    [ "$(tail -n +2 <<<"$output" | sort -u | tr '\n' ' ')" = "host1 host2 " ]
    for i in 0 1; do
        same_scores "$TMP/local/shard-$i.scores" "$TMP/home/t0-ssh-eval.$$/shard-$i.scores"
    done
    # --cleanup left nothing on the hosts, and the model is whole
    [ -z "$(find "$REMOTE_WORK" -type f 2>/dev/null)" ]
    git -C "$ROOT" diff --quiet -- tests/fixtures/model/a_gated_untied
}

@test "make eval-tokens HOSTS=: a sharded PyTorch .bin model is sent whole and scores as its safetensors twin" {
    local fix=$ROOT/tests/fixtures/torchbin model=$ROOT/tests/fixtures/torchbin/bf16_untied_sharded
    t0-cat --encode -o "$TMP/a.t0" "$ROOT/tests/fixtures/score/a_gated_untied.tokens.jsonl"
    mkdir "$TMP/twin"
    cp "$model/config.json" "$TMP/twin/" && cp "$fix/bf16_untied_sharded.safetensors" "$TMP/twin/model.safetensors"
    make -s -C "$ROOT" eval-tokens EVAL_BIN="$T0_BIN" MODEL="$TMP/twin" TOKENS="$TMP/a.t0" SHARDS=2 WORK="$TMP/local" \
        > "$TMP/local.txt"
    REMOTE_WORK=$(getent passwd root | cut -d: -f6)/t0-ssh-evalbin.$$
    env HOME="$TMP/home" make -s -C "$ROOT" eval-tokens EVAL_BIN="$T0_BIN" MODEL="$model" \
        TOKENS="$TMP/a.t0" SHARDS=2 WORK="$TMP/home/t0-ssh-evalbin.$$" HOSTS=host1,host2 > "$TMP/remote.txt"
    cmp "$TMP/local.txt" "$TMP/remote.txt"
    for i in 0 1; do
        same_scores "$TMP/local/shard-$i.scores" "$TMP/home/t0-ssh-evalbin.$$/shard-$i.scores"
    done
    [ -z "$(find "$REMOTE_WORK" -type f 2>/dev/null)" ]
    git -C "$ROOT" diff --quiet -- tests/fixtures/torchbin
}
