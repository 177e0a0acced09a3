/* argv[1] picks a crash: ill (ud2), jump (to unmapped memory), div (integer divide by zero),
   abort, null (write through NULL). */
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
    volatile int zero = 0;
    if (!strcmp(argv[1], "ill")) __asm__ volatile("ud2");
    if (!strcmp(argv[1], "jump")) ((void (*)(void))0x7000000)();
    if (!strcmp(argv[1], "div")) return 10 / zero;
    if (!strcmp(argv[1], "abort")) abort();
    if (!strcmp(argv[1], "null")) *(volatile int *)0 = 1;
    return 0;
}
