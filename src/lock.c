/*
 * lock.c: advisory locks that say "an owner is alive".  zonevisord holds
 * state_dir/zonevisord.lock for its whole life, so a second one on the same
 * state directory refuses to start instead of fighting over the zones; each
 * worker holds state_dir/zones/<zone>/worker.lock, so a new zonevisord
 * waits for an old worker (one whose supervisor was killed, still stopping
 * its VM) before it looks at, or starts, anything of that zone.  flock()
 * locks vanish with their holder, however it dies.  A lock file on a
 * read-only state directory is locked through a read-only descriptor: the
 * lock is as good, and zonevisord then runs with degraded persistence
 * instead of taking the read-only directory for a live owner.
 */
#include "config.h"

#include <sys/file.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "log.h"
#include "zonevisor.h"

/*
 * Take the lock at path, waiting up to wait_ms for its holder to go.
 * Returns the descriptor that holds it, or -1 (errno EWOULDBLOCK when it
 * is still held, else why it could not be opened).
 */
int
lock_take(const char *path, int64_t wait_ms)
{
	int64_t deadline = clock_mono_ms() + wait_ms;
	int fd, err;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1 &&
	    (errno != EROFS ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) == -1))
		return -1;
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		err = errno;
		if (err != EWOULDBLOCK || clock_mono_ms() >= deadline)
			break;
		usleep(20000);
	}
	close(fd);
	errno = err;
	return -1;
}

/* Release a lock taken with lock_take(). */
void
lock_release(int fd)
{
	if (fd != -1)
		close(fd);
}
