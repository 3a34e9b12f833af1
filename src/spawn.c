/*
 * spawn.c: fork and exec of a VM or helper process.  The child gets a new
 * session (so its whole process group can be signalled), stdin on /dev/null,
 * stdout and stderr on the caller's pipe, every other descriptor closed, and
 * default signal dispositions and mask; it runs an argv array with execve(),
 * never a shell.  The caller gets a pidfd opened before anything could reap
 * the child, and a failure between fork and exec comes back as the stage
 * that failed and its errno over a close-on-exec pipe, never as a silent
 * exit of the child.
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef HAVE_SYS_PIDFD_H
#include <sys/pidfd.h>
#endif

#include "log.h"
#include "zonevisor.h"

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

enum spawn_stage { STAGE_SETSID = 1, STAGE_STDIO, STAGE_CHDIR, STAGE_EXEC };

struct spawn_failure {
	int	stage;
	int	err;
};

static const char *spawn_env_path(char *const *);
static void spawn_child(const struct spawn_spec *, const char *, int)
    __attribute__((noreturn));

/* Return the PATH of an environment array, or the default. */
static const char *
spawn_env_path(char *const *envp)
{
	for (; envp != NULL && *envp != NULL; envp++)
		if (strncmp(*envp, "PATH=", 5) == 0)
			return *envp + 5;
	return DEFAULT_PATH;
}

/*
 * Find file in path the way execvp() would, into out.  A name with a slash
 * is taken as it is.  Returns -1 with errno ENOENT or EACCES.
 */
int
spawn_resolve(const char *file, const char *path, char *out, size_t outlen)
{
	const char *p, *end;
	int saw_eacces = 0;
	struct stat sb;

	if (*file == '\0') {
		errno = ENOENT;
		return -1;
	}
	if (strchr(file, '/') != NULL) {
		if ((size_t)snprintf(out, outlen, "%s", file) >= outlen) {
			errno = ENAMETOOLONG;
			return -1;
		}
		return 0;
	}
	for (p = path; ; p = end + 1) {
		size_t dlen;

		end = strchr(p, ':');
		dlen = end == NULL ? strlen(p) : (size_t)(end - p);
		if (dlen == 0)
			snprintf(out, outlen, "%s", file);
		else if ((size_t)snprintf(out, outlen, "%.*s/%s", (int)dlen, p,
		    file) >= outlen)
			goto next;
		if (stat(out, &sb) == 0 && S_ISREG(sb.st_mode)) {
			if (access(out, X_OK) == 0)
				return 0;
			saw_eacces = 1;
		}
next:
		if (end == NULL)
			break;
	}
	errno = saw_eacces ? EACCES : ENOENT;
	return -1;
}

/*
 * Check, without forking, what would make spawn_process() fail: a command
 * that cannot be found or executed, a working directory that cannot be
 * entered.  A restart runs this before it touches the running VM.
 */
int
spawn_preflight(const struct spawn_spec *spec, char *cause, size_t causelen)
{
	char path[PATH_MAX], full[PATH_MAX];
	struct stat sb;
	int err = 0;

	if (spawn_resolve(spec->argv[0], spawn_env_path(spec->envp), path,
	    sizeof path) != 0) {
		snprintf(cause, causelen, "execve %s: %s (%s)", spec->argv[0],
		    strerror(errno), names_errno(errno));
		return -1;
	}
	/* A relative name with a slash is found from the working directory. */
	if ((size_t)snprintf(full, sizeof full, "%s%s%s",
	    path[0] != '/' && spec->cwd != NULL ? spec->cwd : "",
	    path[0] != '/' && spec->cwd != NULL ? "/" : "", path) >= sizeof full)
		err = ENAMETOOLONG;
	else if (stat(full, &sb) == -1)
		err = errno;
	else if (!S_ISREG(sb.st_mode))
		err = EACCES;
	else if (access(full, X_OK) == -1)
		err = errno;
	if (err != 0) {
		snprintf(cause, causelen, "execve %s: %s (%s)", path,
		    strerror(err), names_errno(err));
		return -1;
	}
	if (spec->cwd == NULL)
		return 0;
	if (stat(spec->cwd, &sb) == -1)
		err = errno;
	else if (!S_ISDIR(sb.st_mode))
		err = ENOTDIR;
	else if (access(spec->cwd, X_OK) == -1)
		err = errno;
	if (err != 0) {
		snprintf(cause, causelen, "chdir %s: %s (%s)", spec->cwd,
		    strerror(err), names_errno(err));
		return -1;
	}
	return 0;
}

