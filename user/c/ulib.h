/* ulib.h: the small C library of berth's C programs (ulib.c), on top of
 * the generated system-call header. */
#ifndef BERTH_ULIB_H
#define BERTH_ULIB_H

#include <stdarg.h>
#include "user.h"

typedef unsigned long size_t;
#define NULL ((void *)0)

/* The stack pointer the kernel started the process with (start.S). */
extern unsigned long entry_rsp;

size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strcpy(char *dst, const char *src);
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);

/* printf-lite: %d %i %u %x %p %s %c %%, with an optional l (long) before
 * d, i, u or x. One write per call, so lines from different processes do
 * not interleave; output longer than 512 bytes takes several writes.
 * Return the number of bytes formatted. */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int fprintf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int vfprintf(int fd, const char *fmt, va_list ap);
/* Formats into buf (always NUL-terminated when size > 0); returns the
 * length the full output would have. */
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

#endif /* BERTH_ULIB_H */
