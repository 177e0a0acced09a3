/* argv[1]: a file in a writable directory.  A MAP_SHARED mapping's stores reach the file (msync)
   and are seen by read(2); write(2) is seen through the mapping; a MAP_PRIVATE mapping's stores
   never reach the file. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
int main(int argc, char **argv) {
    int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) { perror("open"); return 90; }
    if (ftruncate(fd, 8192)) { perror("ftruncate"); return 91; }
    char *m = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) { perror("mmap"); return 92; }
    strcpy(m + 100, "through-the-mapping");
    if (msync(m, 8192, MS_SYNC)) { perror("msync"); return 93; }
    char buf[32] = {0};
    pread(fd, buf, 19, 100);
    printf("read sees: %s\n", buf);
    pwrite(fd, "through-write", 13, 5000);
    printf("mapping sees: %.13s\n", m + 5000);
    char *p = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) { perror("mmap private"); return 94; }
    printf("private sees: %.19s\n", p + 100);
    strcpy(p + 200, "private-store");
    msync(p, 8192, MS_SYNC);
    munmap(p, 8192);
    memset(buf, 0, sizeof buf);
    pread(fd, buf, 13, 200);
    printf("file at 200: [%s]\n", buf);
    munmap(m, 8192);
    close(fd);
    return 0;
}
