/*
 * The message rewriting of the virtio-fs vhost-user front (vhost/fsfront.h),
 * apart from any socket: what it answers itself (config space), what it
 * changes on the way (protocol features), which replies it waits for.
 * Its input is the guest kernel's (UML's) and a root daemon's: unit-tested
 * and fuzzed.
 */
#ifndef VTB_VHOST_FSMSG_H
#define VTB_VHOST_FSMSG_H

#include <stddef.h>
#include <stdint.h>

#include "vhost/vu.h"

/* struct virtio_fs_config (virtio spec 5.11.4): tag[36], le32 queues. */
#define VTB_FS_TAG_MAX 36u
#define VTB_FS_CONFIG_SIZE 40u
#define VTB_FSFRONT_PENDING_MAX 8u

/* What the front counted. */
struct vtb_fsfront_stats {
	uint64_t forwarded;	/* requests passed to the back-end */
	uint64_t replies;	/* the back-end's replies passed back */
	uint64_t config_reads;	/* GET_CONFIG answered */
	uint64_t config_writes; /* SET_CONFIG refused (read-only space) */
	uint64_t fds;		/* fds passed to the back-end */
};

/* The message rewriting, apart from any socket (unit-tested, fuzzed). */
struct vtb_fsfront_core {
	uint8_t config[VTB_FS_CONFIG_SIZE];
	/* Forwarded requests whose reply is due, oldest first. */
	uint32_t pending[VTB_FSFRONT_PENDING_MAX];
	unsigned npending;
	struct vtb_fsfront_stats st;
};

/* What to do with a request of the VMM's. */
enum vtb_fsfront_act {
	VTB_FSF_FORWARD = 1, /* to the back-end, as it is now, with its fds */
	VTB_FSF_ANSWER = 2,  /* ours: send the answer (if any) to the VMM */
};

/* @tag: 1..VTB_FS_TAG_MAX bytes (checked by the caller); @queues: request
 * queues besides the high-priority one. */
void vtb_fsfront_core_init(struct vtb_fsfront_core *c, const char *tag,
			   uint32_t queues);

/*
 * Request @m, decoded by vu_decode() from @buf[0, @len): rewrite @buf in
 * place where the back-end must not see what the VMM asked
 * (SET_PROTOCOL_FEATURES loses F_CONFIG) and return VTB_FSF_FORWARD, or
 * answer it into @out (@cap bytes; *@out_len bytes, 0: nothing to send)
 * and return VTB_FSF_ANSWER.  -1 with @why (VU_WHY_MAX) when more replies
 * would be due than the front can track.
 */
int vtb_fsfront_request(struct vtb_fsfront_core *c, uint8_t *buf, size_t len,
			const struct vu_msg *m, uint8_t *out, size_t cap,
			int *out_len, char *why);

/* The request whose reply the back-end owes next, or 0 when none. */
uint32_t vtb_fsfront_due(const struct vtb_fsfront_core *c);

/*
 * The back-end's reply in @buf[0, @len) (header checked by
 * vu_check_reply() against vtb_fsfront_due()): rewrite it in place for
 * the VMM (GET_PROTOCOL_FEATURES gains F_CONFIG and loses
 * F_INBAND_NOTIFICATIONS) and mark it answered.  0, or -1 with @why when
 * none was due or its payload does not fit its request.
 */
int vtb_fsfront_reply(struct vtb_fsfront_core *c, uint8_t *buf, size_t len,
		      char *why);

#endif
