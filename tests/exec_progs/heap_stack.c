/* Heap growth through brk (many small blocks), large mmap'd blocks, and stack growth by deep
   recursion. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static long deep(int n) { volatile char pad[1024]; pad[0] = (char)n; return n ? deep(n - 1) + pad[0] : 0; }
int main(void) {
    char *b0 = sbrk(0);
    long sum = 0;
    for (int i = 0; i < 2000; i++) { char *p = malloc(512); memset(p, i & 0x7f, 512); sum += p[i % 512]; }
    char *b1 = sbrk(0);
    printf("brk grew: %d\n", b1 - b0 >= 1000 * 512);
    char *big = malloc(64 << 20);
    memset(big, 1, 64 << 20);
    for (long i = 0; i < (64 << 20); i += 4096) sum += big[i];
    free(big);
    printf("sum=%ld\n", sum);
    printf("deep=%ld\n", deep(4000));
    return 0;
}
