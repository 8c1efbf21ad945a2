/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The string and memory functions, served by klpsim's kernel (gcc also emits calls to memcpy and memset
 * by itself, for structure copies and initialisers, even with -ffreestanding).
 */
#ifndef _LINUX_STRING_H
#define _LINUX_STRING_H

#include <linux/compiler.h>
#include <linux/types.h>

void *memcpy(void *dest, const void *src, size_t count);
void *memmove(void *dest, const void *src, size_t count);
void *memset(void *s, int c, size_t count);
int memcmp(const void *cs, const void *ct, size_t count);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t count);
int strcmp(const char *cs, const char *ct);
int strncmp(const char *cs, const char *ct, size_t count);
char *strcpy(char *dest, const char *src);
char *strchr(const char *s, int c);
/* Copies at most size - 1 bytes and always terminates; -E2BIG when src did not fit. */
ssize_t strscpy(char *dest, const char *src, size_t count);

#endif /* _LINUX_STRING_H */
