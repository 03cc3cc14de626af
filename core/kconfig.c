/*
 * The kernel config fragment vtbench needs, made from the tables that
 * decide which modules the appliance loads (backends' base_modules, their
 * disk rows' fs_modules, the transports' guest_modules): each module those
 * name has its CONFIG_ symbol here, and the fragment adds the options that
 * must be built in, per arch.  tests/unit/core/test_kconfig checks that no
 * module can be loaded without its line.
 */
#include "core/kconfig.h"

#include <string.h>

#include "core/registry.h"
#include "core/vtbench.h"

/* A guest module the appliance may load: its symbol, why, and the module
 * whose option must be on for this one to be offered at all. */
struct kmod {
	const char *module, *symbol, *why, *needs;
};

/* clang-format off */
static const struct kmod kmods[] = {
	{ "virtio_pci", "VIRTIO_PCI",
	  "QEMU's virtio devices sit on PCI", NULL },
	{ "virtio_console", "VIRTIO_CONSOLE",
	  "virtio-serial: kvm's control channel and the virtio-serial "
	  "transport (UML: over vhost-user)", NULL },
	{ "virtio_blk", "VIRTIO_BLK",
	  "the virtio-blk transport and the disks writing workloads fill",
	  NULL },
	{ "virtiofs", "VIRTIO_FS", "the virtiofs transport", "fuse" },
	{ "fuse", "FUSE_FS", "virtiofs is a FUSE filesystem", NULL },
	{ "9p", "9P_FS", "the 9p transport", "9pnet" },
	{ "9pnet_virtio", "NET_9P_VIRTIO", "9p's virtio channel", "9pnet" },
	{ "9pnet", "NET_9P", "9p's protocol (under 9P_FS)", NULL },
	{ "9pnet_fd", "NET_9P_FD", "9p over a stream (UML's 9p: trans=fd)",
	  "9pnet" },
	{ "ext4", "EXT4_FS",
	  "the filesystem of target disks (ext2/3 images too)", NULL },
	{ "crc32c_generic", "CRYPTO_CRC32C",
	  "ext4's metadata checksums (a soft dependency, not in depends=)",
	  NULL },
};

/* Options that must be built in (the appliance cannot load them). */
static const struct {
	const char *arch; /* NULL: every arch */
	const char *symbol, *why;
} builtins[] = {
	{ NULL, "BLK_DEV_INITRD", "the appliance is an initramfs" },
	{ NULL, "BINFMT_ELF", "the agent (PID 1) is a static ELF" },
	{ NULL, "MODULES", "the appliance loads the modules below" },
	{ NULL, "DEVTMPFS", "the agent mounts devtmpfs on /dev" },
	{ NULL, "PROC_FS", "the agent mounts /proc (CPU times, mounts)" },
	{ NULL, "SYSFS", "the agent mounts /sys" },
	{ NULL, "SHMEM", "tmpfs is shmem's filesystem (tinyconfig has it "
	  "off)" },
	{ NULL, "TMPFS", "the tmpfs transport and the agent's scratch "
	  "directories" },
	{ NULL, "FUTEX", "the agent's threads (upload's reader and writer) "
	  "wait on futexes" },
	{ NULL, "PRINTK", "the kernel's messages on the console, kept with "
	  "the results (panics)" },
	{ "um", "SSL", "UML's serial lines: the control channel (ssl1) and "
	  "the serial transport" },
	{ "um", "NULL_CHAN", "con=null and ssl=null: the lines not used" },
	{ "um", "BLK_DEV_UBD", "the ubd transport and UML's disks" },
	{ "um", "HOSTFS", "the hostfs transport" },
	{ "um", "VIRTIO_UML", "virtio devices over vhost-user "
	  "(virtio_uml.device=)" },
	{ "um", "EXT4_FS", "ubd target disks' filesystem (UML's disk row "
	  "loads no module for it)" },
	{ "x86_64", "PVH", "QEMU -kernel of an ELF vmlinux (the PVH entry)" },
	{ "x86_64", "PCI", "virtio-pci's bus" },
	{ "x86_64", "SERIAL_8250", "the serial transport (QEMU's 8250)" },
	{ "x86_64", "SERIAL_8250_CONSOLE", "console=ttyS0: boot messages "
	  "and panics in the results" },
};
/* clang-format on */

char *vtb_kconfig_arches(void)
{
	GString *s = g_string_new(NULL);

	for (int i = 0; vtb_backends[i]; i++)
		if (vtb_backends[i]->kernel_arch)
			g_string_append_printf(s, "%s%s", s->len ? ", " : "",
					       vtb_backends[i]->kernel_arch);
	return g_string_free(s, FALSE);
}

static void add_mods(GPtrArray *out, const char *const *mods)
{
	for (int i = 0; mods && mods[i]; i++) {
		guint j;

		for (j = 0; j < out->len; j++)
			if (strcmp(out->pdata[j], mods[i]) == 0)
				break;
		if (j == out->len)
			g_ptr_array_add(out, (char *)mods[i]);
	}
}

GPtrArray *vtb_kconfig_modules(const char *arch)
{
	GPtrArray *out = g_ptr_array_new();

	for (int i = 0; vtb_backends[i]; i++) {
		const struct vtb_backend_ops *be = vtb_backends[i];

		if (!be->kernel_arch || strcmp(be->kernel_arch, arch) != 0)
			continue;
		add_mods(out, be->base_modules);
		for (int d = 0; be->drivers[d]; d++)
			for (int k = 0; k < VTB_DEV__N; k++) {
				const struct vtb_device_ops *row =
					vtb_driver_row(be->drivers[d], k);

				if (row)
					add_mods(out, row->fs_modules);
			}
		for (int t = 0; vtb_transports[t]; t++) {
			struct vtb_device dev = {0};
			g_autofree char *why = NULL;

			vtb_transport_device(vtb_transports[t], &dev);
			why = vtb_backend_cannot(be, &dev);
			if (!why)
				add_mods(out, vtb_transport_modules(
						      be, vtb_transports[t]));
		}
	}
	return out;
}

