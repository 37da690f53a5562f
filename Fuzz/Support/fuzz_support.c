/* Declarations only; see include/fuzz_support.h. */
