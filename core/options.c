/* Values as users type them. */
#include "core/options.h"

#include <errno.h>

gboolean vtb_parse_size(const char *s, guint64 *out)
{
	char *end = NULL;
	guint64 v, mul = 1;

	if (!s || !g_ascii_isdigit(*s))
		return FALSE;
	errno = 0;
	v = g_ascii_strtoull(s, &end, 10);
	if (errno)
		return FALSE;
	switch (g_ascii_toupper(*end)) {
	case 0:
		break;
	case 'K':
		mul = 1ULL << 10;
		break;
	case 'M':
		mul = 1ULL << 20;
		break;
	case 'G':
		mul = 1ULL << 30;
		break;
	case 'T':
		mul = 1ULL << 40;
		break;
	default:
		return FALSE;
	}
	if (*end) {
		end++;
		if (g_ascii_toupper(*end) == 'I' && end[1] == 'B')
			end += 2;
		else if (g_ascii_toupper(*end) == 'B')
			end++;
		if (*end)
			return FALSE;
	}
	if (v > G_MAXUINT64 / mul)
		return FALSE;
	*out = v * mul;
	return TRUE;
}
