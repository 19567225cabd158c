/* `kvmtrace record -- PROGRAM`: what PROGRAM is, checked before it runs.
 * The shim reaches a program through the dynamic loader's LD_PRELOAD, so
 * PROGRAM must be a dynamically linked x86-64 ELF (it has PT_INTERP), or
 * a script whose interpreter is one. */
#ifndef KVMTRACE_CLI_PROGRAM_H
#define KVMTRACE_CLI_PROGRAM_H

#include <stdbool.h>
#include <stddef.h>

/* name as execvp(3) finds it (through $PATH unless it has a '/').  0 and
 * the path, or a status (KT_BAD_INPUT: not found, not executable) with
 * the message in kt_last_error(). */
int cli_find_program(const char *name, char *path, size_t size);

/* 0 when the shim can be preloaded into path, with *links_asan telling
 * whether the program (or its script's interpreter) links the ASan
 * runtime itself; else KT_NOT_RECORDABLE (static, not an x86-64 ELF) or
 * KT_BAD_INPUT (unreadable), with the one-line reason in kt_last_error(). */
int cli_check_program(const char *path, bool *links_asan);

#endif
