/* ulib.c: strings, memory and printf-lite for berth's C programs. */

#include "ulib.h"

size_t strlen(const char *s) {
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strcmp(const char *a, const char *b) {
    while (*a && *a == *b)
        a++, b++;
    return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n) {
    for (; n > 0; n--, a++, b++) {
        if (*a != *b || !*a)
            return (unsigned char)*a - (unsigned char)*b;
    }
    return 0;
}

char *strcpy(char *dst, const char *src) {
    char *d = dst;
    while ((*d++ = *src++))
        ;
    return dst;
}

/* The compiler may turn loops into calls to these four, so they must not
 * be written as such loops themselves: volatile byte pointers prevent it. */
void *memset(void *dst, int c, size_t n) {
    volatile unsigned char *d = dst;
    while (n--)
        *d++ = (unsigned char)c;
    return dst;
}

void *memcpy(void *dst, const void *src, size_t n) {
    volatile unsigned char *d = dst;
    const volatile unsigned char *s = src;
    while (n--)
        *d++ = *s++;
    return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
    volatile unsigned char *d = dst;
    const volatile unsigned char *s = src;
    if (d < s || d >= s + n) {
        while (n--)
            *d++ = *s++;
    } else {
        while (n--)
            d[n] = s[n];
    }
    return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    for (; n > 0; n--, x++, y++) {
        if (*x != *y)
            return *x - *y;
    }
    return 0;
}

/* Output of the formatter: a buffer, flushed to fd when full (fd < 0:
 * never flushed, the rest is counted but dropped). */
struct out {
    int fd;
    char *buf;
    size_t size, len, total;
};

static void flush(struct out *o) {
    size_t done = 0;
    while (o->fd >= 0 && done < o->len) {
        long n = write(o->fd, o->buf + done, o->len - done);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    o->len = 0;
}

static void put(struct out *o, char c) {
    o->total++;
    if (o->len == o->size) {
        if (o->fd < 0)
            return;
        flush(o);
    }
    o->buf[o->len++] = c;
}

static void put_str(struct out *o, const char *s) {
    if (!s)
        s = "(null)";
    while (*s)
        put(o, *s++);
}

static void put_unsigned(struct out *o, unsigned long v, unsigned base) {
    char digits[24];
    int n = 0;
    do {
        digits[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    while (n > 0)
        put(o, digits[--n]);
}

static void format(struct out *o, const char *fmt, va_list ap) {
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(o, *fmt);
            continue;
        }
        int is_long = 0;
        if (*++fmt == 'l') {
            is_long = 1;
            fmt++;
        }
        switch (*fmt) {
        case 'd':
        case 'i': {
            long v = is_long ? va_arg(ap, long) : va_arg(ap, int);
            if (v < 0) {
                put(o, '-');
                put_unsigned(o, -(unsigned long)v, 10);
            } else {
                put_unsigned(o, (unsigned long)v, 10);
            }
            break;
        }
        case 'u':
            put_unsigned(o, is_long ? va_arg(ap, unsigned long) : va_arg(ap, unsigned), 10);
            break;
        case 'x':
            put_unsigned(o, is_long ? va_arg(ap, unsigned long) : va_arg(ap, unsigned), 16);
            break;
        case 'p':
            put_str(o, "0x");
            put_unsigned(o, (unsigned long)va_arg(ap, void *), 16);
            break;
        case 's':
            put_str(o, va_arg(ap, const char *));
            break;
        case 'c':
            put(o, (char)va_arg(ap, int));
            break;
        case '%':
            put(o, '%');
            break;
        case '\0':
            put(o, '%');
            return;
        default:
            put(o, '%');
            put(o, *fmt);
            break;
        }
    }
}

int vfprintf(int fd, const char *fmt, va_list ap) {
    char buf[512];
    struct out o = {fd, buf, sizeof buf, 0, 0};
    format(&o, fmt, ap);
    flush(&o);
    return (int)o.total;
}

int fprintf(int fd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vfprintf(fd, fmt, ap);
    va_end(ap);
    return n;
}

int printf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vfprintf(1, fmt, ap);
    va_end(ap);
    return n;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap) {
    struct out o = {-1, buf, size ? size - 1 : 0, 0, 0};
    format(&o, fmt, ap);
    if (size)
        buf[o.len] = '\0';
    return (int)o.total;
}

int snprintf(char *buf, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
