/*
 * What the kvm backend's device rows say alike under both drivers (why a
 * disk is refused, default sizes, guest modules); each driver's rows add
 * their own attach and connect (kvm/direct.c, kvm/libvirt.c).
 */
#include <string.h>

#include "core/registry.h"
#include "kvm/kvm.h"

/*
 * About 10 s per run at the rates measured here (QEMU's 8250 under TCG
 * ~0.16 MB/s): the start from which the warm-up measures this host's rate.
 */
guint64 vtb_kvm_serial_size(const struct vtb_cell *c)
{
	return strcmp(c->accel, "kvm") == 0 ? 8ULL << 20 : 1ULL << 20;
}

static const char *const qemu_caches[] = {
	"none", "writeback", "unsafe", "directsync", "writethrough", NULL};

char *vtb_kvm_disk_cannot(const struct vtb_device *d)
{
	if (strcmp(d->bus, "virtio-blk") != 0)
		return g_strdup_printf("%s is UML's own block driver", d->bus);
	if (d->cache && !vtb_str_in(qemu_caches, d->cache))
		return g_strdup_printf("QEMU has no cache mode %s (ubd's)",
				       d->cache);
	if (d->aio && strcmp(d->aio, "native") == 0 && d->cache &&
	    strcmp(d->cache, "none") != 0 &&
	    strcmp(d->cache, "directsync") != 0)
		return g_strdup("aio=native needs O_DIRECT: cache none or "
				"directsync");
	return NULL;
}

/* Debian's kernel has ext2/3/4 in the ext4 module, whose crc32c is a soft
 * dependency (not in depends=). */
const char *const vtb_kvm_fs_modules[] = {"virtio_blk", "ext4",
					  "crc32c_generic", NULL};
