"""Machine-independent VM: one module per FreeBSD sys/vm source file."""
