/* The QEMU command line and the guest kernel command line for kvm. */
#include <string.h>

#include "core/proc.h"
#include "core/qemublk.h"
#include "proto/proto.h"
#include "kvm/kvm.h"

void vtb_qemu_devs_init(struct vtb_qemu_devs *q)
{
	*q = (struct vtb_qemu_devs){
		.args = g_ptr_array_new_with_free_func(g_free)};
}

void vtb_qemu_devs_clear(struct vtb_qemu_devs *q)
{
	if (q->args)
		g_ptr_array_unref(q->args);
	q->args = NULL;
}

static void add(struct vtb_qemu_devs *q, const char *a)
{
	g_ptr_array_add(q->args, g_strdup(a));
}

static void take(struct vtb_qemu_devs *q, char *a)
{
	g_ptr_array_add(q->args, a);
}

/* The chardev every stream device sits on: vtbench's socket. */
static int add_chardev(struct vtb_qemu_devs *q, const struct vtb_device *d)
{
	add(q, "-chardev");
	g_autofree char *path = vtb_qemu_opt_value(d->end_path);

	take(q, g_strdup_printf("socket,id=vtbchr%d,path=%s", q->nchr, path));
	return q->nchr++;
}

void vtb_qemu_add_serial(struct vtb_qemu_devs *q, struct vtb_device *d)
{
	int chr = add_chardev(q, d);

	/* ttyS0 is the console; each -serial adds one. */
	add(q, "-serial");
	take(q, g_strdup_printf("chardev:vtbchr%d", chr));
	g_free(d->guest);
	d->guest = g_strdup_printf("/dev/ttyS%d", 1 + q->nserial++);
}

void vtb_qemu_add_port(struct vtb_qemu_devs *q, struct vtb_device *d)
{
	int chr = add_chardev(q, d);

	add(q, "-device");
	take(q, g_strdup_printf("virtserialport,bus=vtbser.0,"
				"chardev=vtbchr%d,name=%s",
				chr, d->name));
	g_free(d->guest);
	d->guest = g_strdup_printf("vport:%s", d->name);
}

/* -drive/-device for a disk: cache and aio as described, never mapped. */
gboolean vtb_qemu_add_disk(struct vtb_qemu_devs *q, struct vtb_device *d,
			   GError **err)
{
	GString *drive;
	int n = q->ndisk;
	g_autofree char *image = vtb_qemu_opt_value(d->image);

	if (d->kind != VTB_DEV_DISK || !g_str_equal(d->bus, "virtio-blk")) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "kvm: cannot attach a %s disk (%s)", d->bus,
			    d->name);
		return FALSE;
	}
	q->ndisk++;
	drive = g_string_new(NULL);
	g_string_append_printf(drive, "file=%s,if=none,id=vtbdisk%d,format=%s",
			       image, n, d->format);
	if (d->cache)
		g_string_append_printf(drive, ",cache=%s", d->cache);
	if (d->aio)
		g_string_append_printf(drive, ",aio=%s", d->aio);
	/*
	 * A read-only disk is a file of vtbench's cache that nothing writes
	 * (made beside it and renamed into place): no image lock, which
	 * another vtbench's UML, holding a POSIX read lock on the same file
	 * for its ubd, would refuse ("Failed to get consistent read lock").
	 */
	if (d->readonly)
		g_string_append(drive, ",readonly=on,file.locking=off");
	add(q, "-drive");
	take(q, g_string_free(drive, FALSE));
	/*
	 * An I/O thread per disk: its requests and completions leave the
	 * main loop, where the virtio-serial channel and TCG's device exits
	 * contend for the big lock.  Here that let the channel hide behind
	 * a sync-mounted disk (upload 1.20x -> 1.05x of write-no-upload).
	 */
	add(q, "-object");
	take(q, g_strdup_printf("iothread,id=vtbio%d", n));
	add(q, "-device");
	take(q, g_strdup_printf("virtio-blk-pci,drive=vtbdisk%d,"
				"serial=%s,iothread=vtbio%d",
				n, d->name, n));
	g_free(d->guest);
	d->guest = g_strdup_printf("blk:%s", d->name);
	return TRUE;
}

