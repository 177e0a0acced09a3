/* Translated code must not outlive its frame: code written by the CPU into an anonymous page runs
   (returns 1); the page is unmapped (its frame freed) and a file page holding other code
   (argv[1]: returns 2) is mapped at the same address -- the page-in writes the file's bytes into
   the recycled frame behind the CPU's back -- and calling it must run the new code. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
int main(int argc, char **argv) {
    unsigned char one[] = {0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3};   /* mov eax, 1; ret */
    unsigned char *p = mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memcpy(p, one, sizeof one);
    int a = ((int (*)(void))p)();
    munmap(p, 4096);
    int fd = open(argv[1], O_RDONLY);
    unsigned char *q = mmap(p, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED, fd, 0);
    if (q != p) return 90;
    int b = ((int (*)(void))q)();
    printf("first=%d second=%d\n", a, b);
    return 0;
}
