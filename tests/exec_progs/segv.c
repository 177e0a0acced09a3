/* SIGSEGV handlers see SEGV_ACCERR for a protection fault and SEGV_MAPERR for no mapping, with
   the exact faulting address, and recover with siglongjmp. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
static sigjmp_buf env;
static volatile int code;
static volatile void *addr;
static void handler(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    code = si->si_code;
    addr = si->si_addr;
    siglongjmp(env, sig);
}
int main(void) {
    struct sigaction sa = {0};
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, 0);
    char *ro = mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *gone = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(gone, 4096);
    int sig = sigsetjmp(env, 1);
    if (sig == 0) { ro[123] = 1; printf("no fault\n"); return 1; }
    printf("write to read-only: sig=%d code=%s addr_ok=%d\n", sig,
           code == SEGV_ACCERR ? "SEGV_ACCERR" : "other", addr == ro + 123);
    sig = sigsetjmp(env, 1);
    if (sig == 0) { volatile char c = gone[2001]; (void)c; printf("no fault\n"); return 1; }
    printf("read of unmapped: sig=%d code=%s addr_ok=%d\n", sig,
           code == SEGV_MAPERR ? "SEGV_MAPERR" : "other", addr == gone + 2001);
    sig = sigsetjmp(env, 1);
    if (sig == 0) { ro[5] = 2; return 1; }
    printf("again after siglongjmp: sig=%d code=%s\n", sig,
           code == SEGV_ACCERR ? "SEGV_ACCERR" : "other");
    return 0;
}
