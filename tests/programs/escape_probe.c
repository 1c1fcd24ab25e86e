/*
 * A CGI program that tries to reach a file outside its chroot jail, used by
 * tests/escape_attempts.rs. It is linked statically, so the jail needs no
 * libraries for it.
 *
 * Input, in QUERY_STRING (no URL decoding, so values are plain paths):
 *   token=T   text that only the outside file contains
 *   path=P    the outside file's absolute host path
 *   jail=J    the jail's absolute host path
 *   links=L   the path under which the probe opens the symlinks the test planted
 *
 * Output: a CGI header, then one line per attempt, a name followed by
 * key=value fields. A failed attempt prints `errno=NAME`. An open that
 * succeeds prints `ok token=found` or `ok token=absent`. The probe never
 * prints what it reads.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* More `..` components than any host path in a test has directories. */
#define CLIMB 32

static const char *token = "";
static const char *outside = "";
static const char *jail = "";
static const char *links = "";

/* Returns the errno's symbolic name, such as "ENOENT". */
static const char *errno_name(int number)
{
    static char unknown[32];
    const char *name = strerrorname_np(number);

    if (name != NULL)
        return name;
    snprintf(unknown, sizeof unknown, "E%d", number);
    return unknown;
}

/* Reads the fields of QUERY_STRING. The stored values point into a copy that lives until exit. */
static void parse_query(void)
{
    const char *query = getenv("QUERY_STRING");
    char *copy = strdup(query != NULL ? query : "");
    char *saved = NULL;

    for (char *pair = strtok_r(copy, "&", &saved); pair != NULL; pair = strtok_r(NULL, "&", &saved)) {
        char *value = strchr(pair, '=');
        if (value == NULL)
            continue;
        *value++ = '\0';
        if (strcmp(pair, "token") == 0)
            token = value;
        else if (strcmp(pair, "path") == 0)
            outside = value;
        else if (strcmp(pair, "jail") == 0)
            jail = value;
        else if (strcmp(pair, "links") == 0)
            links = value;
    }
}

/*
 * Opens `path` for reading and prints `label`, then the errno name or
 * whether the file contains the token. O_NONBLOCK keeps a FIFO or device
 * from blocking the probe.
 */
static void try_open(const char *label, const char *path)
{
    char buffer[4096];
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

    if (fd < 0) {
        printf("%s errno=%s\n", label, errno_name(errno));
        return;
    }
    ssize_t length = read(fd, buffer, sizeof buffer);
    int found = length > 0 && memmem(buffer, (size_t)length, token, strlen(token)) != NULL;
    printf("%s ok token=%s\n", label, found ? "found" : "absent");
    close(fd);
}

/* Writes `count` copies of "../" followed by `path` without its leading slash. */
static void climb(char *out, size_t size, int count, const char *path)
{
    size_t used = 0;

    out[0] = '\0';
    for (int i = 0; i < count && used + 3 < size; i++)
        used += (size_t)snprintf(out + used, size - used, "../");
    snprintf(out + used, size - used, "%s", path[0] == '/' ? path + 1 : path);
}

static void print_cwd(const char *label)
{
    char cwd[PATH_MAX];

    if (getcwd(cwd, sizeof cwd) != NULL)
        printf("%s path=%s\n", label, cwd);
    else
        printf("%s errno=%s\n", label, errno_name(errno));
}

/* Attempts 1 to 3: the absolute host path, `..` from the working directory, and the planted symlinks. */
static void try_paths(void)
{
    char path[PATH_MAX];

    try_open("open-absolute", outside);

    /* <jail>/../ followed by the outside path below the jail's parent. */
    size_t parent = (size_t)(strrchr(jail, '/') - jail);
    if (strncmp(outside, jail, parent) == 0 && outside[parent] == '/') {
        snprintf(path, sizeof path, "%s/..%s", jail, outside + parent);
        try_open("open-jail-dotdot", path);
    } else {
        printf("open-jail-dotdot errno=EINVAL\n");
    }

    climb(path, sizeof path, CLIMB, outside);
    try_open("open-dotdot", path);

    for (int i = 0; i < CLIMB; i++) {
        if (chdir("..") != 0) {
            printf("chdir-dotdot errno=%s\n", errno_name(errno));
            break;
        }
    }
    print_cwd("chdir-dotdot");
    try_open("chdir-dotdot-open", outside + 1);

    const char *names[] = { "absolute", "relative", "deep" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char label[64];
        snprintf(path, sizeof path, "%s/%s", links, names[i]);
        snprintf(label, sizeof label, "symlink-%s", names[i]);
        try_open(label, path);
    }
}

