/*
 * The counter file shared by the flush-audit preload (flush/vtbflush.c, in
 * the VMM) and vtbench (flush/flush.c): its layout and the environment that
 * connects them.  Plain C, no GLib: the preload links nothing but libc.
 */
#ifndef VTB_VTBFLUSH_H
#define VTB_VTBFLUSH_H

#include <stdint.h>

/* Path of the counter file; the preload does nothing without it. */
#define VTB_FLUSH_ENV_FILE "VTB_FLUSH_FILE"
/*
 * The images, ':'-separated; a '\' makes the next character literal, so a
 * path may hold ':'.  Matched by st_dev + st_ino, stat()ed once when the
 * preload starts: symlinks and relative opens are matched too.
 */
#define VTB_FLUSH_ENV_PATHS "VTB_FLUSH_PATHS"

#define VTB_FLUSH_MAGIC 0x48534c4642545600ULL /* "\0VTBFLSH" little-endian */
#define VTB_FLUSH_VERSION 1
/* Images beyond this many are counted as missing, not audited. */
#define VTB_FLUSH_MAX_IMAGES 32

/* Calls made on an image, counted when they are issued. */
enum vtb_flush_counter {
	VTB_FC_FSYNC,
	VTB_FC_FDATASYNC,
	VTB_FC_SYNC_FILE_RANGE,
	VTB_FC_SYNCFS,
	VTB_FC_SYNC_OPENS,   /* successful opens with O_SYNC or O_DSYNC */
	VTB_FC_DIRECT_OPENS, /* ... with O_DIRECT, or F_SETFL turning it on */
	VTB_FC_DSYNC_WRITES, /* pwritev2 with RWF_DSYNC or RWF_SYNC */
	VTB_FC_N
};

/*
 * The whole file.  Written only with __atomic adds (the VMM's threads and
 * processes share it through MAP_SHARED), read with __atomic loads.  A
 * layout change bumps VTB_FLUSH_VERSION; the preload refuses other versions.
 */
struct vtb_flush_shm {
	uint64_t magic;
	uint32_t version;
	uint32_t size; /* sizeof(struct vtb_flush_shm) */
	/* Processes whose preload mapped this file: 0 means none did, so zero
	 * counts would prove nothing. */
	uint64_t attached;
	/* Image paths a process could not stat (or beyond the maximum). */
	uint64_t missing;
	uint64_t count[VTB_FC_N];
};

#endif
