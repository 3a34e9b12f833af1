/*
 * gateway.c: zv-demo-gateway, the gateway "VM" of the demo zones: a small
 * HTTP server on 127.0.0.1:PORT.  GET /health answers 200 "ok" (or 503 once
 * told to fail); GET /crash makes it exit with status 3, /hang makes it stop
 * answering forever, /fail-health and /heal switch its health endpoint.
 * Each request is logged to stdout, which zonevisor keeps in console.log.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *name = "demo";
static int healthy = 1;

static void
reply(int fd, int code, const char *status, const char *body)
{
	char buf[1024];
	int n;

	n = snprintf(buf, sizeof buf, "HTTP/1.0 %d %s\r\nContent-Type: "
	    "text/plain\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
	    code, status, strlen(body), body);
	if (write(fd, buf, (size_t)n) == -1)
		perror("write");
}

/* Read one request (bounded by 2 s) and answer it. */
static void
serve(int fd)
{
	char req[2048], path[256], body[512];
	struct pollfd pfd = { fd, POLLIN, 0 };
	ssize_t n;

	if (poll(&pfd, 1, 2000) <= 0 || (n = read(fd, req, sizeof req - 1)) <= 0)
		return;
	req[n] = '\0';
	if (sscanf(req, "GET %255s", path) != 1) {
		reply(fd, 400, "Bad Request", "only GET\n");
		return;
	}
	printf("%s: GET %s\n", name, path);
	fflush(stdout);
	if (strcmp(path, "/health") == 0) {
		if (healthy)
			reply(fd, 200, "OK", "ok\n");
		else
			reply(fd, 503, "Service Unavailable", "unhealthy\n");
	} else if (strcmp(path, "/crash") == 0) {
		reply(fd, 200, "OK", "crashing\n");
		close(fd);
		printf("%s: crashing on request\n", name);
		exit(3);
	} else if (strcmp(path, "/hang") == 0) {
		reply(fd, 200, "OK", "hanging\n");
		close(fd);
		printf("%s: hanging on request\n", name);
		fflush(stdout);
		for (;;)
			pause();
	} else if (strcmp(path, "/fail-health") == 0) {
		healthy = 0;
		reply(fd, 200, "OK", "health endpoint now fails\n");
	} else if (strcmp(path, "/heal") == 0) {
		healthy = 1;
		reply(fd, 200, "OK", "health endpoint now passes\n");
	} else {
		snprintf(body, sizeof body, "zv-demo-gateway of zone %s (pid %ld)\n"
		    "try /health /crash /hang /fail-health /heal\n", name,
		    (long)getpid());
		reply(fd, 200, "OK", body);
	}
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "name", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 }
	};
	struct sockaddr_in sin;
	int ch, port = 0, s, one = 1;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'p': port = atoi(optarg); break;
		case 'n': name = optarg; break;
		default:
			fprintf(stderr, "usage: zv-demo-gateway --port N [--name Z]\n");
			return 2;
		}
	}
	if (port <= 0 || port > 65535) {
		fprintf(stderr, "zv-demo-gateway: --port 1..65535 is required\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if ((s = socket(AF_INET, SOCK_STREAM, 0)) == -1) {
		perror("socket");
		return 1;
	}
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    listen(s, 16) == -1) {
		fprintf(stderr, "zv-demo-gateway: 127.0.0.1:%d: %s\n", port,
		    strerror(errno));
		return 1;
	}
	printf("%s: listening on http://127.0.0.1:%d/ (pid %ld)\n", name, port,
	    (long)getpid());
	fflush(stdout);
	for (;;) {
		int fd = accept(s, NULL, NULL);

		if (fd == -1) {
			if (errno != EINTR)
				perror("accept");
			continue;
		}
		serve(fd);
		close(fd);
	}
}