/* Give a child the signal dispositions and mask of a fresh process. */
void
spawn_child_reset(void)
{
	sigset_t none;
	int sig;

	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* In the child: set up and exec, or report the failing stage and exit. */
static void
spawn_child(const struct spawn_spec *spec, const char *path, int errfd)
{
	struct spawn_failure f = { 0, 0 };
	int fd;

	spawn_child_reset();
	if (setsid() == -1) {
		f.stage = STAGE_SETSID;
		goto fail;
	}
	if ((fd = open("/dev/null", O_RDWR)) == -1 || dup2(fd, 0) == -1) {
		f.stage = STAGE_STDIO;
		goto fail;
	}
	if (spec->output_fd == -1 ? dup2(fd, 1) == -1 || dup2(fd, 2) == -1 :
	    dup2(spec->output_fd, 1) == -1 || dup2(spec->output_fd, 2) == -1) {
		f.stage = STAGE_STDIO;
		goto fail;
	}
	if (spec->cwd != NULL && chdir(spec->cwd) == -1) {
		f.stage = STAGE_CHDIR;
		goto fail;
	}
	/* Every descriptor but stdio closes at exec; errfd already does. */
	if (syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */) == -1) {
		for (fd = 3; fd < 65536; fd++)
			if (fd != errfd)
				close(fd);
	}
	execve(path, spec->argv, spec->envp);
	f.stage = STAGE_EXEC;
fail:
	f.err = errno;
	if (write(errfd, &f, sizeof f) == -1)
		_exit(126);
	_exit(127);
}

/*
 * Start spec->argv.  On success fills res (pid, pidfd, start time) and
 * returns 0; the caller owns the child and must reap it.  On failure writes
 * a one-line cause naming the stage and errno, reaps any child, returns -1.
 */
int
spawn_process(const struct spawn_spec *spec, struct spawn_result *res,
    char *cause, size_t causelen)
{
	char path[PATH_MAX];
	struct spawn_failure f;
	struct exit_info ei;
	int errpipe[2], pidfd;
	ssize_t n;
	pid_t pid;

	if (spawn_resolve(spec->argv[0], spawn_env_path(spec->envp), path,
	    sizeof path) != 0) {
		snprintf(cause, causelen, "execve %s: %s (%s)", spec->argv[0],
		    strerror(errno), names_errno(errno));
		return -1;
	}
	if (pipe2(errpipe, O_CLOEXEC) == -1) {
		snprintf(cause, causelen, "pipe: %s (%s)", strerror(errno),
		    names_errno(errno));
		return -1;
	}
	if ((pid = fork()) == -1) {
		snprintf(cause, causelen, "fork: %s (%s)", strerror(errno),
		    names_errno(errno));
		close(errpipe[0]);
		close(errpipe[1]);
		return -1;
	}
	if (pid == 0) {
		close(errpipe[0]);
		spawn_child(spec, path, errpipe[1]);
	}
	close(errpipe[1]);
	/* Nobody else reaps this child, so the pid is still ours to open. */
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd == -1) {
		int err = errno;

		kill(pid, SIGKILL);
		close(errpipe[0]);
		reaper_reap_now(pid, &ei);
		snprintf(cause, causelen, "pidfd_open: %s (%s)", strerror(err),
		    names_errno(err));
		return -1;
	}
	do
		n = read(errpipe[0], &f, sizeof f);
	while (n == -1 && errno == EINTR);
	close(errpipe[0]);
	if (n == (ssize_t)sizeof f) {
		static const char *const stages[] = { "", "setsid", "stdio",
		    "chdir", "execve" };
		const char *arg = f.stage == STAGE_CHDIR ? spec->cwd :
		    f.stage == STAGE_EXEC ? path : NULL;

		reaper_reap_now(pid, &ei);
		close(pidfd);
		if (f.stage < STAGE_SETSID || f.stage > STAGE_EXEC)
			f.stage = STAGE_EXEC;
		snprintf(cause, causelen, "%s%s%s: %s (%s)", stages[f.stage],
		    arg != NULL ? " " : "", arg != NULL ? arg : "",
		    strerror(f.err), names_errno(f.err));
		return -1;
	}
	res->pid = pid;
	res->pidfd = pidfd;
	if (proc_start_time(pid, &res->start_time) != 0)
		res->start_time = 0;
	return 0;
}
