/* libvirt domain XML for the kvm backend's `libvirt` driver. */
#include <stdarg.h>
#include <string.h>

#include "kvm/kvm.h"

/* Append @fmt with every %s argument XML-escaped. */
static void xml_add(GString *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void xml_add(GString *s, const char *fmt, ...)
{
	g_autofree char *t = NULL;
	va_list ap;

	va_start(ap, fmt);
	t = g_markup_vprintf_escaped(fmt, ap);
	va_end(ap);
	g_string_append(s, t);
}

char *vtb_domxml_alias(const char *name)
{
	char *a = g_strconcat("ua-", name, NULL);

	/* libvirt takes [A-Za-z0-9_-] in user aliases. */
	for (char *p = a + 3; *p; p++)
		if (!g_ascii_isalnum(*p) && *p != '_' && *p != '-')
			*p = '-';
	return a;
}

/* virtio-blk disks get vda, vdb, ... in the order they are described. */
static char *disk_target(int n)
{
	if (n < 26)
		return g_strdup_printf("vd%c", 'a' + n);
	return g_strdup_printf("vd%c%c", 'a' + n / 26 - 1, 'a' + n % 26);
}

void vtb_domxml_devs_init(struct vtb_domxml_devs *x)
{
	*x = (struct vtb_domxml_devs){.xml = g_string_new(NULL)};
}

void vtb_domxml_devs_clear(struct vtb_domxml_devs *x)
{
	if (x->xml)
		g_string_free(x->xml, TRUE);
	x->xml = NULL;
}

gboolean vtb_domxml_add_disk(struct vtb_domxml_devs *x, struct vtb_device *d,
			     const char *path, GError **err)
{
	GString *s = x->xml;
	g_autofree char *dev = NULL, *alias = NULL;
	int n = x->ndisk;

	if (d->kind != VTB_DEV_DISK || !g_str_equal(d->bus, "virtio-blk")) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "libvirt: cannot attach a %s disk (%s)", d->bus,
			    d->name);
		return FALSE;
	}
	x->ndisk++;
	dev = disk_target(n);
	g_string_append(s, "    <disk type='file' device='disk'>\n");
	xml_add(s, "      <driver name='qemu' type='%s'", d->format);
	/* The description's cache and aio, never mapped to others; an
	 * I/O thread per disk, as the direct driver has. */
	xml_add(s, " iothread='%d'", n + 1);
	if (d->cache)
		xml_add(s, " cache='%s'", d->cache);
	if (d->aio)
		xml_add(s, " io='%s'", d->aio);
	g_string_append(s, "/>\n");
	xml_add(s, "      <source file='%s'/>\n", path ? path : d->image);
	xml_add(s, "      <target dev='%s' bus='virtio'/>\n", dev);
	xml_add(s, "      <serial>%s</serial>\n", d->name);
	/* A user alias names the device in QMP's query-blockstats. */
	alias = vtb_domxml_alias(d->name);
	xml_add(s, "      <alias name='%s'/>\n", alias);
	if (d->readonly)
		g_string_append(s, "      <readonly/>\n");
	g_string_append(s, "    </disk>\n");
	g_free(d->guest);
	d->guest = g_strdup_printf("blk:%s", d->name);
	return TRUE;
}

