/* Touches argv[1] MiB of memory with a pattern, then checks every page (memory pressure). */
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
    long mb = atol(argv[1]);
    long n = mb << 20;
    unsigned char *p = malloc(n);
    if (!p) return 90;
    for (long i = 0; i < n; i += 4096) p[i] = (unsigned char)(i >> 12) ^ 0x5a;
    long bad = 0;
    for (int pass = 0; pass < 2; pass++)
        for (long i = 0; i < n; i += 4096) if (p[i] != (unsigned char)((i >> 12) ^ 0x5a)) bad++;
    printf("pages=%ld bad=%ld\n", n >> 12, bad);
    return bad != 0;
}
