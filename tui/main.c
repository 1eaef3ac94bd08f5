/* concviz: the command line read (cmdline.c), then the command run. */
#include "cmdline.h"

int main(int argc, char **argv)
{
    tui_process_init();
    struct tui_cmdline cl;
    int rc = tui_cmdline_parse(argc, argv, &cl);
    if (rc == TUI_PARSED)
        rc = tui_cmdline_exec(&cl);
    tui_cmdline_free(&cl);
    return tui_stdout_close(rc); /* --help and errors too: output nobody got is a failure */
}
