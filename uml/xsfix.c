/*
 * vtbench's side of UML's xstate fix (uml/xstate.h): a bounded test boot
 * of the real appliance decides whether linux.uml needs libvtbxstate.so,
 * the verdict is cached per host boot, kernel build and fix, and every
 * UML process of the run gets the library in its environment when needed.
 */
#include "uml/uml.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/kernels.h"
#include "core/registry.h"
#include "core/vm.h"
#include "uml/xstate.h"

/*
 * A working UML reaches its agent in ~1.5 s here; one that trips over the
 * xstate size dies at its first user process, well before this.
 */
#define UML_TEST_S 15.0

#define EMULATE_VAR "VTBENCH_XSTATE_EMULATE"

static const char *emulated(void)
{
	const char *e = g_getenv(EMULATE_VAR);

	return e && *e ? e : NULL;
}

gboolean vtb_uml_xstate_find(struct vtb_uml_env *u, GError **err)
{
	g_autofree char *lib = NULL;

	if (u->xstate_lib)
		return TRUE;
	lib = vtb_find_helper("VTBENCH_XSTATELIB", "uml", "libvtbxstate.so",
			      "UML xstate fix", err);
	if (!lib)
		return FALSE;
	/* LD_PRELOAD splits at both. */
	if (strpbrk(lib, ": \t")) {
		g_set_error(err, VTB_ERROR, VTB_ERR_UNAVAILABLE,
			    "UML xstate fix %s: LD_PRELOAD cannot carry a path "
			    "with ':' or blanks; set VTBENCH_XSTATELIB to a "
			    "copy elsewhere",
			    lib);
		return FALSE;
	}
	u->xstate_lib = g_steal_pointer(&lib);
	return TRUE;
}

void vtb_uml_xstate_env(const struct vtb_uml_env *u, GPtrArray *envset,
			const char *mode, const char *report)
{
	const char *inherited = g_getenv("LD_PRELOAD");
	char *pre = NULL;

	/* After the flush audit's library when it is there: both wrap
	 * different calls, so the order does not matter. */
	for (guint i = 0; i < envset->len; i++) {
		char *e = envset->pdata[i];

		if (e && g_str_has_prefix(e, "LD_PRELOAD=")) {
			pre = g_strdup_printf("%s:%s", e, u->xstate_lib);
			g_ptr_array_remove_index(envset, i);
			break;
		}
	}
	if (!pre)
		pre = inherited && *inherited
			      ? g_strdup_printf("LD_PRELOAD=%s:%s",
						u->xstate_lib, inherited)
			      : g_strdup_printf("LD_PRELOAD=%s", u->xstate_lib);
	g_ptr_array_add(envset, pre);
	g_ptr_array_add(envset,
			g_strdup_printf("%s=%s", VTB_XSTATE_ENV_MODE, mode));
	if (report)
		g_ptr_array_add(
			envset,
			g_strdup_printf("%s=%s", VTB_XSTATE_ENV_FILE, report));
	if (emulated())
		g_ptr_array_add(envset,
				g_strdup_printf("%s=%s", VTB_XSTATE_ENV_EMULATE,
						emulated()));
}

bool vtb_uml_xstate_loaded(const struct vtb_uml_env *u)
{
	/* Emulating a host that needs the fix means emulating it in every
	 * UML process; observe mode is a plain pass-through. */
	return u->xstate_fix || emulated();
}

static struct vtb_xstate_shm *report_new(const char *dir, char **path,
					 GError **err)
{
	g_autofree char *tmpl = g_build_filename(dir, "xstate-XXXXXX", NULL);
	struct vtb_xstate_shm *s;
	int fd = g_mkstemp_full(tmpl, O_RDWR | O_CLOEXEC, 0600), e;

	if (fd < 0 || ftruncate(fd, sizeof(*s)) != 0) {
		e = errno;
		if (fd >= 0)
			close(fd);
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "create the xstate report in %s: %s", dir,
			    g_strerror(e));
		return NULL;
	}
	s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	e = errno;
	close(fd);
	if (s == MAP_FAILED) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "mmap %s: %s", tmpl,
			    g_strerror(e));
		return NULL;
	}
	s->version = VTB_XSTATE_VERSION;
	s->size = sizeof(*s);
	__atomic_store_n(&s->magic, VTB_XSTATE_MAGIC, __ATOMIC_RELEASE);
	*path = g_steal_pointer(&tmpl);
	return s;
}

/* What one test boot showed. */
struct trial {
	bool booted;
	char *error;		    /* why not, when !booted */
	struct vtb_xstate_shm seen; /* the preload's counters, when loaded */
	bool loaded;
};

