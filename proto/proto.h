/* The vtbench wire protocol: the only thing host and guest agent share. */
#ifndef VTB_PROTO_H
#define VTB_PROTO_H

#include <stddef.h>
#include <stdint.h>

/*
 * Framing: every message is a 12-byte header followed by a payload.
 *
 *   u32 magic    VTB_MAGIC ("VTB1" little-endian)
 *   u16 type     enum vtb_msg_type
 *   u16 flags    must be 0 (reserved)
 *   u32 length   payload bytes, <= VTB_MSG_MAX_PAYLOAD
 *
 * All integers are little-endian.  Payload fields are encoded in the order
 * of the struct members below: integers at their natural width, strings as
 * u16 length + bytes (no NUL, no embedded NUL, shorter than the array),
 * DATA's blob as u16 length + bytes (any bytes, at most VTB_DATA_MAX).
 * A payload must be consumed exactly: trailing bytes are an error.
 *
 * Message numbers are never reused.  A change to any payload bumps
 * VTB_PROTO_VERSION, which the guest announces in HELLO and the host checks.
 */
#define VTB_MAGIC 0x31425456u /* "VTB1" */
#define VTB_PROTO_VERSION 12u
#define VTB_HDR_SIZE 12u
/* n_tty throttles its line when less than 128 of its 4096 bytes are free. */
#define VTB_TTY_THROTTLE_AT (4096u - 128u)
#define VTB_MSG_MAX_PAYLOAD 4096u
#define VTB_MSG_MAX (VTB_HDR_SIZE + VTB_MSG_MAX_PAYLOAD)

enum vtb_msg_type {
	VTB_MSG_HELLO = 1,  /* guest -> host, first message on the channel */
	VTB_MSG_ERROR = 2,  /* guest -> host, a step failed; guest powers off */
	VTB_MSG_RUN = 3,    /* host -> guest, run one workload */
	VTB_MSG_RESULT = 4, /* guest -> host, outcome of RUN */
	VTB_MSG_POWEROFF = 5, /* host -> guest, sync and power off */
	VTB_MSG_BYE = 6,      /* guest -> host, about to power off */
	VTB_MSG_READY = 7,    /* guest -> host, data endpoint open, send now */
	VTB_MSG_DATA = 8,     /* guest -> host, a chunk of a work's output */
	VTB_MSG_TYPE_MAX_ = 9 /* first unused number */
};

#define VTB_STR_SHORT 64
#define VTB_STR_LONG 256
/* A tool's command line (RUN's args): fio's three jobs take ~400. */
#define VTB_STR_ARGS 1024

/* CLOCK_BOOTTIME nanoseconds, read by the agent. */
struct vtb_hello {
	uint32_t version;      /* VTB_PROTO_VERSION of the agent */
	uint64_t t_entry_ns;   /* agent's main() entered */
	uint64_t t_modules_ns; /* all modules loaded */
	uint64_t t_hello_ns;   /* just before HELLO was written */
	uint32_t modules_loaded;
	char release[VTB_STR_SHORT]; /* uname -r of the guest kernel */
	char agent_version[VTB_STR_SHORT];
};

struct vtb_error {
	int32_t err;		  /* positive errno, 0 when not an errno */
	char step[VTB_STR_SHORT]; /* e.g. "finit_module virtio_console" */
	char detail[VTB_STR_LONG];
};

