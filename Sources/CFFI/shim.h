/* libffi, as packaged by Debian (libffi-dev). */
#include <ffi.h>
