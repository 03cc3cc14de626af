/*
 * For tests/integration/boot_uml.sh: the UML buffer length to emulate so
 * that this host refuses UML's FPU state as an AMX host does, leaving out
 * only state no UML guest uses: the host's last component when it is PKRU
 * (UML has no protection keys) or AMX's tiles.  Prints the offset of that
 * component, or nothing (exit 1) when the last one is state guests use.
 */
#include <stdio.h>

#include "uml/xstate.h"

int main(void)
{
	struct vtb_xstate_layout l;
	int last = -1;

	if (vtb_xstate_layout_host(&l) != 0)
		return 1;
	for (int i = 2; i < 64; i++)
		if ((l.features & (1ULL << i)) && l.comp[i].size &&
		    (last < 0 || l.comp[i].off > l.comp[last].off))
			last = i;
	/* 9: PKRU; 17, 18: AMX TILECFG, TILEDATA. */
	if (last == 9 || last == 17 || last == 18) {
		unsigned off = l.comp[last].off;

		/* TILEDATA's TILECFG comes first: leave both out. */
		if (last == 18 && (l.features & (1ULL << 17)))
			off = l.comp[17].off;
		printf("%u\n", off);
		return 0;
	}
	return 1;
}
