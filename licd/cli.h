/*
 * lsrv cli: licd's command line (the man pages in docs/man, docs/licd.md
 * "Commands"): one table of commands that serves parsing, dispatch and
 * --help.
 *
 * Exit status: LSRV_EXIT_OK, LSRV_EXIT_FAIL (operational error, one line
 * on stderr), LSRV_EXIT_USAGE (bad command line, usage on stderr).
 */
#ifndef SBC_LICD_CLI_H
#define SBC_LICD_CLI_H

#define LSRV_EXIT_OK 0
#define LSRV_EXIT_FAIL 1
#define LSRV_EXIT_USAGE 2

/* Run one licd command line; returns the exit status. */
int lsrv_cli_main(int argc, char **argv);

#endif
