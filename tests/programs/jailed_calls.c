/*
 * Publishes a pidfile the way httpd 2.4.47 and later do, which makes the
 * library enter the jail, and then makes the calls whose results the library
 * rewrites, with host paths under the jail. It prints one `name=value` line
 * per call for the test to check.
 *
 * It exports ap_state_query() like httpd and reports the MPM phase, so the
 * library treats it as an httpd daemon parent. Build with -rdynamic.
 *
 * usage: jailed_calls PIDFILE JAIL
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Values from httpd 2.4's http_core.h. */
int ap_state_query(int query)
{
    return query == 0 ? 5 /* AP_SQ_MS_RUN_MPM */ : 2 /* AP_SQ_RM_NORMAL */;
}

static void publish_pidfile(const char *pidfile)
{
    char temporary[PATH_MAX];
    char pid[32];
    snprintf(temporary, sizeof temporary, "%s.XXXXXX", pidfile);
    snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    int fd = mkstemp(temporary);
    if (fd < 0 || write(fd, pid, strlen(pid)) < 0 || close(fd) != 0 || rename(temporary, pidfile) != 0) {
        fprintf(stderr, "Failed creating pid file %s: %s\n", temporary, strerror(errno));
        exit(1);
    }
}

static const char *errno_name(int value)
{
    switch (value) {
    case 0: return "0";
    case ENOENT: return "ENOENT";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    default: return strerror(value);
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s PIDFILE JAIL\n", argv[0]);
        return 2;
    }
    const char *jail = argv[2];
    char path[PATH_MAX + 64];
    char result[PATH_MAX];
    struct stat status;

    publish_pidfile(argv[1]);

    snprintf(path, sizeof path, "%s/www", jail);
    printf("realpath=%s\n", realpath(path, result) ? result : errno_name(errno));

    printf("chdir=%s\n", chdir(path) == 0 ? "0" : errno_name(errno));
    printf("getcwd=%s\n", getcwd(result, sizeof result) ? result : errno_name(errno));

    snprintf(path, sizeof path, "%s/tmp/probe.XXXXXX", jail);
    int fd = mkstemp(path);
    printf("mkstemp=%s\n", fd >= 0 ? path : errno_name(errno));

    /* The directory that contains the jail, which httpd's directory walk checks. */
    snprintf(path, sizeof path, "%s", jail);
    *strrchr(path, '/') = '\0';
    int found = stat(path, &status);
    printf("ancestor=%s\n", found != 0 ? errno_name(errno) : S_ISDIR(status.st_mode) ? "directory" : "other");

    struct sockaddr_un address = { .sun_family = AF_UNIX };
    snprintf(address.sun_path, sizeof address.sun_path, "%s/run/probe.sock", jail);
    int server = socket(AF_UNIX, SOCK_STREAM, 0);
    int bound = bind(server, (struct sockaddr *)&address, sizeof address);
    printf("bind=%s\n", bound == 0 ? "0" : errno_name(errno));
    listen(server, 1);
    int client = socket(AF_UNIX, SOCK_STREAM, 0);
    int connected = connect(client, (struct sockaddr *)&address, sizeof address);
    printf("connect=%s\n", connected == 0 ? "0" : errno_name(errno));

    /* A path under the jail that the kernel would reject as too long. */
    int length = snprintf(path, sizeof path, "%s/", jail);
    memset(path + length, 'a', sizeof path - length - 1);
    path[sizeof path - 1] = '\0';
    found = stat(path, &status);
    printf("long=%s\n", found == 0 ? "0" : errno_name(errno));
    return 0;
}
