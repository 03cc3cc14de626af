/* Transport `serial`: QEMU's second 8250 UART, or a UML serial line. */
#include "core/registry.h"

static const char *const no_modules[] = {NULL};

static void serial_describe(const struct vtb_cell *c, struct vtb_device *dev)
{
	dev->name = g_strdup("data");
}

const struct vtb_transport_ops vtb_transport_serial = {
	.name = "serial",
	.kind = VTB_KIND_STREAM,
	.help = "an emulated serial line (QEMU 8250 / UML serial line)",
	.device = VTB_DEV_SERIAL,
	.guest_modules = no_modules,
	.describe = serial_describe,
	/* 0: the line's rate is the backend's, and so is the size. */
	.default_size = 0,
	.run_flags = VTB_RUN_F_RAW_TTY,
};
