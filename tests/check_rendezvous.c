/*
 * check_rendezvous.c: how a new worker hands the parent its link
 * (rendezvous.c).  The parent must learn the zone and the sender's real pid
 * (the kernel's, not one the sender claims) with a working link, and must
 * refuse anything else on the rendezvous without leaking a descriptor:
 * a message without a descriptor, one with several, an empty one.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "zonevisor.h"

static Suite *rendezvous_suite(void);
static int open_fds(void);

/* How many descriptors this process has open. */
static int
open_fds(void)
{
	int fd, n = 0;

	for (fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			n++;
	return n;
}

START_TEST(test_rendezvous_link_reaches_parent)
{
	char zone[ZONE_NAME_MAX + 2], buf[8];
	int rv[2], fd, status;
	pid_t child, pid;

	ck_assert_int_eq(rendezvous_open(rv), 0);
	ck_assert_int_eq(rendezvous_recv(rv[0], zone, sizeof zone, &pid, &fd), 0);
	if ((child = fork()) == 0) {
		int link = rendezvous_link(rv[1], "alpha");

		/* The worker's end works: the parent reads what it writes. */
		_exit(link == -1 || write(link, "hi", 2) != 2 ? 1 : 0);
	}
	ck_assert_int_gt(child, 0);
	ck_assert_int_eq(waitpid(child, &status, 0), child);
	ck_assert_int_eq(status, 0);
	ck_assert_int_eq(rendezvous_recv(rv[0], zone, sizeof zone, &pid, &fd), 1);
	ck_assert_str_eq(zone, "alpha");
	ck_assert_int_eq(pid, child);
	ck_assert_int_eq(read(fd, buf, sizeof buf), 2);
	ck_assert_int_eq(memcmp(buf, "hi", 2), 0);
	/* Close-on-exec: a VM spawned later never inherits it. */
	ck_assert_int_ne(fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
	close(fd);
	close(rv[0]);
	close(rv[1]);
}
END_TEST

START_TEST(test_rendezvous_refuses_messages_without_one_link)
{
	union {
		struct cmsghdr	hdr;
		char		buf[CMSG_SPACE(sizeof(int) * 2)];
	} u;
	char zone[ZONE_NAME_MAX + 2];
	struct msghdr msg;
	struct cmsghdr *c;
	struct iovec iov;
	int rv[2], sv[2], fds[2], fd, before;
	pid_t pid;

	ck_assert_int_eq(rendezvous_open(rv), 0);
	before = open_fds();
	/* A name without a descriptor. */
	ck_assert_int_eq(send(rv[1], "alpha", 5, 0), 5);
	ck_assert_int_eq(rendezvous_recv(rv[0], zone, sizeof zone, &pid, &fd), -1);
	ck_assert_int_eq(fd, -1);
	/* An empty message is dropped as if there were nothing. */
	ck_assert_int_eq(send(rv[1], "", 0, 0), 0);
	ck_assert_int_eq(rendezvous_recv(rv[0], zone, sizeof zone, &pid, &fd), 0);
	/* Two descriptors: the first is the link, the other is closed. */
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	memset(&msg, 0, sizeof msg);
	iov.iov_base = "beta";
	iov.iov_len = 4;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = u.buf;
	msg.msg_controllen = sizeof u.buf;
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof fds);
	fds[0] = sv[0];
	fds[1] = sv[1];
	memcpy(CMSG_DATA(c), fds, sizeof fds);
	ck_assert_int_eq(sendmsg(rv[1], &msg, 0), 4);
	close(sv[0]);
	close(sv[1]);
	ck_assert_int_eq(rendezvous_recv(rv[0], zone, sizeof zone, &pid, &fd), 1);
	ck_assert_str_eq(zone, "beta");
	ck_assert_int_eq(pid, getpid());
	close(fd);
	/* Nothing was left open by any of it. */
	ck_assert_int_eq(open_fds(), before);
	ck_assert_int_eq(rendezvous_recv(rv[0], zone, sizeof zone, &pid, &fd), 0);
	close(rv[0]);
	close(rv[1]);
}
END_TEST

static Suite *
rendezvous_suite(void)
{
	Suite *s = suite_create("rendezvous");
	TCase *tc = tcase_create("links");

	tcase_add_test(tc, test_rendezvous_link_reaches_parent);
	tcase_add_test(tc, test_rendezvous_refuses_messages_without_one_link);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(rendezvous_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
