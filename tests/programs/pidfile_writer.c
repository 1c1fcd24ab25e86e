/*
 * Writes a pidfile the way httpd's daemon parent does, so that the library's
 * jail entry can be tested for both sequences, including the one of httpd
 * releases before 2.4.47, which cannot run here.
 *
 * It exports ap_state_query() like httpd and reports the MPM phase, so the
 * library treats it as an httpd daemon parent. Build with -rdynamic.
 *
 * usage: pidfile_writer legacy|rename PIDFILE MARKER [wait]
 *   legacy  open(O_WRONLY|O_CREAT|O_TRUNC), write the pid, close
 *   rename  mkstemp("PIDFILE.XXXXXX"), chmod 0644, write, close, rename
 *   wait    read one line from stdin before writing the pidfile
 * Afterwards it prints whether MARKER (an absolute path) is visible.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Values from httpd 2.4's http_core.h. */
#define AP_SQ_MAIN_STATE 0
#define AP_SQ_RUN_MODE 1
#define AP_SQ_MS_RUN_MPM 5
#define AP_SQ_RM_NORMAL 2

int ap_state_query(int query)
{
    if (query == AP_SQ_MAIN_STATE)
        return AP_SQ_MS_RUN_MPM;
    if (query == AP_SQ_RUN_MODE)
        return AP_SQ_RM_NORMAL;
    return -1;
}

static int write_legacy(const char *pidfile, const char *pid)
{
    int fd = open(pidfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "open %s: %s\n", pidfile, strerror(errno));
        return 1;
    }
    if (write(fd, pid, strlen(pid)) < 0)
        fprintf(stderr, "write %s: %s\n", pidfile, strerror(errno));
    /* httpd before 2.4.47 ignores close()'s result here. */
    close(fd);
    return 0;
}

static int write_renamed(const char *pidfile, const char *pid)
{
    char temporary[4096];
    snprintf(temporary, sizeof temporary, "%s.XXXXXX", pidfile);
    int fd = mkstemp(temporary);
    if (fd < 0) {
        fprintf(stderr, "mkstemp %s: %s\n", temporary, strerror(errno));
        return 1;
    }
    if (chmod(temporary, 0644) != 0 || write(fd, pid, strlen(pid)) < 0 || close(fd) != 0
        || rename(temporary, pidfile) != 0) {
        /* httpd logs AH10231 and exits with status 1 here. */
        fprintf(stderr, "Failed creating pid file %s: %s\n", temporary, strerror(errno));
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s legacy|rename PIDFILE MARKER [wait]\n", argv[0]);
        return 2;
    }
    if (argc > 4 && strcmp(argv[4], "wait") == 0) {
        char line[16];
        /* The library has been set up by now; tell the test. */
        printf("waiting\n");
        fflush(stdout);
        if (fgets(line, sizeof line, stdin) == NULL)
            return 2;
    }

    char pid[32];
    snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    int failed = strcmp(argv[1], "legacy") == 0 ? write_legacy(argv[2], pid) : write_renamed(argv[2], pid);
    if (failed)
        return 1;

    printf("marker=%s\n", access(argv[3], F_OK) == 0 ? "visible" : "absent");
    return 0;
}