static void trial_clear(struct trial *t)
{
	g_clear_pointer(&t->error, g_free);
}

/*
 * Boot the appliance @initrd with the preload in @mode ("observe", "fix")
 * or without it (@mode NULL), to the agent's HELLO and a clean power-off.
 */
static gboolean trial_boot(const struct vtb_backend_ops *be,
			   struct vtb_env *env, const char *initrd,
			   const char *mode, struct trial *t, GError **err)
{
	struct vtb_cell cell = {
		.env = env,
		.backend = be,
		.driver = "direct",
		.accel = "-",
	};
	g_autoptr(vtb_vm) vm = NULL;
	g_autoptr(GError) e = NULL;
	g_autoptr(GPtrArray) envset = g_ptr_array_new();
	g_autofree char *report = NULL;
	struct vtb_xstate_shm *shm = NULL;

	memset(t, 0, sizeof(*t));
	cell.appliance.initrd = (char *)initrd;
	vm = vtb_vm_new(&cell, err);
	if (!vm)
		return FALSE;
	if (mode) {
		shm = report_new(vm->dir, &report, err);
		if (!shm)
			return FALSE;
		vtb_uml_xstate_env(vtb_env_priv(env, be), envset, mode, report);
		g_ptr_array_add(envset, NULL);
		vm->vmm_env = (char **)g_ptr_array_steal(envset, NULL);
	}
	if (vtb_vm_start(vm, UML_TEST_S, &e) && vtb_vm_poweroff(vm, 5, &e)) {
		t->booted = true;
	} else if (e->code == VTB_ERR_INTERRUPTED) {
		g_propagate_error(err, g_steal_pointer(&e));
		if (shm)
			munmap(shm, sizeof(*shm));
		return FALSE;
	} else {
		t->error = g_strdup(e->message);
	}
	vtb_child_kill(&vm->child);
	if (shm) {
		t->seen = *shm;
		t->loaded = t->seen.attached > 0;
		munmap(shm, sizeof(*shm));
	}
	return TRUE;
}

/* The ptrace refusal UML trips over, when the preload saw it. */
static bool size_refused(const struct trial *t)
{
	return t->loaded && t->seen.failed && t->seen.last_errno == EFAULT &&
	       t->seen.host_len && t->seen.uml_len < t->seen.host_len;
}

static char *cache_path(const struct vtb_env *env, const struct vtb_uml_env *u,
			const char *initrd)
{
	g_autofree char *boot_id = NULL;
	g_autofree char *dir =
		g_build_filename(env->cache_dir, "uml-test", NULL);
	g_autofree char *key = NULL;
	GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA256);
	const char *files[] = {u->kernel.path, u->xstate_lib, initrd};

	g_file_get_contents("/proc/sys/kernel/random/boot_id", &boot_id, NULL,
			    NULL);
	/* A reboot (another host kernel), another UML kernel, a rebuilt
	 * fix or appliance, another mode or emulation: test again. */
	g_checksum_update(ck, (const guchar *)(boot_id ? boot_id : "?"), -1);
	g_checksum_update(ck, (const guchar *)u->xstate_mode, -1);
	g_checksum_update(ck, (const guchar *)(emulated() ? emulated() : "-"),
			  -1);
	if (u->kernel.build_id)
		g_checksum_update(ck, (const guchar *)u->kernel.build_id, -1);
	for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
		struct stat st = {0};

		if (!files[i])
			continue;
		stat(files[i], &st);
		g_checksum_update(ck, (const guchar *)files[i], -1);
		g_checksum_update(ck, (const guchar *)&st.st_size,
				  sizeof(st.st_size));
		g_checksum_update(ck, (const guchar *)&st.st_mtime,
				  sizeof(st.st_mtime));
	}
	key = g_strndup(g_checksum_get_string(ck), 32);
	g_checksum_free(ck);
	g_mkdir_with_parents(dir, 0700);
	return g_build_filename(dir, key, NULL);
}

/* "1 UML HOST\nwhy": only a UML that ran is cached; a failure is tested
 * again next time (it costs a fast death, and may have been transient). */
static bool cache_read(struct vtb_uml_env *u, const char *path)
{
	g_autofree char *text = NULL;
	guint64 uml, host;
	int fix, n = 0;

	if (!g_file_get_contents(path, &text, NULL, NULL) ||
	    sscanf(text, "%d %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT "\n%n",
		   &fix, &uml, &host, &n) != 3 ||
	    n == 0 || !text[n])
		return false;
	u->xstate_fix = fix == 1;
	u->xstate_uml = uml;
	u->xstate_host = host;
	g_strchomp(text + n);
	u->xstate_why = g_strdup_printf("%s (cached for this boot)", text + n);
	return true;
}