gboolean vtb_domxml_add_fs(struct vtb_domxml_devs *x, struct vtb_device *d,
			   const char *virtiofsd, GError **err)
{
	GString *s = x->xml;
	g_autofree char *alias = NULL;
	bool vfs = g_str_equal(d->bus, "virtiofs");

	if (d->kind == VTB_DEV_FS && g_str_equal(d->bus, "tmpfs")) {
		g_free(d->guest);
		d->guest = g_strdup(VTB_MOUNT_FS_PREFIX "tmpfs");
		return TRUE;
	}
	if (d->kind != VTB_DEV_FS || !d->image ||
	    (!vfs && !g_str_equal(d->bus, "9p")) || (vfs && !virtiofsd)) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "libvirt: cannot attach the filesystem %s (%s)",
			    d->bus, d->name);
		return FALSE;
	}
	x->nfs++;
	/* squash: QEMU's security_model=none, as the direct driver has;
	 * virtiofs takes passthrough only. */
	xml_add(s, "    <filesystem type='mount' accessmode='%s'>\n",
		vfs ? "passthrough" : "squash");
	if (vfs) {
		g_string_append(s, "      <driver type='virtiofs'/>\n");
		xml_add(s, "      <binary path='%s'>\n", virtiofsd);
		/* virtiofsd's auto is libvirt's default: no element. */
		if (d->cache && !g_str_equal(d->cache, "auto"))
			xml_add(s, "        <cache mode='%s'/>\n", d->cache);
		if (d->threads > 0)
			g_string_append_printf(
				s, "        <thread_pool size='%d'/>\n",
				d->threads);
		g_string_append(s, "      </binary>\n");
		x->share_mem = true;
	}
	xml_add(s, "      <source dir='%s'/>\n", d->image);
	xml_add(s, "      <target dir='%s'/>\n", d->name);
	alias = vtb_domxml_alias(d->name);
	xml_add(s, "      <alias name='%s'/>\n", alias);
	g_string_append(s, "    </filesystem>\n");
	g_free(d->guest);
	d->guest = g_strdup_printf(VTB_MOUNT_FS_PREFIX "%s", d->name);
	return TRUE;
}

/*
 * A virtio port.  Without @sock QEMU listens on a socket libvirt names
 * itself, for virDomainOpenChannel() to reach by the port's @name.
 */
static void add_channel(GString *s, const char *sock, const char *name)
{
	g_string_append(s, "    <channel type='unix'>\n");
	if (sock)
		xml_add(s, "      <source mode='connect' path='%s'/>\n", sock);
	else
		g_string_append(s, "      <source mode='bind'/>\n");
	xml_add(s, "      <target type='virtio' name='%s'/>\n", name);
	g_string_append(s, "    </channel>\n");
}

void vtb_domxml_add_port(struct vtb_domxml_devs *x, struct vtb_device *d)
{
	add_channel(x->xml, d->end_path, d->name);
	g_free(d->guest);
	d->guest = g_strdup_printf("vport:%s", d->name);
}

void vtb_domxml_add_serial(struct vtb_domxml_devs *x, struct vtb_device *d)
{
	GString *s = x->xml;
	/* Port 0 is the console. */
	int port = 1 + x->nserial++;

	g_free(d->guest);
	d->guest = g_strdup_printf("/dev/ttyS%d", port);
	if (d->end_path) {
		xml_add(s,
			"    <serial type='unix'>\n"
			"      <source mode='connect' path='%s'/>\n",
			d->end_path);
		g_string_append_printf(s,
				       "      <target port='%d'/>\n"
				       "    </serial>\n",
				       port);
	} else {
		/* A pty, opened raw by virDomainOpenConsole(). */
		g_autofree char *alias = vtb_domxml_alias(d->name);

		g_string_append_printf(s,
				       "    <serial type='pty'>\n"
				       "      <target port='%d'/>\n",
				       port);
		xml_add(s,
			"      <alias name='%s'/>\n"
			"    </serial>\n",
			alias);
	}
}

