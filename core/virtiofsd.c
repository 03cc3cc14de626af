/* QEMU 7.2's C virtiofsd as a helper child of a vm (either backend). */
#include "core/virtiofsd.h"

#include <string.h>

#include "core/proc.h"
#include "core/vm.h"

char *vtb_virtiofsd_find(GError **err)
{
	const char *env = g_getenv(VTB_VIRTIOFSD_ENV);
	char *p;

	if (env && *env) {
		p = vtb_find_program(env);
		if (!p)
			g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
				    "virtiofs: %s=%s: no such program",
				    VTB_VIRTIOFSD_ENV, env);
		return p;
	}
	p = vtb_find_program(VTB_VIRTIOFSD);
	if (!p)
		p = vtb_find_program("virtiofsd");
	if (!p)
		g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
			    "virtiofs: no virtiofsd (%s, Debian's "
			    "qemu-system-common)",
			    VTB_VIRTIOFSD);
	return p;
}

GStrv vtb_virtiofsd_argv(const char *virtiofsd, const struct vtb_device *d,
			 const char *sock)
{
	GStrvBuilder *b = g_strv_builder_new();
	GStrv argv;

	g_strv_builder_add(b, virtiofsd);
	vtb_strv_take(b, g_strdup_printf("--socket-path=%s", sock));
	g_strv_builder_add(b, "-o");
	vtb_strv_take(b, g_strdup_printf("source=%s", d->image));
	g_strv_builder_add(b, "-o");
	vtb_strv_take(
		b, g_strdup_printf("cache=%s", d->cache ? d->cache : "auto"));
	if (d->threads > 0)
		vtb_strv_take(b, g_strdup_printf("--thread-pool-size=%d",
						 d->threads));
	argv = g_strv_builder_end(b);
	g_strv_builder_unref(b);
	return argv;
}

gboolean vtb_virtiofsd_start(struct vtb_vm *vm, const struct vtb_device *d,
			     const char *sock, GError **err)
{
	g_autofree char *log = NULL, *vfsd = NULL;
	g_auto(GStrv) argv = NULL;
	gint64 t0 = g_get_monotonic_time();
	struct vtb_child *c;

	vfsd = vtb_virtiofsd_find(err);
	if (!vfsd) {
		/* Not asked for by name (the default matrix): a failed run. */
		(*err)->code = VTB_ERR_RUN;
		return FALSE;
	}
	/* -o source=: FUSE's option syntax, which splits at ','. */
	if (strchr(d->image, ',')) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "virtiofsd cannot take the directory %s: its -o "
			    "options split at ','; set TMPDIR to a path "
			    "without one",
			    d->image);
		return FALSE;
	}
	log = g_build_filename(vm->dir, "virtiofsd.log", NULL);
	argv = vtb_virtiofsd_argv(vfsd, d, sock);
	c = vtb_vm_spawn_helper(vm, (const char *const *)argv, "virtiofsd.log",
				NULL, err);
	/* It listens once its socket exists. */
	if (!c ||
	    !vtb_vm_helper_wait(c, sock, log, "virtiofsd", "listened", "listen",
				VTB_VIRTIOFSD_START_S,
				MIN(vm->deadline_us,
				    t0 + (gint64)(VTB_VIRTIOFSD_START_S * 1e6)),
				err)) {
		g_prefix_error(err, "virtiofs: ");
		return FALSE;
	}
	vtb_vm_add_boot_phase(vm, "virtiofsd_start",
			      (g_get_monotonic_time() - t0) / 1e6);
	return TRUE;
}
