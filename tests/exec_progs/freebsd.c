/* A freestanding FreeBSD program (EI_OSABI is set to 9 after linking): native FreeBSD 7 system
   calls by number -- write, mmap, fork, wait4, exit -- with the carry flag reporting errors. */
typedef unsigned long u64;
static long fbsd(long n, long a, long b, long c, long d, long e, long f, int *err) {
    long r; char cf;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall; setc %1" : "=a"(r), "=r"(cf) : "a"(n), "D"(a), "S"(b), "d"(c),
                     "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
    *err = cf;
    return r;
}
static long slen(const char *s) { long n = 0; while (s[n]) n++; return n; }
static void say(const char *s) { int e; fbsd(4, 1, (long)s, slen(s), 0, 0, 0, &e); }
void _start(void) {
    int e;
    say("hello from FreeBSD\n");
    char *m = (char *)fbsd(477, 0, 8192, 3, 0x1002 /* MAP_PRIVATE|MAP_ANON */, -1, 0, &e);
    if (e) { say("mmap failed\n"); fbsd(1, 90, 0, 0, 0, 0, 0, &e); }
    m[4096] = 'x';
    long r = fbsd(4, 1, 0, 5, 0, 0, 0, &e);   /* write from NULL: EFAULT with the carry flag */
    say(e && r == 14 ? "EFAULT ok\n" : "EFAULT missing\n");
    long pid = fbsd(2, 0, 0, 0, 0, 0, 0, &e);
    if (pid == 0) fbsd(1, 7, 0, 0, 0, 0, 0, &e);
    int status = 0;
    fbsd(7, pid, (long)&status, 0, 0, 0, 0, &e);
    say(((status >> 8) & 0xff) == 7 ? "child 7\n" : "child ?\n");
    fbsd(1, m[4096] == 'x' ? 0 : 1, 0, 0, 0, 0, 0, &e);
    for (;;) ;
}
