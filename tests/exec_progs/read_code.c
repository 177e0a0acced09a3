/* Code read(2) into a page the program has already executed replaces the old code: the kernel
   writes the frame behind the CPU's back, and the translated code must go. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
int main(int argc, char **argv) {
    unsigned char one[] = {0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3};
    unsigned char *p = mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
                            MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memcpy(p, one, sizeof one);
    int a = ((int (*)(void))p)();
    int fd = open(argv[1], O_RDONLY);
    if (read(fd, p, 6) != 6) return 90;
    int b = ((int (*)(void))p)();
    printf("first=%d second=%d\n", a, b);
    return 0;
}
