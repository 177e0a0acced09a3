"""The parts of the FreeBSD 7 kernel that sys/vm/vm_mmap.c leans on (sys/kern, sys/fs reduced)."""
