/* What the host is: kernel, CPU, memory, hypervisor and nesting. */
#include "core/hostinfo.h"

#include <cpuid.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static char *read_line(const char *path)
{
	char *s = NULL;

	if (!g_file_get_contents(path, &s, NULL, NULL))
		return NULL;
	g_strstrip(s);
	if (!*s) {
		g_free(s);
		return NULL;
	}
	return s;
}

static char *cpuinfo_field(const char *data, const char *key)
{
	g_auto(GStrv) lines = g_strsplit(data, "\n", -1);

	for (char **l = lines; *l; l++) {
		char *colon = strchr(*l, ':');

		if (colon && g_str_has_prefix(*l, key) &&
		    g_ascii_isspace((*l)[strlen(key)]))
			return g_strstrip(g_strdup(colon + 1));
	}
	return NULL;
}

void vtb_hostinfo_get(struct vtb_hostinfo *h)
{
	struct utsname u;
	g_autofree char *cpuinfo = NULL, *meminfo = NULL;
	g_autofree char *vendor = NULL, *product = NULL;
	unsigned a, b, c, d;
	static const char *const flavours[] = {"kvm_intel", "kvm_amd",
					       "kvm_pvm", NULL};

	memset(h, 0, sizeof(*h));
	if (uname(&u) == 0) {
		h->kernel = g_strdup_printf("%s %s %s", u.sysname, u.release,
					    u.version);
		h->machine = g_strdup(u.machine);
	}
	if (g_file_get_contents("/proc/cpuinfo", &cpuinfo, NULL, NULL))
		h->cpu_model = cpuinfo_field(cpuinfo, "model name");
	h->cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (g_file_get_contents("/proc/meminfo", &meminfo, NULL, NULL)) {
		const char *p = strstr(meminfo, "MemTotal:");

		if (p)
			h->mem_bytes = g_ascii_strtoull(p + 9, NULL, 10) * 1024;
	}
	if (__get_cpuid(1, &a, &b, &c, &d))
		h->hypervisor_bit = (c >> 31) & 1;
	if (h->hypervisor_bit) {
		char sig[13] = {0};

		__cpuid(0x40000000, a, b, c, d);
		memcpy(sig, &b, 4);
		memcpy(sig + 4, &c, 4);
		memcpy(sig + 8, &d, 4);
		h->hypervisor_vendor = g_strstrip(g_strdup(sig));
	}
	vendor = read_line("/sys/class/dmi/id/sys_vendor");
	product = read_line("/sys/class/dmi/id/product_name");
	if (vendor || product)
		h->dmi = g_strdup_printf("%s %s", vendor ? vendor : "",
					 product ? product : "");
	h->kvm_module = g_file_test("/sys/module/kvm", G_FILE_TEST_IS_DIR);
	for (int i = 0; flavours[i]; i++) {
		g_autofree char *m =
			g_build_filename("/sys/module", flavours[i], NULL);
		g_autofree char *n =
			g_build_filename(m, "parameters", "nested", NULL);

		if (!g_file_test(m, G_FILE_TEST_IS_DIR))
			continue;
		h->kvm_flavour = g_strdup(flavours[i]);
		h->nested = read_line(n);
		break;
	}
	h->dev_kvm = access("/dev/kvm", F_OK) == 0;
	h->boot_id = read_line("/proc/sys/kernel/random/boot_id");
	h->sys_hypervisor = read_line("/sys/hypervisor/type");
	if (getloadavg(h->loadavg, 3) != 3)
		memset(h->loadavg, 0, sizeof(h->loadavg));
}

void vtb_hostinfo_clear(struct vtb_hostinfo *h)
{
	g_free(h->kernel);
	g_free(h->machine);
	g_free(h->cpu_model);
	g_free(h->hypervisor_vendor);
	g_free(h->dmi);
	g_free(h->kvm_flavour);
	g_free(h->nested);
	g_free(h->boot_id);
	g_free(h->sys_hypervisor);
	memset(h, 0, sizeof(*h));
}

char *vtb_hostinfo_nesting(const struct vtb_hostinfo *h)
{
	GString *s = g_string_new(NULL);

	if (h->hypervisor_bit)
		g_string_append_printf(s, "a guest of %s",
				       h->hypervisor_vendor &&
						       *h->hypervisor_vendor
					       ? h->hypervisor_vendor
					       : "a hypervisor");
	else
		g_string_append(s, "bare metal (no CPUID hypervisor bit)");
	if (h->dmi)
		g_string_append_printf(s, ", DMI %s", h->dmi);
	if (h->sys_hypervisor)
		g_string_append_printf(s, ", /sys/hypervisor %s",
				       h->sys_hypervisor);
	if (h->kvm_flavour)
		g_string_append_printf(s, "; KVM here: %s%s%s", h->kvm_flavour,
				       h->nested ? ", nested=" : "",
				       h->nested ? h->nested : "");
	else if (h->kvm_module)
		g_string_append(s, "; KVM here: kvm");
	else
		g_string_append(s, "; no KVM module loaded");
	return g_string_free(s, FALSE);
}
