# Sites, server control, wrk parsing and statistics for scripts/bench.
# Source it after setup.sh; it defines functions only.

# Variants of one site: no library, the library with the jail, and httpd's
# own ChrootDir with the same jail.
VARIANTS=(none library chrootdir)

# Creates the jail shared by every variant: the two files served, and
# libgcc_s.so.1, which glibc loads at the first pthread_exit in event
# children. The library loads it before the chroot; ChrootDir needs a copy.
write_bench_jail() {
    local jail=$1 libgcc
    mkdir -p "$jail/www"
    head -c 1024 /dev/urandom >"$jail/www/1k.bin"
    head -c 102400 /dev/urandom >"$jail/www/100k.bin"
    libgcc=$(ldconfig -p | awk '/libgcc_s\.so\.1 .*x86-64|libgcc_s\.so\.1 .*AArch64/ { print $NF; exit }')
    [ -n "$libgcc" ] || libgcc=$(ldconfig -p | awk '/libgcc_s\.so\.1/ { print $NF; exit }')
    [ -n "$libgcc" ] || die "libgcc_s.so.1 not found by ldconfig -p. Install the Debian package libgcc-s1"
    mkdir -p "$jail$(dirname "$libgcc")"
    cp -L "$libgcc" "$jail$libgcc"
    chmod -R a+rX "$jail"
}

# Writes $dir/httpd.conf for one MPM and variant. The MPM limits, modules
# and logging are the same for every variant; only ChrootDir and the
# DocumentRoot spelling differ.
write_bench_conf() {
    local mpm=$1 variant=$2 dir=$3 port=$4 jail=$5
    local document_root="$jail/www" chroot_line="" limits
    if [ "$variant" = chrootdir ]; then
        # Request-time paths are jail paths under ChrootDir. httpd rejects a
        # missing DocumentRoot of the main server but only warns (AH00112)
        # for a virtual host, so every variant serves from a virtual host.
        document_root=/www
        chroot_line="ChrootDir $jail"
    fi
    case "$mpm" in
        event)
            limits="StartServers 2
ServerLimit 4
ThreadsPerChild 25
MaxRequestWorkers 100
MinSpareThreads 25
MaxSpareThreads 75" ;;
        prefork)
            limits="StartServers 24
MinSpareServers 24
MaxSpareServers 48
MaxRequestWorkers 64" ;;
        *) die "no MPM limits defined for '$mpm'" ;;
    esac
    mkdir -p "$dir/run" "$dir/logs"
    cat >"$dir/httpd.conf" <<CONF
# Benchmark site ($mpm MPM, variant $variant). No access log and
# LogLevel warn, so that disk writes do not dominate the measurement.
ServerRoot /etc/apache2
ServerName bench.invalid
Listen 127.0.0.1:$port
PidFile $dir/run/httpd.pid
ErrorLog $dir/logs/error.log
LogLevel warn
User www-data
Group www-data
LoadModule mpm_${mpm}_module /usr/lib/apache2/modules/mod_mpm_${mpm}.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
TypesConfig /etc/mime.types
$limits
MaxConnectionsPerChild 0
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 5
$chroot_line
<VirtualHost 127.0.0.1:$port>
    DocumentRoot $document_root
</VirtualHost>
CONF
}

# Prints the environment assignments that select a variant, one per line.
variant_environment() {
    local variant=$1 jail=$2
    if [ "$variant" = library ]; then
        echo "LD_PRELOAD=$LIBRARY"
        echo "HTTPD_CHROOT_DIR=$jail"
    fi
}

