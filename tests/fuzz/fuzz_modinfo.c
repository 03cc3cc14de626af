/*
 * libFuzzer harness: a kernel module's .modinfo, as the appliance reads
 * every .ko of a modules tree it is pointed at (--uml-modules,
 * --kvm-modules): plain, or compressed as Debian ships them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "appliance/appliance.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* GLib 2.74's slice allocator hides a leaked GString from the
	 * leak checker; plain malloc does not. */
	setenv("G_SLICE", "always-malloc", 1);
	g_log_set_always_fatal(G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GError) e = NULL;
	g_autofree char *depends = NULL, *vermagic = NULL;
	/* Exactly the input's bytes, so ASan sees an overread. */
	void *copy = g_malloc(size ? size : 1);
	gboolean ok;

	memcpy(copy, data, size);
	ok = vtb_modinfo_parse("fuzz.ko", copy, size, &depends, &vermagic, &e);
	g_free(copy);
	if (ok == (e != NULL))
		abort();
	if (e && (e->domain != VTB_APPLIANCE_ERROR ||
		  !strstr(e->message, "fuzz.ko")))
		abort();
	return 0;
}
