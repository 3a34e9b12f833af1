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

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <sched.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
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
#include "xmalloc.h"
#include "zonevisor.h"

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

enum spawn_stage { STAGE_SETSID = 1, STAGE_STDIO, STAGE_CHDIR, STAGE_LIMITS,
	STAGE_GROUPS, STAGE_GID, STAGE_UID, STAGE_EXEC };

struct spawn_failure {
	int	stage;
	int	err;
};

static const char *spawn_env_path(char *const *);
struct spawn_child_args;
static int spawn_child(void *);
static int spawn_limit(const struct spawn_limits *);
static void spawn_vm_reset(void);
static pid_t spawn_clone(struct spawn_child_args *, int *,
    struct spawn_failure *);

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
	char path[PATH_MAX], *full = NULL;
	const char *check = path;
	struct stat sb;
	int err = 0;

	if (spawn_resolve(spec->argv[0], spawn_env_path(spec->envp), path,
	    sizeof path) != 0) {
		snprintf(cause, causelen, "execve %s: %s (%s)", spec->argv[0],
		    strerror(errno), names_errno(errno));
		return -1;
	}
	/* A relative name with a slash is found from the working directory. */
	if (path[0] != '/' && spec->cwd != NULL) {
		xasprintf(&full, "%s/%s", spec->cwd, path);
		check = full;
	}
	if (strlen(check) >= PATH_MAX)
		err = ENAMETOOLONG;
	else if (stat(check, &sb) == -1)
		err = errno;
	else if (!S_ISREG(sb.st_mode))
		err = EACCES;
	else if (access(check, X_OK) == -1)
		err = errno;
	free(full);
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

/* The descriptor limit zonevisord was started with, for its VMs. */
static struct rlimit spawn_nofile;
static int spawn_nofile_raised;

/*
 * Raise this process's soft limit on descriptors to the hard limit: the
 * parent holds a link per zone, and a thousand zones would not fit the
 * usual 1024.  VMs get the limit zonevisord was started with back
 * (spawn_child_reset), as programs that use select() expect.
 */
void
spawn_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= rl.rlim_max)
		return;
	spawn_nofile = rl;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
		spawn_nofile_raised = 1;
}

/* Signals this process ignores (spawn_ignore), which an exec would keep. */
static sigset_t spawn_ignored;

/*
 * Give a new worker the signal dispositions and mask of a fresh process,
 * and the descriptor limit zonevisord was started with.
 */
void
spawn_child_reset(void)
{
	int sig;

	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL);
	sigemptyset(&spawn_ignored);
	spawn_vm_reset();
}

/* Ignore sig in this process, but not in the VMs it spawns. */
void
spawn_ignore(int sig)
{
	signal(sig, SIG_IGN);
	sigaddset(&spawn_ignored, sig);
}

/*
 * In a VM's child before its exec: every signal back to its default and
 * none blocked.  A handler does not survive the exec; an ignored signal
 * would, so only those are reset (a spawn makes no sixty-four calls).
 */
