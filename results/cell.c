/* A cell's identity as users read it: one label for run, compare, report. */
#include "results/cell.h"

#include <string.h>

#include "core/registry.h"

static bool shown(const char *v, const char *dflt)
{
	return v && strcmp(v, "-") != 0 && (!dflt || strcmp(v, dflt) != 0);
}

char *vtb_cell_key_where(const struct vtb_cell_key *k)
{
	GString *s = g_string_new(k->backend);

	/* Only a backend with an accelerator has drivers to tell apart. */
	if (shown(k->accel, NULL))
		g_string_append_printf(s, "/%s/%s", k->driver, k->accel);
	return g_string_free(s, FALSE);
}

char *vtb_cell_key_what(const struct vtb_cell_key *k)
{
	GString *s = g_string_new(NULL);

	if (shown(k->transport, NULL))
		g_string_append_printf(s, "%s ", k->transport);
	g_string_append(s, k->workload);
	if (k->msg_size)
		g_string_append_printf(s, " %" G_GINT64_FORMAT "B",
				       k->msg_size);
	if (shown(k->target, NULL))
		g_string_append_printf(s, " ->%s", k->target);
	if (shown(k->cache, NULL))
		g_string_append_printf(s, " cache=%s", k->cache);
	if (shown(k->variant, NULL))
		g_string_append_printf(s, " %s", k->variant);
	/* The defaults (raw-sparse, ext2, zero) are left out. */
	if (shown(k->image, vtb_images[0]))
		g_string_append_printf(s, " %s", k->image);
	if (shown(k->fs, vtb_fss[0]))
		g_string_append_printf(s, " %s", k->fs);
	if (shown(k->aio, NULL))
		g_string_append_printf(s, " aio=%s", k->aio);
	if (shown(k->payload, "zero"))
		g_string_append_printf(s, " %s", k->payload);
	return g_string_free(s, FALSE);
}

char *vtb_cell_key_label(const struct vtb_cell_key *k)
{
	g_autofree char *where = vtb_cell_key_where(k);
	g_autofree char *what = vtb_cell_key_what(k);

	return g_strdup_printf("%s %s", where, what);
}

void vtb_cell_key_of(const struct vtb_cell *c, struct vtb_cell_key *k)
{
	*k = (struct vtb_cell_key){
		.backend = c->backend->name,
		.driver = c->driver,
		.accel = c->accel,
		.transport = c->transport,
		.workload = c->workload->name,
		.msg_size = c->msg_size,
		.target = c->target,
		.cache = c->cache,
		.image = c->image,
		.fs = c->fs,
		.aio = c->aio,
		.variant = c->variant,
		.payload = c->payload,
	};
}

char *vtb_cell_label(const struct vtb_cell *c)
{
	struct vtb_cell_key k;

	vtb_cell_key_of(c, &k);
	return vtb_cell_key_label(&k);
}