/* Workload numbers are part of the protocol: never reuse them. */
enum vtb_work {
	VTB_WORK_NONE = 0, /* do nothing, answer RESULT (used for sanity) */
	VTB_WORK_SINK = 1, /* read `size` bytes from `path`, hash, discard */
	VTB_WORK_COPY = 2, /* read from `path`, write to `path2`, fsync */
	VTB_WORK_GEN = 3,  /* generate `size` bytes, write to `path2`, fsync */
	VTB_WORK_ECHO = 4, /* echo messages of `block` bytes on `path` */
	VTB_WORK_EMIT = 5, /* generate `size` bytes, write them to `path` */
	/*
	 * Copy the `size`-byte tarball on the disk `path` to
	 * VTB_UNTAR_DIR.tar on the target (untimed), READY, extract it into
	 * VTB_UNTAR_DIR with bin/tar of the read-only ext2 tools disk
	 * `path2`, sync, READY again (the end of the timed part, also when
	 * tar failed), then walk the tree: RESULT `bytes` = bytes of regular
	 * files, `hash` = files | dirs << 32 (VTB_UNTAR_DIR not counted);
	 * err and tar's exit status and stderr tail in detail on failure.
	 */
	VTB_WORK_UNTAR = 6,
	/*
	 * Run bin/fio of the read-only ext2 tools disk `path2` with the
	 * options `args` (split on spaces; the agent puts --output= of its
	 * own file before them) on what VTB_MOUNT_DIR holds.  First, when
	 * `path` is not "", write `size` bytes of the payload (zeros, or
	 * VTB_RUN_F_RANDOM's) to that file and fsync it: fio's file, laid
	 * out before the clock starts.  With
	 * VTB_RUN_F_DIRECT, first check that VTB_MOUNT_DIR takes O_DIRECT
	 * (a 4 KiB write and read) and pass --direct=1, or --direct=0 when
	 * it refuses (EINVAL, EOPNOTSUPP).  READY before fio starts, READY
	 * again when it ended (the end of the timed part, also when fio
	 * failed), then fio's output file in DATA messages and an empty DATA,
	 * then RESULT: `bytes` = bytes of that output, `hash` =
	 * VTB_FIO_DIRECT when fio ran with O_DIRECT | the errno of the
	 * refusal << 32; err and fio's exit status and stderr tail in detail
	 * on failure.
	 */
	VTB_WORK_FIO = 7,
	/*
	 * Micro-benchmarks of the guest kernel, timed by the guest:
	 * `args` is "OP=COUNT ..." (space-separated, each OP once, run in
	 * that order), OP one of VTB_SYSCALL_OPS.  READY once set up (a
	 * tmpfs of the agent's own for the file ops), then after each OP
	 * one DATA of one line "OP COUNT NS\n", NS the guest's
	 * CLOCK_MONOTONIC nanoseconds for all COUNT operations (decimal),
	 * then an empty DATA, then RESULT: `bytes` = the bytes of those
	 * lines.  The first OP that fails ends the list (its line is not
	 * sent): err and what failed in detail.
	 */
	VTB_WORK_SYSCALL = 8,
	/*
	 * Sleep `size` microseconds (at most VTB_SLEEP_MAX_US): READY, the
	 * sleep, RESULT with `bytes` 0.  What an idle guest costs the host.
	 */
	VTB_WORK_SLEEP = 9,
	/*
	 * What users meet after an untar: a walk of the tree and its removal.
	 * Untimed: the tarball copied and extracted as UNTAR does (`path`,
	 * `size`, the tools disk `path2`), the tarball removed, sync, the
	 * guest's caches dropped (/proc/sys/vm/drop_caches: 3), so the walk
	 * starts cold; a tar that fails is the RESULT's err, with no READY.
	 * Then READY; the walk: an fstatat (not following symlinks) of every
	 * entry below VTB_UNTAR_DIR, then one DATA of one line "walk N NS\n";
	 * the removal (rm -rf: every entry unlinked, VTB_UNTAR_DIR last) and
	 * a sync, then one DATA "rm N NS\n"; N the entries below
	 * VTB_UNTAR_DIR (itself not counted), NS the guest's CLOCK_MONOTONIC
	 * nanoseconds for that part (decimal).  Then an empty DATA, then
	 * RESULT: `bytes` = the bytes of those lines, `hash` = the walk's N |
	 * the removal's N << 32.  A part that fails ends the list (its line
	 * is not sent): err and what failed in detail.
	 */
	VTB_WORK_METADATA = 10,
	VTB_WORK_MAX_ = 11
};
#define VTB_SLEEP_MAX_US 3600000000ull

/*
 * VTB_WORK_SYSCALL's operations, one COUNT each:
 *   getpid       the getpid system call
 *   open_close   open and close of a file on a tmpfs
 *   stat         stat of that file
 *   pipe_pingpong  64 bytes to another process over a pipe and back
 *   fork_wait    fork, the child exits at once, wait for it
 *   fork_exec    fork, exec of a static binary (the agent) that exits at
 *                once, wait for it
 *   page_fault   the first write to a page of fresh anonymous memory
 *                (4 KiB pages, mapped 4 MiB at a time; the mmap and
 *                munmap are not timed)
 */
#define VTB_SYSCALL_OPS                                                        \
	"getpid", "open_close", "stat", "pipe_pingpong", "fork_wait",          \
		"fork_exec", "page_fault"