static const struct kmod *kmod_of(const char *module)
{
	for (size_t i = 0; i < G_N_ELEMENTS(kmods); i++)
		if (strcmp(kmods[i].module, module) == 0)
			return &kmods[i];
	return NULL;
}

const char *vtb_kconfig_symbol_of(const char *module)
{
	const struct kmod *k = kmod_of(module);

	return k ? k->symbol : NULL;
}

static bool has_symbol(const GArray *frag, const char *symbol)
{
	for (guint i = 0; i < frag->len; i++)
		if (strcmp(g_array_index(frag, struct vtb_kconfig_line, i)
				   .symbol,
			   symbol) == 0)
			return true;
	return false;
}

static void add_line(GArray *frag, const char *symbol, char value,
		     const char *why)
{
	struct vtb_kconfig_line l = {symbol, value, why};

	if (!has_symbol(frag, symbol))
		g_array_append_val(frag, l);
}

GArray *vtb_kconfig_fragment(const char *arch, GError **err)
{
	g_autoptr(GArray) frag = NULL;
	g_autoptr(GPtrArray) mods = NULL;
	bool known = false;

	for (int i = 0; vtb_backends[i]; i++)
		if (vtb_backends[i]->kernel_arch &&
		    strcmp(vtb_backends[i]->kernel_arch, arch) == 0)
			known = true;
	if (!known) {
		g_autofree char *arches = vtb_kconfig_arches();

		g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
			    "unknown --arch '%s' (%s)", arch, arches);
		return NULL;
	}
	frag = g_array_new(FALSE, FALSE, sizeof(struct vtb_kconfig_line));
	for (size_t i = 0; i < G_N_ELEMENTS(builtins); i++)
		if (!builtins[i].arch || strcmp(builtins[i].arch, arch) == 0)
			add_line(frag, builtins[i].symbol, 'y',
				 builtins[i].why);
	mods = vtb_kconfig_modules(arch);
	for (guint i = 0; i < mods->len; i++) {
		/* A module and what it needs, a line each. */
		for (const char *m = mods->pdata[i]; m;) {
			const struct kmod *k = kmod_of(m);

			if (!k) {
				g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
					    "guest module %s has no CONFIG_ "
					    "symbol in core/kconfig.c",
					    m);
				return NULL;
			}
			add_line(frag, k->symbol, 'm', k->why);
			m = k->needs;
		}
	}
	return g_steal_pointer(&frag);
}

char *vtb_kconfig_render(const char *arch, const GArray *frag)
{
	GString *s = g_string_new(NULL);

	g_string_append_printf(
		s,
		"# vtbench's kernel config fragment, ARCH=%s: =m where the "
		"appliance\n# loads the module (=y does as well), =y where it "
		"must be built in.\n",
		arch);
	for (guint i = 0; i < frag->len; i++) {
		const struct vtb_kconfig_line *l =
			&g_array_index(frag, struct vtb_kconfig_line, i);

		g_string_append_printf(s, "CONFIG_%s=%c # %s\n", l->symbol,
				       l->value, l->why);
	}
	return g_string_free(s, FALSE);
}

static bool symbol_char(char c)
{
	return g_ascii_isupper(c) || g_ascii_isdigit(c) || c == '_' ||
	       g_ascii_islower(c);
}

GPtrArray *vtb_kconfig_missing(const GArray *frag, const char *text, gsize len,
			       GError **err)
{
	g_autoptr(GHashTable) set =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *copy = g_strndup(text, len);
	g_auto(GStrv) lines = NULL;
	int n = 0;

	if (memchr(text, '\0', len)) {
		g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
			    "not a kernel .config (binary data)");
		return NULL;
	}
	lines = g_strsplit(copy, "\n", -1);
	for (int i = 0; lines[i]; i++) {
		const char *l = g_strstrip(lines[i]);
		const char *p = l + strlen("CONFIG_");
		const char *eq;

		if (!*l || *l == '#')
			continue;
		eq = strchr(l, '=');
		if (!g_str_has_prefix(l, "CONFIG_") || !eq || eq == p) {
			g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
				    "not a kernel .config (line %d: %.40s)",
				    i + 1, l);
			return NULL;
		}
		for (const char *c = p; c < eq; c++)
			if (!symbol_char(*c)) {
				g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
					    "not a kernel .config (line %d: "
					    "%.40s)",
					    i + 1, l);
				return NULL;
			}
		g_hash_table_insert(set, g_strndup(p, eq - p),
				    g_strdup(eq + 1));
		n++;
	}
	if (!n) {
		g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
			    "not a kernel .config (no CONFIG_ line)");
		return NULL;
	}
	for (guint i = 0; i < frag->len; i++) {
		const struct vtb_kconfig_line *f =
			&g_array_index(frag, struct vtb_kconfig_line, i);
		const char *v = g_hash_table_lookup(set, f->symbol);

		/* =y satisfies =m: a built-in module is in modules.builtin,
		 * which the appliance's resolver skips. */
		if (v && (strcmp(v, "y") == 0 ||
			  (f->value == 'm' && strcmp(v, "m") == 0)))
			continue;
		g_ptr_array_add(
			out, g_strdup_printf("CONFIG_%s=%c # %s (the config: "
					     "%s%s)",
					     f->symbol, f->value, f->why,
					     v ? "=" : "not set", v ? v : ""));
	}
	return g_steal_pointer(&out);
}
