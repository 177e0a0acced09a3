/* Prints its arguments and an environment variable; exits with status 3. */
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
    printf("hello, world\n");
    for (int i = 0; i < argc; i++) printf("argv[%d]=%s\n", i, argv[i]);
    const char *v = getenv("BSDVM_TEST");
    printf("BSDVM_TEST=%s\n", v ? v : "(unset)");
    return 3;
}