static void
spawn_vm_reset(void)
{
	sigset_t none;
	int sig;

	if (spawn_nofile_raised)
		setrlimit(RLIMIT_NOFILE, &spawn_nofile);
	for (sig = 1; sig < NSIG; sig++)
		if (sigismember(&spawn_ignored, sig) == 1)
			signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * The vfork-style path (clone with CLONE_VM | CLONE_VFORK) does not copy
 * the worker's page tables: the child borrows them until it execs, which
 * takes the fork off a recovery's critical path.  Under AddressSanitizer,
 * whose run time does not expect a second process on its stack and TLS,
 * the plain fork() path is used instead.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SPAWN_VFORK 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SPAWN_VFORK 0
#endif
#endif
#ifndef SPAWN_VFORK
#define SPAWN_VFORK 1
#endif

#define SPAWN_STACK	65536	/* the vfork-style child's stack */

struct spawn_child_args {
	const struct spawn_spec		*spec;
	const char			*path;
	int				 errfd;		/* fork path: report here */
	volatile struct spawn_failure	*shared;	/* vfork path: or here */
};

/*
 * In the child: set up and exec, or report the failing stage and exit.
 * Only system-call wrappers run here: in the vfork-style path the child
 * shares the worker's memory until it execs.
 */
static int
spawn_child(void *arg)
{
	const struct spawn_child_args *a = arg;
	const struct spawn_spec *spec = a->spec;
	struct spawn_failure f = { 0, 0 };
	int fd;

	spawn_vm_reset();
	if (setsid() == -1) {
		f.stage = STAGE_SETSID;
		goto fail;
	}
	if ((fd = open("/dev/null", O_RDWR)) == -1 || dup2(fd, 0) == -1) {
		f.stage = STAGE_STDIO;
		goto fail;
	}
	if (spec->output_fd == -1 ? dup2(fd, 1) == -1 || dup2(fd, 2) == -1 :
	    dup2(spec->output_fd, 1) == -1 ||
	    dup2(spec->stdout_only ? fd : spec->output_fd, 2) == -1) {
		f.stage = STAGE_STDIO;
		goto fail;
	}
	if (spec->cwd != NULL && chdir(spec->cwd) == -1) {
		f.stage = STAGE_CHDIR;
		goto fail;
	}
	if (spec->umask != -1)
		umask((mode_t)spec->umask);
	if (spec->limits != NULL && spawn_limit(spec->limits) == -1) {
		f.stage = STAGE_LIMITS;
		goto fail;
	}
	/*
	 * Raw system calls: glibc's wrappers would also change the
	 * credentials of the worker's threads, whose memory this child may
	 * share; the kernel's change only this task.
	 */
	if (spec->set_ids) {
		if (syscall(SYS_setgroups, 0, NULL) == -1) {
			f.stage = STAGE_GROUPS;
			goto fail;
		}
		if (syscall(SYS_setresgid, spec->gid, spec->gid, spec->gid) == -1) {
			f.stage = STAGE_GID;
			goto fail;
		}
		if (syscall(SYS_setresuid, spec->uid, spec->uid, spec->uid) == -1) {
			f.stage = STAGE_UID;
			goto fail;
		}
	}
	/* Every descriptor but stdio closes at exec (errfd already does). */
	if (syscall(SYS_close_range, 3U, ~0U, 4U /* CLOSE_RANGE_CLOEXEC */) == -1) {
		for (fd = 3; fd < 65536; fd++)
			if (fd != a->errfd)
				close(fd);
	}
	execve(a->path, spec->argv, spec->envp);
	f.stage = STAGE_EXEC;
fail:
	f.err = errno;
	if (a->shared != NULL) {
		a->shared->stage = f.stage;
		a->shared->err = f.err;
	} else if (write(a->errfd, &f, sizeof f) == -1)
		_exit(126);
	_exit(127);
}

/* In the child: the limits asked for, each soft and hard; -1 on failure. */
static int
spawn_limit(const struct spawn_limits *l)
{
	const struct {
		int	 resource;
		int64_t	 value;
	} want[] = {
		{ RLIMIT_NOFILE, l->nofile },
		{ RLIMIT_NPROC, l->nproc },
		{ RLIMIT_CORE, l->core },
	};
	struct rlimit rl;
	size_t i;

	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		if (want[i].value < 0)
			continue;
		rl.rlim_cur = rl.rlim_max = (rlim_t)want[i].value;
		if (setrlimit(want[i].resource, &rl) == -1)
			return -1;
	}
	return 0;
}

/*
 * The uid and gid of user (a name or number) and group (NULL: the user's
 * primary group), for a spawn; -1 with a one-line cause if either is
 * unknown.
 */
int
spawn_identity(const char *user, const char *group, uid_t *uid, gid_t *gid,
    char *cause, size_t len)
{
	struct passwd *pw;
	struct group *gr;
	char *end;
	long n;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		n = strtol(user, &end, 10);
		if (*user == '\0' || *end != '\0' || n < 0) {
			snprintf(cause, len, "user %s: %s", user, errno != 0 ?
			    strerror(errno) : "no such user");
			return -1;
		}
		*uid = (uid_t)n;
		*gid = (gid_t)n;
	} else {
		*uid = pw->pw_uid;
		*gid = pw->pw_gid;
	}
	if (group == NULL)
		return 0;
	errno = 0;
	if ((gr = getgrnam(group)) == NULL) {
		n = strtol(group, &end, 10);
		if (*group == '\0' || *end != '\0' || n < 0) {
			snprintf(cause, len, "group %s: %s", group, errno != 0 ?
			    strerror(errno) : "no such group");
			return -1;
		}
		*gid = (gid_t)n;
	} else
		*gid = gr->gr_gid;
	return 0;
}

