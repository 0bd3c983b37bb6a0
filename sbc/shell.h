/*
 * sbcctl's interactive shell: an IOS-like prompt (`hostname#`) on a
 * terminal, with Tab completion, `?` help, abbreviations and history,
 * all from the command table (cmdtab.h). A small line editor of its own
 * (raw termios), so sbcctl needs no readline library.
 */
#ifndef SBC_SHELL_H
#define SBC_SHELL_H

#include <stdbool.h>
#include <stdio.h>

/* Send one request on the control connection and print its reply to out
 * (NULL: stdout, or stderr for a failure). The reply's status, or -1 when
 * no complete reply came. (sbcctl.c) */
int sbcctl_request(int fd, const char *line, FILE *out);

/* Whether line is `exit`, `quit` or `end` (abbreviations too): the
 * shell and the stdin mode leave on it. (shell.c) */
bool sbcctl_is_exit(const char *line);

/* Run the shell on the terminal of stdin/stdout until `exit`, Ctrl-D on
 * an empty line or end of input. 0, or -1 when sbcd went away. */
int sbcctl_shell(int fd);

#endif
