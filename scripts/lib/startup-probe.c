/*
 * Starts a server command and prints the time in microseconds from the fork
 * of that command to the first "200" status line from 127.0.0.1:PORT.
 *
 * usage: startup-probe PORT URL_PATH TIMEOUT_MS [NAME=VALUE ...] -- COMMAND [ARG ...]
 *
 * NAME=VALUE pairs are added to the environment of COMMAND only, so that an
 * LD_PRELOAD meant for the server does not load into the probe itself. The
 * probe connects every 1 ms until the port accepts, then sends
 * "GET URL_PATH HTTP/1.0" and reads the status line. After a refused, reset
 * or closed connection it tries again. It exits 1 when the
 * command fails or the timeout passes, and 2 on invalid arguments. Built by
 * scripts/bench with gcc.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Returns 1 when the server responded with status 200, 0 otherwise. */
static int request_ok(int port, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("startup-probe: socket");
        exit(1);
    }
    struct timeval read_timeout = {.tv_sec = 2, .tv_usec = 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &read_timeout, sizeof read_timeout);

    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&address, sizeof address) < 0) {
        close(fd);
        return 0;
    }

    char request[512];
    int length = snprintf(request, sizeof request, "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
    if (write(fd, request, length) != length) {
        close(fd);
        return 0;
    }

    /* "HTTP/1.1 200" is 12 bytes, so read until all 12 arrived or the peer closed. */
    char status[13] = {0};
    size_t received = 0;
    while (received < 12) {
        ssize_t count = read(fd, status + received, 12 - received);
        if (count <= 0)
            break;
        received += count;
    }
    close(fd);
    return received == 12 && strncmp(status, "HTTP/1.", 7) == 0 && strncmp(status + 9, "200", 3) == 0;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr, "usage: startup-probe PORT URL_PATH TIMEOUT_MS [NAME=VALUE ...] -- COMMAND [ARG ...]\n");
        return 2;
    }
    int port = atoi(argv[1]);
    const char *path = argv[2];
    double timeout_us = atof(argv[3]) * 1000;
    int separator = 4;
    while (separator < argc && strcmp(argv[separator], "--") != 0)
        separator++;
    if (port <= 0 || port > 65535 || timeout_us <= 0 || separator + 1 >= argc) {
        fprintf(stderr, "startup-probe: invalid arguments: expected PORT URL_PATH TIMEOUT_MS [NAME=VALUE ...] -- COMMAND\n");
        return 2;
    }

    double started = now_us();
    pid_t launcher = fork();
    if (launcher < 0) {
        perror("startup-probe: fork");
        return 1;
    }
    if (launcher == 0) {
        for (int i = 4; i < separator; i++)
            putenv(argv[i]);
        execv(argv[separator + 1], argv + separator + 1);
        perror("startup-probe: exec");
        _exit(127);
    }

    /* `apache2 -k start` forks the daemon and exits, with a non-zero status on failure. */
    int launcher_done = 0;
    const struct timespec poll_interval = {.tv_sec = 0, .tv_nsec = 1000 * 1000};
    while (!request_ok(port, path)) {
        int status;
        if (!launcher_done && waitpid(launcher, &status, WNOHANG) == launcher) {
            launcher_done = 1;
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "startup-probe: %s failed (wait status %d)\n", argv[separator + 1], status);
                return 1;
            }
        }
        if (now_us() - started > timeout_us) {
            fprintf(stderr, "startup-probe: no 200 response from 127.0.0.1:%d%s within %.0f ms\n", port, path,
                    timeout_us / 1000);
            return 1;
        }
        nanosleep(&poll_interval, NULL);
    }
    double elapsed = now_us() - started;

    if (!launcher_done)
        waitpid(launcher, NULL, 0);
    printf("%.0f\n", elapsed);
    return 0;
}
