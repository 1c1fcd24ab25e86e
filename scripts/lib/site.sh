# A throwaway site for Debian's apache2 with ordinary host paths, and the
# kernel's view of its processes. Source it after setup.sh; it defines
# functions only.

# Prints a free 127.0.0.1 port below the kernel's ephemeral range, which no
# socket uses. Checking only for a listener could return the local port of a
# client connection, and a later bind of that port would fail (EADDRINUSE).
free_port() {
    local ephemeral_low port hex
    ephemeral_low=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range)
    [ "$ephemeral_low" -gt 10100 ] || die "the ephemeral port range starts at $ephemeral_low, expected above 10100 (net.ipv4.ip_local_port_range)"
    for port in $(shuf -i "10000-$((ephemeral_low - 1))" -n 100); do
        hex=$(printf '%04X' "$port")
        if ! awk -v hex=":$hex" 'FNR > 1 && substr($2, length($2) - 4) == hex { found = 1 } END { exit !found }' \
            /proc/net/tcp /proc/net/tcp6; then
            echo "$port"
            return
        fi
    done
    die "found no free port on 127.0.0.1 below $ephemeral_low"
}

# Copies a program and the libraries ldd lists into the jail at the same paths.
copy_program() {
    local jail=$1 program=$2 file
    for file in "$program" $(ldd "$program" | grep -o '/[^ ]*'); do
        mkdir -p "$jail$(dirname "$file")"
        cp -L "$file" "$jail$file"
    done
}

write_site() {
    local mpm=$1 dir=$2 port=$3
    local jail="$dir/jail"
    mkdir -p "$jail/www/cgi-bin" "$jail/run" "$jail/tmp" "$dir/run" "$dir/logs"
    chmod 1777 "$jail/tmp"
    echo "Hello from Debian's apache2 ($mpm MPM), served from the jail" >"$jail/www/index.html"
    echo "This file exists only inside the jail: its path outside is $jail/only-in-jail.txt" >"$jail/only-in-jail.txt"
    copy_program "$jail" /bin/sh
    cat >"$jail/www/cgi-bin/root.cgi" <<'CGI'
#!/bin/sh
echo "Content-Type: text/plain"
echo
echo "The CGI script sees / containing: $(echo /*)"
CGI
    chmod 755 "$jail/www/cgi-bin/root.cgi"

    cat >"$dir/httpd.conf" <<CONF
# Standalone configuration: every path is an ordinary host path.
ServerRoot /etc/apache2
ServerName demo.invalid
Listen 127.0.0.1:$port
PidFile $dir/run/httpd.pid
ErrorLog $dir/logs/error.log
LogLevel info
User www-data
Group www-data
LoadModule mpm_${mpm}_module /usr/lib/apache2/modules/mod_mpm_${mpm}.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule mime_module /usr/lib/apache2/modules/mod_mime.so
LoadModule alias_module /usr/lib/apache2/modules/mod_alias.so
LoadModule dir_module /usr/lib/apache2/modules/mod_dir.so
LoadModule cgid_module /usr/lib/apache2/modules/mod_cgid.so
TypesConfig /etc/mime.types
DocumentRoot $jail/www
ScriptSock $jail/run/cgisock
ScriptAlias /cgi-bin/ $jail/www/cgi-bin/
# A path that exists only inside the jail.
Alias /proof.txt /only-in-jail.txt
CONF
}

# Returns whether any process runs apache2 with this configuration file.
runs_config() {
    local cmdline command
    for cmdline in /proc/[0-9]*/cmdline; do
        # The process may exit between the glob and the read.
        command=$({ tr '\0' ' ' <"$cmdline"; } 2>/dev/null) || continue
        [[ "$command" == "/usr/sbin/apache2 -f $1 "* ]] && return 0
    done
    return 1
}

show_processes() {
    local parent=$1 jail=$2
    local socket inode pid role
    socket="$jail/run/cgisock.$parent"
    inode=$(awk -v path="$socket" '$8 == path { print $7 }' /proc/net/unix)
    printf '  %-7s %-9s %-45s %s\n' PID USER "ROOT (/proc/PID/root)" ROLE
    for pid in $parent $(ps -o pid= --ppid "$parent"); do
        [ "$(readlink "/proc/$pid/exe")" = /usr/sbin/apache2 ] || continue
        if [ "$pid" = "$parent" ]; then
            role="daemon parent"
        elif [ -n "$inode" ] && ls -l "/proc/$pid/fd" 2>/dev/null | grep -q "socket:\[$inode\]"; then
            role="mod_cgid daemon"
        else
            role="child"
        fi
        printf '  %-7s %-9s %-45s %s\n' "$pid" "$(ps -o user= -p "$pid")" "$(readlink "/proc/$pid/root")" "$role"
    done
}

