/* QEMU's block layer: cache modes, the disks it opens, qemu-storage-daemon. */
#include "core/qemublk.h"

#include <string.h>

#include "core/proc.h"

const char *const vtb_qemu_caches[] = {"none",	     "writeback",    "unsafe",
				       "directsync", "writethrough", NULL};

char *vtb_qemu_opt_value(const char *v)
{
	GString *s = g_string_sized_new(strlen(v) + 8);

	/* QEMU's option syntax: a comma inside a value is written twice. */
	for (; *v; v++) {
		if (*v == ',')
			g_string_append_c(s, ',');
		g_string_append_c(s, *v);
	}
	return g_string_free(s, FALSE);
}

/* QEMU's manual, -drive cache=: cache.writeback, cache.direct,
 * cache.no-flush for each mode. */
static const struct {
	const char *mode;
	struct vtb_qemu_cache c;
} cache_table[] = {
	{"writeback", {true, false, false}},
	{"none", {true, true, false}},
	{"writethrough", {false, false, false}},
	{"directsync", {false, true, false}},
	{"unsafe", {true, false, true}},
};

gboolean vtb_qemu_cache_of(const char *mode, struct vtb_qemu_cache *out)
{
	for (size_t i = 0; mode && i < G_N_ELEMENTS(cache_table); i++)
		if (strcmp(cache_table[i].mode, mode) == 0) {
			*out = cache_table[i].c;
			return TRUE;
		}
	return FALSE;
}

char *vtb_qemu_disk_cannot(const struct vtb_device *d)
{
	struct vtb_qemu_cache c;

	if (d->cache && !vtb_qemu_cache_of(d->cache, &c))
		return g_strdup_printf("QEMU has no cache mode %s (ubd's)",
				       d->cache);
	if (d->aio && strcmp(d->aio, "native") == 0 && d->cache && !c.direct)
		return g_strdup("aio=native needs O_DIRECT: cache none or "
				"directsync");
	return NULL;
}

GStrv vtb_qsd_argv(const char *qsd, const struct vtb_device *d,
		   const char *sock, const char *pidfile)
{
	GStrvBuilder *b = g_strv_builder_new();
	struct vtb_qemu_cache c = {.writeback = true};
	const char *ro = d->readonly ? "on" : "off";
	g_autofree char *image = vtb_qemu_opt_value(d->image);
	g_autofree char *asock = vtb_qemu_opt_value(sock);
	GStrv argv;

	vtb_qemu_cache_of(d->cache ? d->cache : "writeback", &c);
	g_strv_builder_add(b, qsd);
	/* The protocol node opens the file: O_DIRECT and aio live here. */
	g_strv_builder_add(b, "--blockdev");
	vtb_strv_take(b, g_strdup_printf(
				 "driver=file,node-name=file0,filename=%s,"
				 "cache.direct=%s,cache.no-flush=%s,"
				 "read-only=%s%s%s",
				 image, c.direct ? "on" : "off",
				 c.no_flush ? "on" : "off", ro,
				 d->aio ? ",aio=" : "", d->aio ? d->aio : ""));
	g_strv_builder_add(b, "--blockdev");
	vtb_strv_take(b, g_strdup_printf("driver=%s,node-name=disk0,file=file0,"
					 "cache.direct=%s,cache.no-flush=%s,"
					 "read-only=%s",
					 d->format ? d->format : "raw",
					 c.direct ? "on" : "off",
					 c.no_flush ? "on" : "off", ro));
	/* cache.writeback is the device's under QEMU; an export has it as
	 * writethrough (a flush after every write, before completion). */
	g_strv_builder_add(b, "--export");
	vtb_strv_take(b, g_strdup_printf(
				 "type=vhost-user-blk,id=export0,"
				 "node-name=disk0,addr.type=unix,addr.path=%s,"
				 "writable=%s,writethrough=%s",
				 asock, d->readonly ? "off" : "on",
				 c.writeback ? "off" : "on"));
	g_strv_builder_add(b, "--pidfile");
	g_strv_builder_add(b, pidfile);
	argv = g_strv_builder_end(b);
	g_strv_builder_unref(b);
	return argv;
}
