/*
 * Smoke test of vhost/console.h with a real front-end: serve the socket,
 * start the VMM given after "--" (it connects), stream a known pattern to
 * the guest's port 1 and check what the guest sends back: the SHA-256 of
 * what it read, then a run of zero bytes.  vcon_smoke.sh boots UML.
 *
 *   vcon_smoke SOCKET PORT BYTES BACK_BYTES LOG TIMEOUT_S -- VMM ARGS...
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/vtbench.h"
#include "vhost/console.h"

#define CHUNK (1u << 20)
/* sha256sum's line: 64 hex digits, "  -\n". */
#define HASH_LINE 68u

struct smoke {
	struct vtb_vcon *c;
	struct vtb_child vmm;
	gint64 deadline;
};

/* Wait for the device's fd or the VMM's exit, by the deadline. */
static gboolean wait_dev(struct smoke *s, GError **err)
{
	struct pollfd p[2] = {{vtb_vcon_fd(s->c), POLLIN, 0},
			      {s->vmm.pidfd, POLLIN, 0}};
	gint64 left = s->deadline - g_get_monotonic_time();

	if (left <= 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "timed out");
		return FALSE;
	}
	if (poll(p, 2, (int)MIN(left / 1000 + 1, 1000)) > 0 && p[1].revents &&
	    !(p[0].revents)) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "the VMM exited");
		return FALSE;
	}
	return TRUE;
}

static gboolean send_pattern(struct smoke *s, guint64 bytes, char *hex,
			     double *secs, GError **err)
{
	g_autofree guint8 *buf = g_malloc(CHUNK);
	g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
	guint64 x = 0x9e3779b97f4a7c15ull, done = 0;
	gint64 t0 = 0;

	for (size_t i = 0; i < CHUNK; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(buf + i, &x, 8);
	}
	while (done < bytes) {
		size_t off = (size_t)(done % CHUNK);
		size_t want = (size_t)MIN(bytes - done, (guint64)(CHUNK - off));
		gssize n = vtb_vcon_write(s->c, buf + off, want, err);

		if (n < 0)
			return FALSE;
		if (n == 0) {
			if (!wait_dev(s, err))
				return FALSE;
			continue;
		}
		if (!t0)
			t0 = g_get_monotonic_time();
		g_checksum_update(sum, buf + off, (gsize)n);
		done += (guint64)n;
	}
	*secs = (double)(g_get_monotonic_time() - t0) / 1e6;
	g_strlcpy(hex, g_checksum_get_string(sum), 65);
	return TRUE;
}

static gboolean recv_back(struct smoke *s, const char *hex, guint64 back,
			  double *secs, GError **err)
{
	g_autofree guint8 *buf = g_malloc(CHUNK);
	char line[HASH_LINE + 1] = "";
	guint64 got = 0, total = HASH_LINE + back;
	gint64 t0 = 0;

	while (got < total) {
		size_t want = (size_t)MIN(total - got, (guint64)CHUNK);
		gssize n = vtb_vcon_read(s->c, buf, want, err);

		if (n < 0)
			return FALSE;
		if (n == 0) {
			if (!wait_dev(s, err))
				return FALSE;
			continue;
		}
		if (!t0)
			t0 = g_get_monotonic_time();
		for (gssize i = 0; i < n; i++, got++) {
			if (got < HASH_LINE) {
				line[got] = (char)buf[i];
			} else if (buf[i]) {
				g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
					    "byte %" PRIu64
					    " from the guest is 0x%02x, not 0",
					    got - HASH_LINE, buf[i]);
				return FALSE;
			}
		}
	}
	*secs = (double)(g_get_monotonic_time() - t0) / 1e6;
	if (strncmp(line, hex, 64) != 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "the guest read sha256 %.64s, we wrote %s", line,
			    hex);
		return FALSE;
	}
	return TRUE;
}

int main(int argc, char **argv)
{
	g_autoptr(GError) err = NULL;
	struct smoke s = {0};
	struct vtb_vcon_stats st;
	char hex[65];
	double t_to = 0, t_from = 0;
	guint64 bytes, back;
	int log_fd, rc = 1;

	if (argc < 9 || strcmp(argv[7], "--") != 0) {
		fprintf(stderr,
			"usage: %s SOCKET PORT BYTES BACK_BYTES LOG "
			"TIMEOUT_S -- VMM ARGS...\n",
			argv[0]);
		return 2;
	}
	bytes = g_ascii_strtoull(argv[3], NULL, 10);
	back = g_ascii_strtoull(argv[4], NULL, 10);
	s.deadline = g_get_monotonic_time() +
		     (gint64)(g_ascii_strtod(argv[6], NULL) * 1e6);
	vtb_signals_install();
	log_fd = open(argv[5], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (log_fd < 0) {
		fprintf(stderr, "open %s: %s\n", argv[5], g_strerror(errno));
		return 1;
	}
	s.c = vtb_vcon_new(argv[1], argv[2], &err);
	if (!s.c)
		goto out;
	if (!vtb_child_spawn(&s.vmm, (const char *const *)argv + 8, log_fd,
			     NULL, 0, NULL, &err))
		goto out;
	if (!vtb_vcon_wait_open(s.c, s.deadline, &err))
		goto out;
	if (!send_pattern(&s, bytes, hex, &t_to, &err))
		goto out;
	if (!recv_back(&s, hex, back, &t_from, &err))
		goto out;
	vtb_vcon_stats(s.c, &st);
	printf("host->guest: %" PRIu64 " bytes in %.3f s = %.1f MB/s "
	       "(%.1f MiB/s), sha256 %s verified by the guest\n",
	       bytes, t_to, bytes / t_to / 1e6, bytes / t_to / 1048576.0, hex);
	printf("guest->host: %" PRIu64 " bytes in %.3f s = %.1f MB/s\n",
	       back + HASH_LINE, t_from, (back + HASH_LINE) / t_from / 1e6);
	printf("stats: to_guest %" PRIu64 " B in %" PRIu64
	       " bufs, from_guest %" PRIu64 " B in %" PRIu64
	       " bufs, calls %" PRIu64 ", kicks %" PRIu64 ", ctl %" PRIu64 "\n",
	       st.bytes_to_guest, st.bufs_to_guest, st.bytes_from_guest,
	       st.bufs_from_guest, st.calls, st.kicks, st.ctl_msgs);
	fflush(stdout);
	/* The guest powers off; give it a moment, then kill it anyway. */
	if (!vtb_child_wait(&s.vmm, 5000))
		printf("the guest did not power off within 5 s: killed\n");
	rc = 0;
out:
	if (err)
		fprintf(stderr, "vcon_smoke: %s\n", err->message);
	vtb_child_kill(&s.vmm);
	vtb_vcon_free(s.c);
	close(log_fd);
	return rc;
}
