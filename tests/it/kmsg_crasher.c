/* Dies the way argv[1] says, so the kernel logs a real crash line:
 * segv (NULL read), fpe (divide by zero), ill (ud2), gp (non-canonical
 * address: general protection), int3 (breakpoint, not a crash). */
#include <signal.h>
#include <stdint.h>
#include <string.h>

int
main(int argc, char **argv)
{
	volatile int zero = 0, *p = (volatile int *)(uintptr_t)zero;

	if (argc < 2)
		return 100;
	signal(SIGSEGV, SIG_DFL);
	if (strcmp(argv[1], "segv") == 0)
		return *p;
	if (strcmp(argv[1], "fpe") == 0)
		{ volatile int one = argc - 1; return one / zero; }
	if (strcmp(argv[1], "ill") == 0)
		__builtin_trap();
	if (strcmp(argv[1], "gp") == 0)
		return *(volatile int *)(uintptr_t)0x8000000000000000ULL;
	if (strcmp(argv[1], "int3") == 0)
		__asm__ volatile ("int3");
	return 100;
}
