/* main.c: parse options, build the config, run the command, exit with its code. */
#include <locale.h>

#include "cli/commands.h"

int main(int argc, char **argv)
{
    /* Layer paths are UTF-8 (PAX headers, and what Docker and BuildKit write): libarchive
     * converts them to the locale's charset, and in the C locale every non-ASCII name is a
     * warning and a path provenance cannot match. Only the character type is set: messages,
     * numbers and sorting stay C. */
    if (!setlocale(LC_CTYPE, "C.UTF-8"))
        setlocale(LC_CTYPE, "C.utf8");
    struct rmg_config config;
    enum rmg_command cmd;
    rmg_config_init(&config);
    if (!rmg_cli_parse(argc, argv, &cmd, &config)) {
        rmg_config_free(&config);
        return RMG_EXIT_ERROR;
    }
    int code;
    switch (cmd) {
    case RMG_CMD_SCAN: code = rmg_cli_scan(&config); break;
    case RMG_CMD_CONTEXT: code = rmg_cli_context(&config); break;
    case RMG_CMD_BASELINE: code = rmg_cli_baseline(&config); break;
    case RMG_CMD_RULES_LIST: code = rmg_cli_rules_list(&config); break;
    case RMG_CMD_RULES_CHECK: code = rmg_cli_rules_check(&config); break;
    case RMG_CMD_VERSION: code = rmg_cli_version(&config); break;
    default: rmg_cli_help(stdout); code = RMG_EXIT_CLEAN; break;
    }
    rmg_config_free(&config);
    return code;
}
