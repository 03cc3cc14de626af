/* 9P on UML: diod's argv, the fd transport's mount data, diod's version
 * (uml/ninep.h). */
#include "uml/ninep.h"

#include <string.h>

#include "core/proc.h"
#include "core/vtbench.h"

const char *const vtb_uml_9p_lines[] = {"virtio-serial", "serial", NULL};

char *vtb_diod_find(char **why)
{
	const char *env = g_getenv("VTBENCH_DIOD");
	char *p;

	if (env && *env) {
		p = vtb_find_program(env);
		if (!p)
			*why = g_strdup_printf("VTBENCH_DIOD=%s: no such "
					       "program",
					       env);
		return p;
	}
	if (g_file_test(VTB_DIOD, G_FILE_TEST_IS_EXECUTABLE))
		return g_strdup(VTB_DIOD);
	p = vtb_find_program("diod");
	if (!p)
		*why = g_strdup("no diod (" VTB_DIOD ", Debian's diod) to "
				"serve 9p");
	return p;
}

GStrv vtb_diod_argv(const char *diod, const char *dir, int fd)
{
	GStrvBuilder *b = g_strv_builder_new();
	g_autofree char *fds = g_strdup_printf("%d", fd);
	GStrv argv;

	g_strv_builder_add(b, diod);
	g_strv_builder_add_many(b, "--foreground", "--no-auth", "--no-userdb",
				"--config-file", "/dev/null", "--logdest",
				"stderr", "--rfdno", fds, "--wfdno", fds,
				"--export", dir, NULL);
	argv = g_strv_builder_end(b);
	g_strv_builder_unref(b);
	return argv;
}

char *vtb_uml_9p_opts(const char *opts, const char *dir, GError **err)
{
	g_auto(GStrv) parts = g_strsplit(opts ? opts : "", ",", -1);
	GString *s = g_string_new("trans=fd");

	if (strchr(dir, ',')) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "9p over a stream cannot take the directory %s: "
			    "its aname= would split at ','; set TMPDIR to a "
			    "path without one",
			    dir);
		g_string_free(s, TRUE);
		return NULL;
	}
	for (char **p = parts; *p; p++)
		if (**p && !g_str_has_prefix(*p, "trans=") &&
		    !g_str_has_prefix(*p, "aname=") &&
		    !g_str_has_prefix(*p, "uname="))
			g_string_append_printf(s, ",%s", *p);
	g_string_append_printf(s, ",uname=root,aname=%s", dir);
	return g_string_free(s, FALSE);
}

guint64 vtb_9p_opts_msize(const char *opts)
{
	g_auto(GStrv) parts = g_strsplit(opts ? opts : "", ",", -1);

	for (char **p = parts; *p; p++)
		if (g_str_has_prefix(*p, "msize="))
			return g_ascii_strtoull(*p + 6, NULL, 10);
	return 0;
}

char *vtb_diod_version(const char *diod)
{
	g_autofree char *data = NULL;
	g_autoptr(GRegex) re = NULL;
	g_autoptr(GMatchInfo) mi = NULL;
	gsize len = 0;

	if (!diod || !g_file_get_contents(diod, &data, &len, NULL))
		return NULL;
	re = g_regex_new("diod-([0-9]+\\.[0-9]+(\\.[0-9]+)?)", G_REGEX_RAW, 0,
			 NULL);
	if (!g_regex_match_full(re, data, (gssize)len, 0, 0, &mi, NULL))
		return NULL;
	return g_match_info_fetch(mi, 1);
}
