/* Stores through a MAP_SHARED mapping of a memory device (argv[1]) land in the device's memory,
   and what the device holds is read back through the mapping. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
int main(int argc, char **argv) {
    int fd = open(argv[1], O_RDWR);
    if (fd < 0) { perror("open"); return 90; }
    char *m = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) { perror("mmap"); return 91; }
    printf("device says: %s\n", m + 4096);
    strcpy(m + 100, "written by the program");
    return 0;
}
