/* UML backend: the linux.uml command line and the process around it. */
#include "uml/uml.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/channel.h"
#include "core/kernels.h"
#include "core/vtbench.h"

GStrv vtb_uml_argv(const struct vtb_uml_cfg *c)
{
	GStrvBuilder *b = g_strv_builder_new();
	GStrv argv;

	g_strv_builder_add(b, c->kernel);
	vtb_strv_take(b, g_strdup_printf("mem=%dM", c->mem_mb));
	vtb_strv_take(b, g_strdup_printf("initrd=%s", c->initrd));
	vtb_strv_take(b, g_strdup_printf("umid=%s", c->umid));
	vtb_strv_take(b, g_strdup_printf("uml_dir=%s", c->uml_dir));
	/* Without hostfs= a guest could mount any host path. */
	vtb_strv_take(b, g_strdup_printf("hostfs=%s", c->hostfs_dir));
	/* Every console and serial line off, then the two we use. */
	g_strv_builder_add(b, "con=null");
	g_strv_builder_add(b, "ssl=null");
	g_strv_builder_add(b, "con0=fd:0,fd:1");
	vtb_strv_take(b, g_strdup_printf("ssl1=fd:%d", c->ctl_fd));
	g_strv_builder_add(b, "quiet");
	g_strv_builder_add(b, "vtb.ctl=tty:/dev/ttyS1");
	g_strv_builder_add(b, "vtb.off=poweroff");
	if (c->append && *c->append) {
		g_auto(GStrv) extra = g_strsplit(c->append, " ", -1);

		for (char **e = extra; *e; e++)
			if (**e)
				g_strv_builder_add(b, *e);
	}
	argv = g_strv_builder_end(b);
	g_strv_builder_unref(b);
	return argv;
}

static gboolean uml_prepare(struct vtb_env *env, GError **err)
{
	struct vtb_opts *o = env->opts;
	const char *path = o->uml_kernel ? o->uml_kernel
					 : vtb_default_uml_kernel();
	g_autoptr(GError) e = NULL;

	if (!vtb_kernel_identify(path, &env->uml_kernel, &e)) {
		/* A kernel the user named is bad input; a default one
		 * missing means UML is not installed here. */
		g_set_error(err, VTB_ERROR,
			    o->uml_kernel ? VTB_ERR_USAGE : VTB_ERR_UNAVAILABLE,
			    "--uml-kernel: %s", e->message);
		return FALSE;
	}
	if (env->uml_kernel.kind != VTB_KERNEL_UML) {
		g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
			    "--uml-kernel %s: a %s, not a UML kernel", path,
			    vtb_kernel_kind_name(env->uml_kernel.kind));
		return FALSE;
	}
	if (o->uml_modules) {
		if (!g_file_test(o->uml_modules, G_FILE_TEST_IS_DIR)) {
			g_set_error(err, VTB_ERROR, VTB_ERR_USAGE,
				    "--uml-modules %s: not a directory",
				    o->uml_modules);
			return FALSE;
		}
		env->uml_modules = g_strdup(o->uml_modules);
	} else {
		env->uml_modules =
			vtb_default_uml_modules(env->uml_kernel.release);
	}
	return TRUE;
}

static const char *uml_modules_dir(const struct vtb_env *env)
{
	return env->uml_modules;
}

static const char *uml_release(const struct vtb_env *env)
{
	return env->uml_kernel.release;
}

static gboolean uml_boot(struct vtb_vm *vm, GError **err)
{
	struct vtb_env *env = vm->cell->env;
	g_autofree char *uml_dir = g_build_filename(vm->dir, "uml", NULL);
	g_autofree char *hostfs = g_build_filename(vm->dir, "hostfs", NULL);
	g_autofree char *umid = NULL;
	g_autofree char *tmpenv = g_strdup_printf("TMPDIR=%s", vm->dir);
	g_auto(GStrv) argv = NULL;
	const char *envset[] = { tmpenv, NULL };
	static unsigned seq;
	struct vtb_fdmap map[1];
	struct vtb_msg m;
	int sv[2], log_fd;
	gboolean ok;

	if (g_mkdir(uml_dir, 0700) < 0 || g_mkdir(hostfs, 0700) < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "mkdir in %s: %s",
			    vm->dir, g_strerror(errno));
		return FALSE;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "socketpair: %s",
			    g_strerror(errno));
		return FALSE;
	}
	log_fd = open(vm->console_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		      0600);
	if (log_fd < 0) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "open %s: %s",
			    vm->console_log, g_strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return FALSE;
	}
	umid = g_strdup_printf("vtb-%d-%u", (int)getpid(), seq++);
	argv = vtb_uml_argv(&(struct vtb_uml_cfg){
		.kernel = env->uml_kernel.path,
		.initrd = vm->cell->appliance.initrd,
		.mem_mb = env->opts->mem_mb,
		.umid = umid,
		.uml_dir = uml_dir,
		.hostfs_dir = hostfs,
		.ctl_fd = 3,
	});
	map[0] = (struct vtb_fdmap){ .src = sv[1], .dst = 3 };
	ok = vtb_child_spawn(&vm->child, (const char *const *)argv, log_fd,
			     map, 1, envset, err);
	close(log_fd);
	close(sv[1]);
	if (!ok) {
		close(sv[0]);
		return FALSE;
	}
	vm->t_spawn_us = vm->child.t_spawn_us;
	g_unix_set_fd_nonblocking(sv[0], TRUE, NULL);
	vm->ctl_fd = sv[0];
	/* The guest speaks first: we only listen until HELLO. */
	if (!vtb_chan_expect(vm, VTB_MSG_HELLO, &m, vm->deadline_us, err))
		return FALSE;
	vm->t_hello_us = g_get_monotonic_time();
	vm->hello = m.u.hello;
	return TRUE;
}

static void uml_cleanup(struct vtb_vm *vm)
{
	/* The runner kills the process group and removes vm->dir. */
}

static const char *const uml_base_modules[] = { NULL };

const struct vtb_backend_ops vtb_backend_uml = {
	.name = "uml",
	.help = "User-Mode Linux (linux.uml) as a host process",
	.prepare = uml_prepare,
	.base_modules = uml_base_modules,
	.modules_dir = uml_modules_dir,
	.release = uml_release,
	.boot = uml_boot,
	.cleanup = uml_cleanup,
};
