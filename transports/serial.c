/* Transport `serial`: QEMU's second 8250 UART, or a UML serial line. */
#include "core/registry.h"

bool vtb_line_goes_deaf(const char *backend,
			const struct vtb_transport_ops *t)
{
	return t == &vtb_transport_serial && g_str_equal(backend, "uml");
}

static const char *serial_unsupported(const char *backend)
{
	return NULL;
}

static const char *const *serial_modules(const char *backend)
{
	static const char *const none[] = { NULL };

	return none;
}

static void serial_describe(const struct vtb_cell *c, struct vtb_device *dev)
{
	dev->kind = VTB_DEV_SERIAL;
	dev->name = g_strdup("data");
}

/*
 * About 10 s per run at the rates measured here (QEMU's 8250 under TCG
 * ~0.16 MB/s, UML's line ~1.9 MB/s): the start from which the warm-up
 * measures this host's rate (rate_sized); --size overrides.
 */
static guint64 serial_default_size(const struct vtb_cell *c)
{
	if (g_str_equal(c->backend->name, "uml"))
		return 16ULL << 20;
	return g_str_equal(c->accel, "kvm") ? 8ULL << 20 : 1ULL << 20;
}

const struct vtb_transport_ops vtb_transport_serial = {
	.name = "serial",
	.kind = VTB_KIND_STREAM,
	.help = "an emulated serial line (QEMU 8250 / UML serial line)",
	.unsupported = serial_unsupported,
	.modules = serial_modules,
	.describe = serial_describe,
	.default_size = serial_default_size,
	.run_flags = VTB_RUN_F_RAW_TTY,
	.rate_sized = true,
};