/*
 * Clone the child, vfork-style where possible.  Returns its pid (with
 * *pidfd open) once it has exec'd or failed, and the failure, if any, in
 * *f; -1 with errno if no child was made.
 */
static pid_t
spawn_clone(struct spawn_child_args *a, int *pidfd, struct spawn_failure *f)
{
	volatile struct spawn_failure shared = { 0, 0 };
	char *stack;
	struct spawn_failure got;
	sigset_t all, old;
	ssize_t n;
	pid_t pid;
	int errpipe[2], err;

	f->stage = 0;
	*pidfd = -1;
	if (SPAWN_VFORK) {
		/*
		 * No handler of ours may run in the child: block every signal
		 * until it has reset them (it gets a copy of the dispositions).
		 */
		a->shared = &shared;
		a->errfd = -1;
		/*
		 * The child's stack is mapped for this spawn only: pages the
		 * child touched would otherwise stay in the worker for good.
		 */
		stack = mmap(NULL, SPAWN_STACK, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
		if (stack == MAP_FAILED)
			return -1;
		sigfillset(&all);
		sigprocmask(SIG_SETMASK, &all, &old);
		pid = clone(spawn_child, stack + SPAWN_STACK, CLONE_VM |
		    CLONE_VFORK | CLONE_PIDFD | SIGCHLD, a, pidfd);
		err = errno;
		sigprocmask(SIG_SETMASK, &old, NULL);
		munmap(stack, SPAWN_STACK);	/* the child has exec'd or died */
		if (pid == -1) {
			errno = err;
			return -1;
		}
		f->stage = shared.stage;
		f->err = shared.err;
		return pid;
	}
	if (pipe2(errpipe, O_CLOEXEC) == -1)
		return -1;
	a->shared = NULL;
	a->errfd = errpipe[1];
	if ((pid = fork()) == -1) {
		err = errno;
		close(errpipe[0]);
		close(errpipe[1]);
		errno = err;
		return -1;
	}
	if (pid == 0) {
		close(errpipe[0]);
		spawn_child(a);
	}
	close(errpipe[1]);
	/* Nobody else reaps this child, so the pid is still ours to open. */
	*pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	err = errno;
	do
		n = read(errpipe[0], &got, sizeof got);
	while (n == -1 && errno == EINTR);
	close(errpipe[0]);
	if (n == (ssize_t)sizeof got)
		*f = got;
	errno = err;
	return pid;
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
	static const char *const stages[] = { "", "setsid", "stdio", "chdir",
	    "setrlimit", "setgroups", "setgid", "setuid", "execve" };
	struct spawn_child_args a;
	struct spawn_failure f;
	struct exit_info ei;
	char path[PATH_MAX];
	const char *arg;
	int pidfd, err;
	pid_t pid;

	if (spawn_resolve(spec->argv[0], spawn_env_path(spec->envp), path,
	    sizeof path) != 0) {
		snprintf(cause, causelen, "execve %s: %s (%s)", spec->argv[0],
		    strerror(errno), names_errno(errno));
		return -1;
	}
	a.spec = spec;
	a.path = path;
	if ((pid = spawn_clone(&a, &pidfd, &f)) == -1) {
		snprintf(cause, causelen, "fork: %s (%s)", strerror(errno),
		    names_errno(errno));
		return -1;
	}
	if (f.stage != 0) {
		reaper_reap_now(pid, &ei);
		if (pidfd != -1)
			close(pidfd);
		if (f.stage < STAGE_SETSID || f.stage > STAGE_EXEC)
			f.stage = STAGE_EXEC;
		arg = f.stage == STAGE_CHDIR ? spec->cwd :
		    f.stage == STAGE_EXEC ? path : NULL;
		snprintf(cause, causelen, "%s%s%s: %s (%s)", stages[f.stage],
		    arg != NULL ? " " : "", arg != NULL ? arg : "",
		    strerror(f.err), names_errno(f.err));
		return -1;
	}
	if (pidfd == -1) {
		err = errno;
		kill(pid, SIGKILL);
		reaper_reap_now(pid, &ei);
		snprintf(cause, causelen, "pidfd_open: %s (%s)", strerror(err),
		    names_errno(err));
		return -1;
	}
	res->pid = pid;
	res->pidfd = pidfd;
	if (proc_start_time(pid, &res->start_time) != 0)
		res->start_time = 0;
	return 0;
}