#define VTB_UNTAR_DIR "/mnt/untar"
/* RESULT's hash of VTB_WORK_FIO: fio ran with --direct=1. */
#define VTB_FIO_DIRECT 0x1u

#define VTB_RUN_F_RAW_TTY 0x1u	/* put `path` in raw mode (serial lines) */
#define VTB_RUN_F_NOVERIFY 0x2u /* skip hashing */
#define VTB_RUN_F_RANDOM 0x4u	/* payload from the seeded PRNG, not zeros */
/* Test hook: stop reading half-way, so the host must detect the stall. */
#define VTB_RUN_F_TEST_STALL 0x8u
/* Turn the write cache of the `mount` disk on first (its device reports
 * write through while the host caches). */
#define VTB_RUN_F_MOUNT_WC 0x10u
/* FIO: O_DIRECT where VTB_MOUNT_DIR takes it (VTB_WORK_FIO). */
#define VTB_RUN_F_DIRECT 0x20u
/*
 * COPY and GEN: once `path2` is written and fsynced, READY (the end of the
 * timed part); the host reads its counters and answers READY; then the
 * guest drops the file's pages from its page cache, reads it back and
 * hashes it: RESULT's `hash` is that of the file read back (an error, EIO,
 * when it differs from what was written).
 */
#define VTB_RUN_F_READBACK 0x40u
/* Test hook (METADATA): the walk leaves one entry out of its count, so
 * the host must see the short count. */
#define VTB_RUN_F_TEST_SHORT 0x80u

/* Where a RUN's `mount` puts its filesystem. */
#define VTB_MOUNT_DIR "/mnt"
#define VTB_MOUNT_FS_PREFIX "fs:"
/* v11: 9P over a stream the guest opens (UML's trans=fd). */
#define VTB_MOUNT_FD_PREFIX "fd:"
#define VTB_MOUNT_NONE "-"
/*
 * A RUN's `mount_fs` for a filesystem the guest's sshfs serves (FUSE) over
 * a stream: `mount` is that stream (vport:NAME or a tty's path, in raw
 * mode with VTB_RUN_F_RAW_TTY), `path2` the read-only ext2 tools disk
 * with bin/sshfs, `args` sshfs's arguments before the mount point
 * (split on spaces: "-f -o passive,... HOST:DIR"); `mount_opts` unused.
 * The agent runs it with its stdin and stdout on the stream and waits up
 * to VTB_SSHFS_MOUNT_S for the mount to appear on VTB_MOUNT_DIR (sshfs
 * exiting first: the RESULT's err, its stderr's tail in detail).  The
 * next unmount (the next RUN's `mount`, or POWEROFF) also reaps it.
 */
#define VTB_MOUNT_SSHFS "sshfs"
#define VTB_SSHFS_MOUNT_S 30

struct vtb_run {
	uint32_t work;	/* enum vtb_work */
	uint32_t flags; /* VTB_RUN_F_* */
	uint64_t size;	/* bytes */
	uint64_t seed;	/* PRNG seed for VTB_RUN_F_RANDOM */
	uint32_t block; /* I/O block size in bytes */
	/*
	 * SINK, COPY, ECHO from a tty: give up when no byte came for this
	 * many ms (0: wait as long as it takes): RESULT err ENOLINK, and
	 * `hash` the most the tty's input queue held before a read
	 * (TIOCINQ): at VTB_TTY_THROTTLE_AT or more, the tty had throttled
	 * the line, so a line that then went quiet while the VMM still had
	 * bytes for it went deaf after a throttle.
	 */
	uint32_t idle_ms;
	char path[VTB_STR_SHORT]; /* source: a path, vport:NAME or blk:SERIAL */
	char path2[VTB_STR_SHORT]; /* destination, "" when none */
	/*
	 * Before the work: unmount what is on VTB_MOUNT_DIR (the last RUN's
	 * target), then mount this there as `mount_fs` with the mount(2)
	 * data `mount_opts` ("" for none): a disk (a path or blk:SERIAL), or
	 * VTB_MOUNT_FS_PREFIX and a source that is no disk (9p's tag, "none"
	 * for hostfs, "tmpfs"), or VTB_MOUNT_FD_PREFIX and a stream
	 * (vport:NAME or a tty's path) the agent opens, a tty in raw mode,
	 * adding ",rfdno=N,wfdno=N" of it to `mount_opts` (9p's trans=fd;
	 * the kernel holds the stream until the unmount).  VTB_MOUNT_NONE:
	 * only unmount.  A failure is the RESULT's err; a mount that worked
	 * puts the kernel's line for it in the RESULT's detail, the mount
	 * point left out ("SOURCE TYPE OPTIONS", from /proc/self/mounts).
	 * "": leave VTB_MOUNT_DIR as it is.
	 */
	char mount[VTB_STR_SHORT];
	char mount_fs[VTB_STR_SHORT];
	char mount_opts[VTB_STR_LONG];
	/* A tool's options, space-separated, no value with a space (FIO);
	 * "" for the other works. */
	char args[VTB_STR_ARGS];
};

