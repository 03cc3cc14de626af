/* `vtbench kernel`: what a kernel needs for vtbench. */
#ifndef VTB_KERNEL_CMD_H
#define VTB_KERNEL_CMD_H

/* `vtbench kernel config --arch um|x86_64 [--check FILE]` */
int vtb_cmd_kernel(int argc, char **argv);

#endif