/*
 * Attempt 4: every process's root and working directory under /proc. The
 * owner of /proc/PID/status is the process's effective uid, or root when the
 * process is not dumpable because it changed its uid and did not exec since.
 * The directory /proc/PID itself shows the effective uid in both cases.
 */
static void try_proc(void)
{
    DIR *proc = opendir("/proc");

    if (proc == NULL) {
        printf("proc-list errno=%s\n", errno_name(errno));
        return;
    }
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir(proc)) != NULL) {
        char *end = NULL;
        long pid = strtol(entry->d_name, &end, 10);
        if (!isdigit((unsigned char)entry->d_name[0]) || *end != '\0')
            continue;
        char owner[32] = "gone";
        char label[96];
        char path[PATH_MAX];
        struct stat status;

        snprintf(path, sizeof path, "/proc/%ld/status", pid);
        if (stat(path, &status) == 0)
            snprintf(owner, sizeof owner, "%u", (unsigned)status.st_uid);

        snprintf(label, sizeof label, "proc-root pid=%ld owner=%s", pid, owner);
        snprintf(path, sizeof path, "/proc/%ld/root%s", pid, outside);
        try_open(label, path);

        snprintf(label, sizeof label, "proc-cwd pid=%ld owner=%s", pid, owner);
        size_t used = (size_t)snprintf(path, sizeof path, "/proc/%ld/cwd/", pid);
        climb(path + used, sizeof path - used, CLIMB, outside);
        try_open(label, path);
        count++;
    }
    closedir(proc);
    printf("proc-list count=%d\n", count);
}

static const char *file_type(int fd)
{
    struct stat status;

    if (fstat(fd, &status) != 0)
        return "unknown";
    switch (status.st_mode & S_IFMT) {
    case S_IFDIR: return "directory";
    case S_IFSOCK: return "socket";
    case S_IFIFO: return "pipe";
    case S_IFREG: return "file";
    case S_IFCHR: return "character-device";
    default: return "other";
    }
}

/* Attempt 5: fchdir through every open descriptor, then climb from there. */
static void try_descriptors(void)
{
    struct rlimit limit;

    if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        printf("fd-limit errno=%s\n", errno_name(errno));
        return;
    }
    printf("fd-limit soft=%llu\n", (unsigned long long)limit.rlim_cur);
    for (rlim_t fd = 0; fd < limit.rlim_cur && fd <= INT_MAX; fd++) {
        if (fcntl((int)fd, F_GETFD) < 0)
            continue;
        const char *type = file_type((int)fd);
        if (fchdir((int)fd) != 0) {
            printf("fchdir fd=%d type=%s errno=%s\n", (int)fd, type, errno_name(errno));
            continue;
        }
        printf("fchdir fd=%d type=%s ok\n", (int)fd, type);
        print_cwd("fchdir-getcwd");
        char path[PATH_MAX];
        char label[64];
        climb(path, sizeof path, CLIMB, outside);
        snprintf(label, sizeof label, "fchdir-open fd=%d", (int)fd);
        try_open(label, path);
    }
}

/* Attempt 6: chroot again, which needs CAP_SYS_CHROOT. */
static void try_chroot(void)
{
    const char *targets[][2] = { { "chroot-dot", "." }, { "chroot-root", "/" } };

    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        if (chroot(targets[i][1]) == 0)
            printf("%s ok\n", targets[i][0]);
        else
            printf("%s errno=%s\n", targets[i][0], errno_name(errno));
    }
}

int main(void)
{
    parse_query();
    printf("Content-Type: text/plain\n\n");
    if (token[0] == '\0' || outside[0] != '/' || jail[0] != '/' || links[0] == '\0') {
        printf("usage errno=EINVAL\n");
        return 0;
    }
    printf("self pid=%d uid=%u\n", (int)getpid(), (unsigned)getuid());
    print_cwd("cwd-start");

    try_paths();
    try_proc();
    try_descriptors();
    try_chroot();
    printf("done\n");
    return 0;
}