static void cache_write(const struct vtb_uml_env *u, const char *path,
			const char *why)
{
	g_autofree char *rec = g_strdup_printf(
		"%d %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT "\n%s\n",
		u->xstate_fix ? 1 : 0, u->xstate_uml, u->xstate_host, why);

	g_file_set_contents(path, rec, -1, NULL);
}

static void take_sizes(struct vtb_uml_env *u, const struct trial *t)
{
	if (!t->loaded)
		return;
	if (t->seen.uml_len)
		u->xstate_uml = t->seen.uml_len;
	if (t->seen.host_len)
		u->xstate_host = t->seen.host_len;
}

/* "UML passes 2696 bytes of FPU state, the host's ptrace takes 2440". */
static char *sizes_text(const struct vtb_uml_env *u)
{
	if (!u->xstate_uml || !u->xstate_host)
		return g_strdup("sizes not seen");
	return g_strdup_printf("this UML kernel passes %" G_GUINT64_FORMAT
			       " bytes of FPU state to ptrace, the host's "
			       "NT_X86_XSTATE is %" G_GUINT64_FORMAT " bytes",
			       u->xstate_uml, u->xstate_host);
}

static gboolean unusable(struct vtb_uml_env *u, const struct trial *plain,
			 const struct trial *fixed, GError **err)
{
	g_autofree char *sizes = sizes_text(u);
	g_autoptr(GString) s = g_string_new("UML does not boot here: ");

	g_string_append(s, plain->error);
	if (size_refused(plain))
		g_string_append_printf(s,
				       " [ptrace refused UML's FPU state "
				       "(SETREGSET NT_X86_XSTATE: %s): %s]",
				       g_strerror((int)plain->seen.last_errno),
				       sizes);
	if (fixed)
		g_string_append_printf(s, "; with vtbench's xstate fix: %s",
				       fixed->error);
	else if (size_refused(plain))
		g_string_append(s, "; --uml-xstate auto or on applies "
				   "vtbench's fix");
	g_set_error(err, VTB_ERROR, VTB_ERR_UNAVAILABLE, "%s", s->str);
	return FALSE;
}

gboolean vtb_uml_xstate_test(const struct vtb_backend_ops *be,
			     struct vtb_env *env, const char *initrd,
			     GError **err)
{
	struct vtb_uml_env *u = vtb_env_priv(env, be);
	const char *mode = u->xstate_mode;
	g_autofree char *path = NULL, *sizes = NULL, *why = NULL;
	struct trial plain = {0}, fixed = {0};
	gboolean ok;

	if (!vtb_uml_xstate_find(u, err))
		return FALSE;
	path = cache_path(env, u, initrd);
	if (cache_read(u, path))
		return TRUE;

	/* "on" boots with the fix only; "off" and "auto" first without it
	 * (through the pass-through when the sizes can be seen). */
	if (g_str_equal(mode, "on")) {
		if (!trial_boot(be, env, initrd, "fix", &fixed, err))
			return FALSE;
		take_sizes(u, &fixed);
		if (!fixed.booted) {
			ok = unusable(u, &fixed, NULL, err);
			goto out;
		}
		u->xstate_fix = true;
		sizes = sizes_text(u);
		why = g_strdup_printf("applied (--uml-xstate on): %s", sizes);
		goto good;
	}
	if (!trial_boot(be, env, initrd, "observe", &plain, err))
		return FALSE;
	take_sizes(u, &plain);
	if (plain.booted) {
		sizes = sizes_text(u);
		why = g_strdup_printf(
			"not needed: UML booted without it (%s%s)", sizes,
			u->xstate_uml >= u->xstate_host
				? "; a longer buffer is clamped by the host"
				: "");
		goto good;
	}
	if (g_str_equal(mode, "off") || !size_refused(&plain)) {
		ok = unusable(u, &plain, NULL, err);
		goto out;
	}
	if (!trial_boot(be, env, initrd, "fix", &fixed, err)) {
		ok = FALSE;
		goto out;
	}
	if (!fixed.booted) {
		ok = unusable(u, &plain, &fixed, err);
		goto out;
	}
	u->xstate_fix = true;
	sizes = sizes_text(u);
	why = g_strdup_printf("applied: UML died without it (ptrace "
			      "SETREGSET NT_X86_XSTATE: %s) and booted with "
			      "it; %s",
			      g_strerror((int)plain.seen.last_errno), sizes);
good:
	u->xstate_why = g_strdup(why);
	cache_write(u, path, why);
	ok = TRUE;
out:
	trial_clear(&plain);
	trial_clear(&fixed);
	return ok;
}
