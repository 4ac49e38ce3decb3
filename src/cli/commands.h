/* commands.h: the command line: parsing into a config, help text, and the commands. */
#ifndef RMG_CLI_H
#define RMG_CLI_H

#include "cli/config.h"

enum rmg_command { RMG_CMD_SCAN, RMG_CMD_CONTEXT, RMG_CMD_BASELINE, RMG_CMD_RULES_LIST, RMG_CMD_RULES_CHECK, RMG_CMD_HELP,
                   RMG_CMD_VERSION };

/* Exit codes: the contract in docs/output.md. */
#define RMG_EXIT_CLEAN 0
#define RMG_EXIT_FINDINGS 1
#define RMG_EXIT_ERROR 2

/* Parses argv into cmd and c (c borrows argv strings for targets). On a usage error prints
 * it to stderr and returns false. */
bool rmg_cli_parse(int argc, char **argv, enum rmg_command *cmd, struct rmg_config *c);
void rmg_cli_help(FILE *out);

/* The commands; each returns the process exit code. */
int rmg_cli_scan(const struct rmg_config *c);
int rmg_cli_context(const struct rmg_config *c);
int rmg_cli_baseline(const struct rmg_config *c);
int rmg_cli_rules_list(const struct rmg_config *c);
int rmg_cli_rules_check(const struct rmg_config *c);
int rmg_cli_version(const struct rmg_config *c);

#endif
