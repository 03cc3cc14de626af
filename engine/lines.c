/* The guest's report in lines: received, then checked line by line. */
#include "engine/lines.h"

#include <stdarg.h>
#include <string.h>

#include "core/channel.h"

gboolean vtb_lines_receive(struct vtb_xfer *x, const char *who, guint max,
			   gint64 wait_us, GString *out, guint *lines,
			   GError **err)
{
	struct vtb_msg m;

	g_string_truncate(out, 0);
	*lines = 0;
	for (;;) {
		if (!vtb_chan_expect(x->vm, VTB_MSG_DATA, &m,
				     g_get_monotonic_time() + wait_us, err)) {
			g_prefix_error(err, "%s: waiting for line %u: ", who,
				       *lines + 1);
			return FALSE;
		}
		if (!m.u.data.len)
			break;
		if (*lines == max) {
			g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
				    "%s: the guest sent more than the %u "
				    "lines asked for",
				    who, max);
			return FALSE;
		}
		(*lines)++;
		x->t_end_us = g_get_monotonic_time();
		g_string_append_len(out, (const char *)m.u.data.bytes,
				    m.u.data.len);
	}
	if (!x->t_end_us)
		x->t_end_us = g_get_monotonic_time();
	return TRUE;
}

gboolean vtb_lines_result(const char *who, const struct vtb_result *r,
			  const GString *out, GError **err)
{
	if (r->err) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "guest: %s",
			    r->detail[0] ? r->detail : g_strerror(r->err));
		return FALSE;
	}
	if (r->bytes != out->len) {
		g_set_error(err, VTB_ERROR, VTB_ERR_RUN,
			    "%s: %" G_GSIZE_FORMAT
			    " of the guest's %" G_GUINT64_FORMAT
			    " bytes of lines arrived",
			    who, out->len, r->bytes);
		return FALSE;
	}
	return TRUE;
}

gboolean vtb_lines_fail(const struct vtb_lines *l, GError **err,
			const char *fmt, ...)
{
	g_autofree char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error(err, VTB_ERROR, VTB_ERR_RUN, "%s: the guest's %s", l->who,
		    msg);
	return FALSE;
}

gboolean vtb_lines_begin(struct vtb_lines *l, const char *who, const char *text,
			 gsize len, GError **err)
{
	l->who = who;
	l->p = text;
	l->end = text + len;
	l->n = 0;
	if (memchr(text, '\0', len))
		return vtb_lines_fail(l, err, "lines hold a NUL byte");
	return TRUE;
}

/* A decimal u64 of @s, nothing else; FALSE for garbage and overflow. */
static gboolean decimal(const char *s, guint64 *v)
{
	return *s >= '0' && *s <= '9' &&
	       g_ascii_string_to_unsigned(s, 10, 0, G_MAXUINT64, v, NULL);
}

gboolean vtb_lines_next(struct vtb_lines *l, const char *name,
			const char *shape, guint64 *count, guint64 *ns,
			GError **err)
{
	const char *nl = memchr(l->p, '\n', (size_t)(l->end - l->p));
	g_autofree char *line = NULL, *shown = NULL;
	g_auto(GStrv) f = NULL;

	if (!nl)
		return vtb_lines_fail(
			l, err, "line for %s is missing%s", name,
			l->p < l->end ? " (a line without its end)" : "");
	line = g_strndup(l->p, (gsize)(nl - l->p));
	l->p = nl + 1;
	l->n++;
	f = g_strsplit(line, " ", 0);
	/* Quoted escaped: the message goes into JSON as UTF-8. */
	if (g_strv_length(f) != 3) {
		shown = g_strescape(line, NULL);
		return vtb_lines_fail(l, err, "line %u is not '%s': '%.60s'",
				      l->n, shape, shown);
	}
	if (!g_str_equal(f[0], name)) {
		shown = g_strescape(f[0], NULL);
		return vtb_lines_fail(l, err,
				      "line %u is %.40s where %s was asked",
				      l->n, shown, name);
	}
	if (!decimal(f[1], count) || !decimal(f[2], ns)) {
		g_autofree char *c = g_strescape(f[1], NULL);

		shown = g_strescape(f[2], NULL);
		return vtb_lines_fail(
			l, err,
			"%s: count '%.30s' or nanoseconds '%.30s' "
			"is no decimal of 64 bits",
			name, c, shown);
	}
	return TRUE;
}

gboolean vtb_lines_end(struct vtb_lines *l, const char *last, GError **err)
{
	g_autofree char *shown = NULL;

	if (l->p == l->end)
		return TRUE;
	shown = g_strescape(l->p, NULL);
	return vtb_lines_fail(l, err, "lines go on after %s: '%.40s'", last,
			      shown);
}