char *vtb_domain_xml(const struct vtb_domxml_cfg *c)
{
	g_autoptr(GString) s = g_string_new(NULL);
	bool kvm = g_str_equal(c->accel, "kvm");
	int ndisk = c->devs ? c->devs->ndisk : 0;

	xml_add(s, "<domain type='%s'", kvm ? "kvm" : "qemu");
	if (c->qemu_env)
		g_string_append(s, " xmlns:qemu='http://libvirt.org/schemas/"
				   "domain/qemu/1.0'");
	g_string_append(s, ">\n");
	xml_add(s, "  <name>%s</name>\n", c->name);
	g_string_append_printf(s, "  <memory unit='MiB'>%d</memory>\n",
			       c->mem_mb);
	g_string_append_printf(s, "  <vcpu>%d</vcpu>\n", MAX(c->smp, 1));
	if (ndisk)
		g_string_append_printf(s, "  <iothreads>%d</iothreads>\n",
				       ndisk);
	/* virtiofsd maps the guest's memory: a shared memfd, as the direct
	 * driver's memory-backend-memfd,share=on. */
	if (c->devs && c->devs->share_mem)
		g_string_append(s, "  <memoryBacking>\n"
				   "    <source type='memfd'/>\n"
				   "    <access mode='shared'/>\n"
				   "  </memoryBacking>\n");
	g_string_append(s, "  <os>\n"
			   "    <type arch='x86_64' machine='pc'>hvm</type>\n");
	xml_add(s, "    <kernel>%s</kernel>\n", c->kernel);
	xml_add(s, "    <initrd>%s</initrd>\n", c->initrd);
	xml_add(s, "    <cmdline>%s</cmdline>\n", c->append);
	g_string_append(s, "  </os>\n");
	/* The direct driver's QEMU has ACPI on (its default): keep it. */
	g_string_append(s, "  <features><acpi/></features>\n");
	/* The CPU model the KVM test passed with; TCG: QEMU's default
	 * (qemu64), as the direct driver uses. */
	if (kvm && (!c->cpu || g_str_equal(c->cpu, "host")))
		g_string_append(s, "  <cpu mode='host-passthrough'/>\n");
	else if (kvm)
		xml_add(s,
			"  <cpu mode='custom' match='exact' check='none'>"
			"<model fallback='forbid'>%s</model></cpu>\n",
			c->cpu);
	/* The guest powers off by rebooting (vtb.off=reboot). */
	g_string_append(s, "  <on_poweroff>destroy</on_poweroff>\n"
			   "  <on_reboot>destroy</on_reboot>\n"
			   "  <on_crash>destroy</on_crash>\n"
			   "  <devices>\n");
	if (c->console_log)
		xml_add(s,
			"    <serial type='file'>\n"
			"      <source path='%s'/>\n"
			"      <target port='0'/>\n"
			"    </serial>\n",
			c->console_log);
	else
		/* Read through virDomainOpenConsole() by its alias. */
		g_string_append(s, "    <serial type='pty'>\n"
				   "      <target port='0'/>\n"
				   "      <alias name='ua-vtbcon'/>\n"
				   "    </serial>\n");
	/* The control channel: its own port, never the transport under
	 * test. */
	add_channel(s, c->ctl_sock, "vtb.ctl");
	if (c->devs)
		g_string_append(s, c->devs->xml->str);
	g_string_append(s, "    <controller type='usb' model='none'/>\n"
			   "    <memballoon model='none'/>\n"
			   "  </devices>\n");
	if (c->dac_label)
		/* Whose files QEMU may open: see vtb_domxml_cfg. */
		xml_add(s,
			"  <seclabel type='static' model='dac' "
			"relabel='no'>\n"
			"    <label>%s</label>\n"
			"  </seclabel>\n",
			c->dac_label);
	if (c->qemu_env) {
		g_string_append(s, "  <qemu:commandline>\n");
		for (const char *const *e = c->qemu_env; *e; e++) {
			const char *eq = strchr(*e, '=');
			g_autofree char *name = NULL;

			if (!eq)
				continue;
			name = g_strndup(*e, eq - *e);
			xml_add(s, "    <qemu:env name='%s' value='%s'/>\n",
				name, eq + 1);
		}
		g_string_append(s, "  </qemu:commandline>\n");
	}
	g_string_append(s, "</domain>\n");
	return g_string_free(g_steal_pointer(&s), FALSE);
}
