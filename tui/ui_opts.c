/* The terminal UI's options, parsed the same way for run and replay. */
#include "ui.h"

#include <stdlib.h>

struct ui_opts ui_opts_default(void)
{
    const char *nc = getenv("NO_COLOR");
    return (struct ui_opts){.color = !(nc && *nc), .fps = 30};
}

int ui_opt(int c, const char *arg, struct ui_opts *o)
{
    unsigned long v;
    switch (c) {
    case UI_OPT_FPS:
        if (!tui_parse_ulong(arg, 1, 240, &v))
            return tui_fail(TUI_EXIT_USAGE, "--fps must be a whole number from 1 to 240, not '%s'",
                            arg);
        o->fps = (unsigned)v;
        return 0;
    case UI_OPT_NOCOLOR:
        o->color = false;
        return 0;
    case UI_OPT_ASCII:
        o->ascii = true;
        return 0;
    case UI_OPT_SCRIPT:
        o->script = arg;
        return 0;
    case UI_OPT_SIZE:
        if (!tui_parse_size(arg, 10, 1000, &o->vw, &o->vh))
            return tui_fail(TUI_EXIT_USAGE,
                            "--size needs WxH, each from 10 to 1000 (e.g. 120x40), not '%s'", arg);
        return 0;
    default:
        return -1;
    }
}

int ui_opt_or_bad(int c, const char *arg, char **argv, const char *shorts, const char *cmd,
                  struct ui_opts *o)
{
    int r = ui_opt(c, arg, o);
    return r < 0 ? tui_bad_option(argv, shorts, cmd) : r;
}

int ui_opts_check(const struct ui_opts *o, bool headless, bool json)
{
    if (o->vw && !o->script)
        return tui_fail(TUI_EXIT_USAGE, "--size is for --script (a virtual screen to script)");
    if (o->script && (headless || json))
        return tui_fail(TUI_EXIT_USAGE, "--script drives the terminal UI; it does not go with %s",
                        json ? "--json" : "--headless");
    return 0;
}
