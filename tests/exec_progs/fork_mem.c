/* Copy-on-write of private memory across fork, MAP_SHARED|MAP_ANON shared across fork, a pipe
   between parent and child, and the child's exit status through wait. */
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
static char priv[3 * 4096];
int main(void) {
    memset(priv, 'p', sizeof priv);
    char *heap = strdup("heap-before");
    char *shared = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    char *anon = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED || anon == MAP_FAILED) return 90;
    strcpy(shared, "shared-before");
    strcpy(anon, "anon-before");
    int fds[2];
    if (pipe(fds)) return 91;
    pid_t pid = fork();
    if (pid < 0) return 92;
    if (pid == 0) {
        memset(priv, 'c', sizeof priv);
        strcpy(heap, "heap-child");
        strcpy(anon, "anon-child");
        strcpy(shared, "shared-child");
        char buf[64];
        snprintf(buf, sizeof buf, "child sees %c %s\n", priv[5000], heap);
        write(fds[1], buf, strlen(buf));
        _exit(42);
    }
    close(fds[1]);
    char buf[128] = {0};
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    int st;
    if (waitpid(pid, &st, 0) != pid) return 93;
    printf("pipe: %.*s", (int)n, buf);
    printf("parent priv=%c heap=%s anon=%s shared=%s\n", priv[5000], heap, anon, shared);
    printf("child exited=%d status=%d\n", WIFEXITED(st), WEXITSTATUS(st));
    return 0;
}
