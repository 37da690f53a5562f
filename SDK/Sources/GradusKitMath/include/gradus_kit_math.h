/*
 * Math helpers for the Swift plugin kit, inlined into plugins' inner loops.
 * Float.squareRoot() keeps libm's errno semantics on Linux (a NaN check and a call to sqrtf),
 * which stops LLVM from vectorising any loop that takes a square root;
 * __builtin_elementwise_sqrt has no such side effect.
 */
#ifndef GRADUS_KIT_MATH_H
#define GRADUS_KIT_MATH_H

/* Square root without errno side effects, so loops using it vectorise. */
static inline __attribute__((always_inline)) float gradus_kit_sqrtf(float x) {
#if defined(__has_builtin)
#if __has_builtin(__builtin_elementwise_sqrt)
    return __builtin_elementwise_sqrt(x);
#endif
#endif
    return __builtin_sqrtf(x);
}

/* Version of these helpers; a real symbol so that the target has an object file. */
int gradus_kit_math_version(void);

#endif
