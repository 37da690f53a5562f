#include "gradus_kit_math.h"

int gradus_kit_math_version(void) { return 1; }
