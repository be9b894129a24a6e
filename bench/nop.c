/* The exec target of fork_exec_wait: does nothing, exits 0. */
int main(void) { return 0; }
