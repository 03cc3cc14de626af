/* KVM/QEMU backend, driver `libvirt`: a transient domain per boot. */
#include <json-glib/json-glib.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <string.h>
#include <unistd.h>

#include "core/channel.h"
#include "core/vm.h"
#include "kvm/kvm.h"

struct lv {
	virConnectPtr conn;
	virDomainPtr dom;
	char *name;
};

/* libvirt prints every error to stderr by default; we report our own. */
static void quiet(void *data, virErrorPtr e)
{
}

static void lv_init(void)
{
	static gsize done;

	if (g_once_init_enter(&done)) {
		virInitialize();
		virSetErrorFunc(NULL, quiet);
		g_once_init_leave(&done, 1);
	}
}

/* libvirt's own message, its first line only (XML errors add a
 * picture of the offending line). */
static const char *lv_msg(void)
{
	static __thread char buf[512];
	const char *m = virGetLastErrorMessage();

	if (!m || !*m)
		return "unknown libvirt error";
	g_strlcpy(buf, m, sizeof(buf));
	buf[strcspn(buf, "\n")] = 0;
	return buf;
}

/* virConnectOpen, with a connection that does not outlive vtbench. */
static virConnectPtr lv_open(const char *uri)
{
	lv_init();
	return virConnectOpen(uri);
}

gboolean vtb_libvirt_check(const char *uri, GError **err)
{
	virConnectPtr c = lv_open(uri);

	if (!c) {
		g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
			    "--connect %s: cannot connect: %s", uri, lv_msg());
		return FALSE;
	}
	virConnectClose(c);
	return TRUE;
}

static double since(gint64 *t)
{
	gint64 now = g_get_monotonic_time();
	double s = (now - *t) / 1e6;

	*t = now;
	return s;
}

/* One QMP command through libvirt-qemu; the reply's "return" member. */
static JsonNode *qmp(struct vtb_vm *vm, const char *cmd, GError **err)
{
	struct lv *lv = vm->priv;
	g_autofree char *json = g_strdup_printf("{\"execute\":\"%s\"}", cmd);
	g_autofree char *reply = NULL;
	g_autoptr(JsonParser) p = json_parser_new();
	JsonObject *o;

	if (!lv || !lv->dom) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "QMP %s: no domain",
			    cmd);
		return NULL;
	}
	if (virDomainQemuMonitorCommand(lv->dom, json, &reply, 0) < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "QMP %s on %s: %s",
			    cmd, lv->name, lv_msg());
		return NULL;
	}
	if (!json_parser_load_from_data(p, reply, -1, err)) {
		g_prefix_error(err, "QMP %s reply: ", cmd);
		return NULL;
	}
	o = json_node_get_object(json_parser_get_root(p));
	if (!o || !json_object_has_member(o, "return")) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "QMP %s: %s", cmd,
			    reply);
		return NULL;
	}
	return json_node_copy(json_object_get_member(o, "return"));
}

/* The accel QEMU really uses must be the one the cell says. */
static gboolean confirm_accel(struct vtb_vm *vm, GError **err)
{
	g_autoptr(JsonNode) r = qmp(vm, "query-kvm", err);
	JsonObject *o;
	bool enabled, want = g_str_equal(vm->cell->accel, "kvm");

	if (!r)
		return FALSE;
	o = json_node_get_object(r);
	enabled = o && json_object_get_boolean_member_with_default(o, "enabled",
								   FALSE);
	if (enabled != want) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "QMP query-kvm: QEMU runs with KVM %s, the cell "
			    "says accel %s",
			    enabled ? "enabled" : "disabled", vm->cell->accel);
		return FALSE;
	}
	return TRUE;
}