gboolean vtb_qemu_add_fs(struct vtb_qemu_devs *q, struct vtb_device *d,
			 const char *vfs_sock, GError **err)
{
	int n = q->nfs;
	g_autofree char *dir = vtb_qemu_opt_value(d->image ? d->image : "");
	g_autofree char *sock = vtb_qemu_opt_value(vfs_sock ? vfs_sock : "");

	if (d->kind == VTB_DEV_FS && g_str_equal(d->bus, "tmpfs")) {
		g_free(d->guest);
		d->guest = g_strdup(VTB_MOUNT_FS_PREFIX "tmpfs");
		return TRUE;
	}
	if (d->kind != VTB_DEV_FS || !d->image ||
	    (!g_str_equal(d->bus, "9p") && !g_str_equal(d->bus, "virtiofs")) ||
	    (g_str_equal(d->bus, "virtiofs") && !vfs_sock)) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "kvm: cannot attach the filesystem %s (%s)", d->bus,
			    d->name);
		return FALSE;
	}
	q->nfs++;
	if (g_str_equal(d->bus, "9p")) {
		add(q, "-fsdev");
		take(q, g_strdup_printf("local,id=vtbfs%d,path=%s,"
					"security_model=none",
					n, dir));
		add(q, "-device");
		take(q, g_strdup_printf("virtio-9p-pci,fsdev=vtbfs%d,"
					"mount_tag=%s",
					n, d->name));
	} else {
		add(q, "-chardev");
		take(q, g_strdup_printf("socket,id=vtbvfs%d,path=%s", n, sock));
		add(q, "-device");
		take(q, g_strdup_printf("vhost-user-fs-pci,chardev=vtbvfs%d,"
					"tag=%s",
					n, d->name));
		q->share_mem = true;
	}
	g_free(d->guest);
	d->guest = g_strdup_printf(VTB_MOUNT_FS_PREFIX "%s", d->name);
	return TRUE;
}

GStrv vtb_qemu_argv(const struct vtb_qemu_cfg *c)
{
	GStrvBuilder *b = g_strv_builder_new();
	bool kvm = strcmp(c->accel, "kvm") == 0;
	GStrv argv;
	g_autofree char *smp = g_strdup_printf("%d", MAX(c->smp, 1));
	g_autofree char *con = vtb_qemu_opt_value(c->console_log);
	g_autofree char *ctl = vtb_qemu_opt_value(c->ctl_sock);

	g_strv_builder_add(b, c->qemu);
	g_strv_builder_addv(b, (const char *[]){"-nodefaults",
						"-no-user-config", "-display",
						"none", "-no-reboot", NULL});
	/* Threads named after their job ("CPU 0/TCG", "worker"), for the
	 * CPU attribution; libvirt asks for the same. */
	g_strv_builder_addv(
		b, (const char *[]){"-name", "vtbench,debug-threads=on", NULL});
	g_strv_builder_add(b, "-machine");
	if (c->devs && c->devs->share_mem) {
		/* vhost-user-fs maps the guest's memory: a shared memfd. */
		vtb_strv_take(b, g_strdup_printf("pc,accel=%s,memory-backend="
						 "vtbmem",
						 c->accel));
		g_strv_builder_add(b, "-object");
		vtb_strv_take(b, g_strdup_printf("memory-backend-memfd,id="
						 "vtbmem,size=%dM,share=on",
						 c->mem_mb));
	} else {
		vtb_strv_take(b, g_strdup_printf("pc,accel=%s", c->accel));
	}
	g_strv_builder_add(b, "-cpu");
	g_strv_builder_add(b, c->cpu ? c->cpu : kvm ? "host" : "qemu64");
	g_strv_builder_add(b, "-m");
	vtb_strv_take(b, g_strdup_printf("%d", c->mem_mb));
	g_strv_builder_addv(b, (const char *[]){"-smp", smp, "-kernel",
						c->kernel, "-initrd", c->initrd,
						"-append", c->append, NULL});
	g_strv_builder_add(b, "-chardev");
	vtb_strv_take(b, g_strdup_printf("file,id=vtbcon,path=%s", con));
	g_strv_builder_addv(
		b, (const char *[]){"-serial", "chardev:vtbcon", NULL});
	/* The control channel: its own virtio-serial port, never the
	 * transport under test. */
	g_strv_builder_addv(b, (const char *[]){"-device",
						"virtio-serial-pci,id=vtbser",
						NULL});
	g_strv_builder_add(b, "-chardev");
	vtb_strv_take(b, g_strdup_printf("socket,id=vtbctl,path=%s", ctl));
	g_strv_builder_addv(b, (const char *[]){"-device",
						"virtserialport,bus=vtbser.0,"
						"chardev=vtbctl,name=vtb.ctl",
						NULL});
	for (guint i = 0; c->devs && i < c->devs->args->len; i++)
		g_strv_builder_add(b, c->devs->args->pdata[i]);
	argv = g_strv_builder_end(b);
	g_strv_builder_unref(b);
	return argv;
}

char *vtb_kvm_append(const char *accel, const char *extra)
{
	GString *s = g_string_new("console=ttyS0 quiet panic=-1 "
				  "vtb.ctl=vport:vtb.ctl vtb.off=reboot");

	/*
	 * Under TCG every boot-time self-test and calibration is emulated
	 * instruction by instruction (libguestfs adds the same).
	 */
	if (strcmp(accel, "tcg") == 0)
		g_string_append(s, " cryptomgr.notests tsc=reliable "
				   "no_timer_check");
	if (extra && *extra)
		g_string_append_printf(s, " %s", extra);
	return g_string_free(s, FALSE);
}
