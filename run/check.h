/* `vtbench check`: the kernel developer's regression gate for git bisect. */
#ifndef VTB_CHECK_H
#define VTB_CHECK_H

/* Exit codes as `git bisect run` reads them. */
#define VTB_CHECK_SAME 0
#define VTB_CHECK_REGRESSION 1
#define VTB_CHECK_SKIP 125  /* not a usable kernel, or it did not boot */
#define VTB_CHECK_USAGE 128 /* 1..127 would blame the commit: stop */

/* `vtbench check BASE.json [--threshold PCT] [--alpha P] [run options]` */
int vtb_cmd_check(int argc, char **argv);

#endif