gboolean vtb_libvirt_boot(struct vtb_vm *vm, GError **err)
{
	struct vtb_env *env = vm->cell->env;
	const char *uri = env->opts->connect;
	g_autofree char *sock = g_build_filename(vm->dir, "ctl.sock", NULL);
	g_autofree char *append = NULL, *mount = NULL, *xml = NULL;
	g_autofree char *label = NULL, *xmlpath = NULL;
	struct vtb_domxml_cfg cfg;
	struct lv *lv;
	struct vtb_msg m;
	gint64 t;
	int lfd;

	lv = g_new0(struct lv, 1);
	vm->priv = lv;
	lv->name = g_path_get_basename(vm->dir);
	g_strlcpy(vm->child.name, "qemu (libvirt)", sizeof(vm->child.name));
	/* QEMU connects to every socket at start-up: listen first. */
	for (guint i = 0; i < vm->devices->len; i++) {
		struct vtb_device *d = vm->devices->pdata[i];

		if (d->kind == VTB_DEV_DISK)
			continue;
		d->sock = g_strdup_printf("%s/data%u.sock", vm->dir, i);
		d->listen_fd = vtb_kvm_listen_unix(d->sock, err);
		if (d->listen_fd < 0)
			return FALSE;
	}
	lfd = vtb_kvm_listen_unix(sock, err);
	if (lfd < 0)
		return FALSE;

	t = vm->t_spawn_us = g_get_monotonic_time();
	lv->conn = lv_open(uri);
	if (!lv->conn) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "libvirt: connect to %s: %s", uri, lv_msg());
		close(lfd);
		return FALSE;
	}
	vtb_vm_add_boot_phase(vm, "libvirt_connect", since(&t));

	/*
	 * QEMU runs as vtbench's user, as under the direct driver: it
	 * reaches the private dir and the cache, nobody else does.  The
	 * domain uses vtbench's paths and unix sockets as they are, so a
	 * daemon behind any URI must see them: this host, or a shared mount
	 * at the same paths (README: remote URIs).
	 */
	label = g_strdup_printf("+%u:+%u", (unsigned)getuid(),
				(unsigned)getgid());
	cfg = (struct vtb_domxml_cfg){
		.name = lv->name,
		.accel = vm->cell->accel,
		.cpu = g_str_equal(vm->cell->accel, "kvm") ? env->kvm_cpu
							   : NULL,
		.kernel = env->kvm_boot_image,
		.initrd = vm->cell->appliance.initrd,
		.mem_mb = env->opts->mem_mb,
		.smp = env->opts->cpus,
		.console_log = vm->console_log,
		.ctl_sock = sock,
		.devs = (struct vtb_device **)vm->devices->pdata,
		.ndevs = vm->devices->len,
		.dac_label = label,
		.qemu_env = (const char *const *)vm->vmm_env,
	};
	/* Once to name the devices, then with the mount that uses a name. */
	cfg.append = "";
	xml = vtb_domain_xml(&cfg, err);
	if (!xml) {
		close(lfd);
		return FALSE;
	}
	g_clear_pointer(&xml, g_free);
	mount = vtb_vm_mount_args(vm);
	append = vtb_kvm_append(vm->cell->accel, mount);
	cfg.append = append;
	xml = vtb_domain_xml(&cfg, err);
	if (!xml) {
		close(lfd);
		return FALSE;
	}
	/* Kept beside the console log for whoever debugs a failed boot. */
	xmlpath = g_build_filename(vm->dir, "domain.xml", NULL);
	g_file_set_contents(xmlpath, xml, -1, NULL);
	vtb_vm_add_boot_phase(vm, "libvirt_xml", since(&t));

	/* AUTODESTROY: the domain goes with our connection, even when
	 * vtbench is killed; cleanup destroys it explicitly too. */
	lv->dom =
		virDomainCreateXML(lv->conn, xml, VIR_DOMAIN_START_AUTODESTROY);
	if (!lv->dom) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "libvirt: create domain %s: %s", lv->name,
			    lv_msg());
		close(lfd);
		return FALSE;
	}
	vtb_vm_add_boot_phase(vm, "libvirt_create", since(&t));

	vm->ctl_fd = vtb_kvm_accept(vm, lfd, err);
	close(lfd);
	if (vm->ctl_fd < 0)
		return FALSE;
	for (guint i = 0; i < vm->devices->len; i++) {
		struct vtb_device *d = vm->devices->pdata[i];

		if (d->listen_fd < 0)
			continue;
		d->fd = vtb_kvm_accept(vm, d->listen_fd, err);
		close(d->listen_fd);
		d->listen_fd = -1;
		if (d->fd < 0)
			return FALSE;
	}
	if (!vtb_chan_expect(vm, VTB_MSG_HELLO, &m, vm->deadline_us, err))
		return FALSE;
	vm->t_hello_us = g_get_monotonic_time();
	vm->hello = m.u.hello;
	vtb_vm_add_boot_phase(vm, "libvirt_running_to_hello", since(&t));
	return confirm_accel(vm, err);
}

gboolean vtb_libvirt_wait_exit(struct vtb_vm *vm, int timeout_ms)
{
	struct lv *lv = vm->priv;
	gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;

	if (!lv || !lv->dom)
		return TRUE;
	/* The guest reboots; on_reboot=destroy ends QEMU and the
	 * transient domain disappears. */
	for (;;) {
		int active = virDomainIsActive(lv->dom);

		if (active == 0 || (active < 0 && virGetLastErrorCode() ==
							  VIR_ERR_NO_DOMAIN)) {
			virDomainFree(lv->dom);
			lv->dom = NULL;
			return TRUE;
		}
		if (g_get_monotonic_time() >= deadline || vtb_interrupted())
			return FALSE;
		g_usleep(2000);
	}
}

gboolean vtb_libvirt_disk_stats(struct vtb_vm *vm, const struct vtb_device *d,
				struct vtb_disk_stats *out, GError **err)
{
	g_autoptr(JsonNode) r = qmp(vm, "query-blockstats", err);
	g_autofree char *alias = g_strdup_printf("ua-%s", d->name);
	g_autofree char *path =
		g_strdup_printf("/machine/peripheral/ua-%s/", d->name);
	JsonArray *a;

	if (!r)
		return FALSE;
	a = json_node_get_array(r);
	for (guint i = 0; a && i < json_array_get_length(a); i++) {
		JsonObject *o = json_array_get_object_element(a, i);
		const char *qdev = json_object_get_string_member_with_default(
			o, "qdev", "");
		JsonObject *st;

		if (!g_str_equal(qdev, alias) && !g_str_has_prefix(qdev, path))
			continue;
		st = json_object_get_object_member(o, "stats");
		if (!st)
			break;
		out->rd_bytes = json_object_get_int_member(st, "rd_bytes");
		out->wr_bytes = json_object_get_int_member(st, "wr_bytes");
		out->rd_ops = json_object_get_int_member(st, "rd_operations");
		out->wr_ops = json_object_get_int_member(st, "wr_operations");
		out->flush_ops =
			json_object_get_int_member(st, "flush_operations");
		return TRUE;
	}
	g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
		    "QMP query-blockstats: no device %s", alias);
	return FALSE;
}

void vtb_libvirt_cleanup(struct vtb_vm *vm)
{
	struct lv *lv = vm->priv;

	if (!lv)
		return;
	if (lv->dom) {
		/* Gone already is fine; anything else must not leave it. */
		virDomainDestroy(lv->dom);
		virDomainFree(lv->dom);
	}
	if (lv->conn)
		virConnectClose(lv->conn);
	g_free(lv->name);
	g_free(lv);
	vm->priv = NULL;
}
