/* The commands that read results files. */
#ifndef VTB_COMMANDS_H
#define VTB_COMMANDS_H

/* `vtbench compare BASE.json NEW.json [--threshold PCT] [--alpha P]` */
int vtb_cmd_compare(int argc, char **argv);
/* `vtbench report FILE.json... -o report.html` */
int vtb_cmd_report(int argc, char **argv);

#endif
