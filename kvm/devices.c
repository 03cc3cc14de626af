/*
 * What the kvm backend's device rows say alike under both drivers (why a
 * disk is refused, default sizes, guest modules); each driver's rows add
 * their own attach and connect (kvm/direct.c, kvm/libvirt.c).
 */
#include <string.h>

#include "core/qemublk.h"
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

char *vtb_kvm_disk_cannot(const struct vtb_device *d)
{
	if (strcmp(d->bus, "virtio-blk") != 0)
		return g_strdup_printf("%s is UML's own block driver", d->bus);
	return vtb_qemu_disk_cannot(d);
}

const char *const vtb_kvm_native_fs[] = {"9p", "virtiofs", "sshfs", NULL};

char *vtb_kvm_fs_cannot(const struct vtb_device *d)
{
	if (g_str_equal(d->bus, "hostfs"))
		return g_strdup("hostfs is UML's own filesystem");
	if (!g_str_equal(d->bus, "9p") && !g_str_equal(d->bus, "virtiofs") &&
	    !g_str_equal(d->bus, "tmpfs"))
		return g_strdup_printf("kvm has no filesystem %s", d->bus);
	if (d->cache && g_str_equal(d->bus, "tmpfs"))
		return g_strdup("tmpfs has no cache modes");
	return NULL;
}

/* Debian's kernel has ext2/3/4 in the ext4 module, whose crc32c is a soft
 * dependency (not in depends=). */
const char *const vtb_kvm_fs_modules[] = {"virtio_blk", "ext4",
					  "crc32c_generic", NULL};
