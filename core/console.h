/* What a guest's console says about why it failed (core/console.c). */
#ifndef VTB_CONSOLE_H
#define VTB_CONSOLE_H

#include <glib.h>
#include <stdbool.h>

/*
 * At most @max_lines lines of @text (a console log's tail) that explain a
 * failure, joined with " | ": a kernel panic and the line before it; else
 * the last lines naming a failure ("failed", "error", "unable to", ...,
 * less the few every healthy boot prints); else the last lines.  Call
 * traces, stack and register dumps and kernel timestamps are left out.
 * "" when nothing is left.  Newly allocated.
 */
char *vtb_console_explain(const char *text, int max_lines);

/* Whether @line is a call-trace frame, a stack or register dump, or
 * blank: never an explanation. */
bool vtb_console_is_noise(const char *line);

#endif
