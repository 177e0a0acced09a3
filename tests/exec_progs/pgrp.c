/* Process groups and sessions: a child moves to its own group, kill(-pgid) reaches it, the
   parent (another group) is not hit by kill(0) from the child; setsid makes a new session. */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
static volatile int got;
static void h(int s) { (void)s; got++; }
int main(void) {
    signal(SIGUSR1, h);
    pid_t c = fork();
    if (c == 0) {
        setpgid(0, 0);
        int ok = getpgrp() == getpid() && getsid(0) == getsid(getppid());
        kill(0, SIGUSR1);                 /* only its own group: itself */
        int i = 0; while (!got && i++ < 1000) getppid();
        pid_t s = setsid();
        _exit(ok && got == 1 && s == -1 ? 0 : 1);   /* a group leader cannot setsid */
    }
    int st;
    waitpid(c, &st, 0);
    printf("child ok=%d parent got=%d\n", WIFEXITED(st) && WEXITSTATUS(st) == 0, got);
    c = fork();
    if (c == 0) { pid_t s = setsid(); _exit(s == getpid() && getsid(0) == s ? 0 : 1); }
    waitpid(c, &st, 0);
    printf("setsid ok=%d\n", WIFEXITED(st) && WEXITSTATUS(st) == 0);
    return 0;
}
