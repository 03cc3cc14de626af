/* Members of a JSON object under construction, NULL-safe: for the results
 * writer and for what backends record of themselves. */
#ifndef VTB_JSON_H
#define VTB_JSON_H

#include <json-glib/json-glib.h>

static inline void vtb_json_str(JsonBuilder *b, const char *k, const char *v)
{
	json_builder_set_member_name(b, k);
	if (v)
		json_builder_add_string_value(b, v);
	else
		json_builder_add_null_value(b);
}

static inline void vtb_json_int(JsonBuilder *b, const char *k, gint64 v)
{
	json_builder_set_member_name(b, k);
	json_builder_add_int_value(b, v);
}

static inline void vtb_json_bool(JsonBuilder *b, const char *k, gboolean v)
{
	json_builder_set_member_name(b, k);
	json_builder_add_boolean_value(b, v);
}

#endif
