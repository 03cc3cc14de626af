/* Members of a JSON object under construction, NULL-safe: for the results
 * writer and for what backends record of themselves. */
#ifndef VTB_JSON_H
#define VTB_JSON_H

#include <json-glib/json-glib.h>
#include <math.h>

#include "appliance/appliance.h"

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

static inline void vtb_json_num(JsonBuilder *b, const char *k, double v)
{
	json_builder_set_member_name(b, k);
	if (isfinite(v))
		json_builder_add_double_value(b, v);
	else
		json_builder_add_null_value(b); /* JSON has no NaN */
}

static inline void vtb_json_bool(JsonBuilder *b, const char *k, gboolean v)
{
	json_builder_set_member_name(b, k);
	json_builder_add_boolean_value(b, v);
}

/* A kernel as the results describe it, or null when none was found. */
static inline void vtb_json_kernel(JsonBuilder *b, const char *k,
				   const struct vtb_kernel_info *ki)
{
	json_builder_set_member_name(b, k);
	if (!ki->path) {
		json_builder_add_null_value(b);
		return;
	}
	json_builder_begin_object(b);
	vtb_json_str(b, "path", ki->path);
	vtb_json_str(b, "kind", vtb_kernel_kind_name(ki->kind));
	vtb_json_str(b, "release", ki->release);
	vtb_json_str(b, "banner", ki->banner);
	vtb_json_str(b, "build_id", ki->build_id);
	if (ki->build_dir)
		vtb_json_str(b, "build_dir", ki->build_dir);
	if (ki->source_dir)
		vtb_json_str(b, "source_dir", ki->source_dir);
	if (ki->has_git) {
		vtb_json_str(b, "git_head", ki->git_head);
		json_builder_set_member_name(b, "git_dirty");
		json_builder_add_boolean_value(b, ki->git_dirty);
	}
	json_builder_end_object(b);
}

#endif
