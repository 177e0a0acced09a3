/* Freestanding benchmark guest (Linux syscalls only): argv[1] mode, argv[2] count.
   loop N   : N iterations of a 4-instruction loop (no memory access)
   touch N  : first touch of N fresh pages (one store each), then exit
   reread N : first touch of 16384 pages (64 MiB), then N passes reading one byte per page */
typedef unsigned long u64;
static long sys(long n, long a, long b, long c, long d, long e, long f) {
    long r; register long r10 __asm__("r10") = d; register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8),
                     "r"(r9) : "rcx", "r11", "memory");
    return r;
}
static long num(const char *s) { long n = 0; while (*s) n = n * 10 + (*s++ - '0'); return n; }
static int eq(const char *a, const char *b) { while (*a && *a == *b) a++, b++; return *a == *b; }
__attribute__((used)) void cmain(long *sp) {
    long argc = sp[0];
    char **argv = (char **)(sp + 1);
    if (argc < 3) sys(231, 2, 0, 0, 0, 0, 0);
    long n = num(argv[2]);
    volatile unsigned char sink = 0;
    if (eq(argv[1], "loop")) {
        long i = n;
        __asm__ volatile("1: add $1, %%rax\n add $2, %%rdx\n dec %0\n jnz 1b"
                         : "+r"(i) : : "rax", "rdx", "cc");
    } else if (eq(argv[1], "touch")) {
        char *m = (char *)sys(9, 0, n * 4096, 3, 0x22, -1, 0);
        for (long i = 0; i < n; i++) m[i * 4096] = 1;
    } else if (eq(argv[1], "reread")) {
        long pages = 16384;
        char *m = (char *)sys(9, 0, pages * 4096, 3, 0x22, -1, 0);
        for (long i = 0; i < pages; i++) m[i * 4096] = 1;
        for (long p = 0; p < n; p++)
            for (long i = 0; i < pages; i++) sink += m[i * 4096];
    }
    sys(231, 0, 0, 0, 0, 0, 0);
}
__asm__(".globl _start\n_start:\n mov %rsp, %rdi\n and $-16, %rsp\n call cmain\n hlt\n");