struct vtb_result {
	int32_t err;	     /* 0 ok, else positive errno */
	uint64_t bytes;	     /* bytes moved */
	uint64_t hash;	     /* XXH3-64 of the bytes, 0 when not verified */
	uint64_t t_start_ns; /* guest CLOCK_BOOTTIME */
	uint64_t t_end_ns;
	/* The guest's CPUs over the run, from /proc/stat (v6: the rest). */
	uint32_t cpu_busy_permille; /* busy: user, system, irq, ... */
	uint32_t cpu_iowait_permille;
	uint32_t cpu_steal_permille;
	uint32_t cpu_idle_permille;
	uint64_t ctxt;		   /* context switches during the run */
	uint64_t intr;		   /* interrupts during the run */
	uint64_t mem_used_kib;	   /* MemTotal - MemAvailable at the end */
	char detail[VTB_STR_LONG]; /* where it failed, or "" */
};

struct vtb_bye {
	uint64_t t_ns;
};

/*
 * A chunk of a work's output (fio's JSON), in order; any bytes, NULs
 * included.  Encoded as u16 `len` and that many bytes; an empty chunk
 * ends the output.
 */
#define VTB_DATA_MAX (VTB_MSG_MAX_PAYLOAD - 2u)
struct vtb_data {
	uint16_t len; /* <= VTB_DATA_MAX */
	uint8_t bytes[VTB_DATA_MAX];
};

struct vtb_msg {
	uint16_t type;
	union {
		struct vtb_hello hello;
		struct vtb_error error;
		struct vtb_run run;
		struct vtb_result result;
		struct vtb_bye bye;
		struct vtb_data data;
	} u;
};

/*
 * Encode @m into @buf (capacity @cap).  Returns the number of bytes written,
 * -EINVAL for an unknown type, a string that does not fit its array or a
 * DATA longer than VTB_DATA_MAX, or
 * -ENOSPC when @cap is too small.
 */
int vtb_msg_encode(const struct vtb_msg *m, uint8_t *buf, size_t cap);

/*
 * Decode one message from the @len bytes at @buf.  Returns the number of
 * bytes consumed (> 0) when a whole message was decoded into @out, 0 when
 * more bytes are needed (a prefix of a valid message), or -EBADMSG for bad
 * magic, non-zero flags, an unknown type, an oversized length, a truncated
 * or overlong field, an unterminated/NUL-containing string, a DATA whose
 * length is not its payload's, or trailing payload bytes.  Never reads past
 * @buf + @len.
 */
int vtb_msg_decode(const uint8_t *buf, size_t len, struct vtb_msg *out);

/* "HELLO", "ERROR", ...; "UNKNOWN" for anything else. Never NULL. */
const char *vtb_msg_type_name(unsigned type);

/*
 * The VTB_RUN_F_RANDOM payload, which host and agent must both produce:
 * byte i of the stream for @seed is byte (i % 8) of the little-endian u64
 * splitmix64_mix(seed + (i / 8 + 1) * VTB_PAYLOAD_GAMMA), where
 * splitmix64_mix(z) is z ^= z >> 30; z *= 0xbf58476d1ce4e5b9;
 * z ^= z >> 27; z *= 0x94d049bb133111eb; z ^= z >> 31 (mod 2^64).  That is
 * the splitmix64 sequence seeded with @seed, 8 bytes per output.  Being a
 * function of the offset, any block size gives the same stream.
 * Writes the @len bytes starting at stream offset @off into @buf.
 */
#define VTB_PAYLOAD_GAMMA 0x9e3779b97f4a7c15u
void vtb_payload_fill(uint8_t *buf, size_t len, uint64_t off, uint64_t seed);

#endif
