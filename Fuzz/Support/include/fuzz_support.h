#ifndef GRADUS_FUZZ_SUPPORT_H
#define GRADUS_FUZZ_SUPPORT_H
#include <stddef.h>
#include <stdint.h>
/* libFuzzer's driver (libclang_rt.fuzzer): SwiftPM gives each executable its own entry symbol,
 * which calls this with the target's test function. */
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*test_one)(const uint8_t *data, size_t size));
#endif