# Prints the pids of the processes running apache2 with this configuration.
config_pids() {
    local conf=$1 cmdline command pid
    for cmdline in /proc/[0-9]*/cmdline; do
        command=$({ tr '\0' ' ' <"$cmdline"; } 2>/dev/null) || continue
        if [[ "$command" == "/usr/sbin/apache2 -f $conf "* ]]; then
            pid=${cmdline#/proc/}
            echo "${pid%/cmdline}"
        fi
    done
}

# Starts one benchmark server and waits until it responds to /1k.bin with 200.
start_bench_server() {
    local variant=$1 dir=$2 port=$3 jail=$4 attempt
    local environment=()
    mapfile -t environment < <(variant_environment "$variant" "$jail")
    env "${environment[@]+"${environment[@]}"}" /usr/sbin/apache2 -f "$dir/httpd.conf" -k start \
        >"$dir/logs/start.out" 2>&1 \
        || die "apache2 ($variant) failed to start: $(cat "$dir/logs/start.out"); see $dir/logs/error.log"
    for attempt in $(seq 100); do
        [ -f "$dir/run/httpd.pid" ] \
            && [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/1k.bin")" = 200 ] \
            && return 0
        sleep 0.1
    done
    die "apache2 ($variant) on 127.0.0.1:$port did not respond with 200 within 10 s; see $dir/logs/error.log"
}

# Stops the server of $dir by its pidfile and waits until its processes are
# gone. Without a pidfile (a start cut short), it sends SIGTERM to the
# processes of that configuration whose parent is not one of them.
stop_bench_server() {
    local dir=$1 conf="$1/httpd.conf" pidfile="$1/run/httpd.pid" attempt pid parent pids
    if [ -f "$pidfile" ]; then
        kill -TERM "$(cat "$pidfile")" 2>/dev/null || true
    else
        pids=" $(config_pids "$conf" | tr '\n' ' ') "
        for pid in $pids; do
            parent=$(awk '{ print $4 }' "/proc/$pid/stat" 2>/dev/null) || continue
            [[ "$pids" == *" $parent "* ]] || kill -TERM "$pid" 2>/dev/null || true
        done
    fi
    for attempt in $(seq 200); do
        [ -z "$(config_pids "$conf")" ] && return 0
        sleep 0.05
    done
    die "server processes of $conf still run 10 s after SIGTERM"
}

# Prints the daemon parent's pid and the pids of its apache2 children.
server_processes() {
    local parent=$1 pid
    echo "$parent"
    for pid in $(ps -o pid= --ppid "$parent"); do
        [ "$(readlink "/proc/$pid/exe")" = /usr/sbin/apache2 ] && echo "$pid"
    done
}

# Fails unless the server's processes have the root directory the variant promises.
check_variant_roots() {
    local variant=$1 dir=$2 jail=$3 parent pid root expected
    parent=$(cat "$dir/run/httpd.pid")
    for pid in $(server_processes "$parent"); do
        root=$(readlink "/proc/$pid/root")
        case "$variant" in
            none) expected=/ ;;
            library) expected=$jail ;;
            chrootdir) [ "$pid" = "$parent" ] && expected=/ || expected=$jail ;;
        esac
        [ "$root" = "$expected" ] || die "$variant server: pid $pid has root $root, expected $expected"
    done
}

# Converts a wrk latency such as 812.00us, 1.25ms or 2.01s to microseconds.
latency_us() {
    awk -v value="$1" 'BEGIN {
        number = value + 0
        if (value ~ /us$/) factor = 1
        else if (value ~ /ms$/) factor = 1000
        else if (value ~ /m$/) factor = 60000000
        else if (value ~ /s$/) factor = 1000000
        else { print "nan"; exit }
        printf "%.0f\n", number * factor
    }'
}

# Prints "requests_per_second p50_us p99_us" from wrk --latency output on
# standard input. Fails when wrk reports non-2xx responses.
parse_wrk() {
    local output rps p50 p99 bad
    output=$(cat)
    rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$output")
    p50=$(awk '$1 == "50%" { print $2 }' <<<"$output")
    p99=$(awk '$1 == "99%" { print $2 }' <<<"$output")
    bad=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' <<<"$output")
    [ -z "$bad" ] || die "wrk got $bad non-2xx responses. wrk output: $output"
    [ -n "$rps" ] && [ -n "$p50" ] && [ -n "$p99" ] || die "unexpected wrk output: $output"
    echo "$rps $(latency_us "$p50") $(latency_us "$p99")"
}

# Prints "median min max q1 q3" of the numbers on standard input, one per line.
summarize() {
    sort -g | awk '
        function quantile(q,   position, low) {
            position = 1 + (NR - 1) * q
            low = int(position)
            return (low >= NR) ? v[NR] : v[low] + (position - low) * (v[low + 1] - v[low])
        }
        { v[NR] = $1 }
        END {
            if (NR == 0) { print "nan nan nan nan nan"; exit }
            print quantile(0.5), v[1], v[NR], quantile(0.25), quantile(0.75)
        }'
}

# Formats "median min max ..." as "median (min–max)" with printf format $1.
format_spread() {
    local format=$1
    shift
    # shellcheck disable=SC2059
    printf "$format ($format–$format)" "$1" "$2" "$3"
}

