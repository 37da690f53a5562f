/*
 * gradus/status.h — the frozen list of status codes.
 *
 * Every fallible ABI function returns an int32_t status. 0 means success.
 * The values below are frozen for ABI major 1: a code is never renumbered or
 * reused; new codes may only be appended. A caller that receives a code it
 * does not know treats it as GRADUS_ERR_INTERNAL.
 *
 * Whoever returns a non-zero status should first describe the failure in one
 * line through gradus_host_services.set_error (plugins) so the host can print
 * "<plugin id>: <message>".
 */
#ifndef GRADUS_STATUS_H
#define GRADUS_STATUS_H

#include <stdint.h>

#define GRADUS_OK                    0  /* success */
#define GRADUS_ERR_INVALID_ARGUMENT  1  /* a NULL, malformed or inconsistent argument */
#define GRADUS_ERR_OUT_OF_RANGE      2  /* a value outside its declared range */
#define GRADUS_ERR_UNSUPPORTED       3  /* the callee does not implement this (yet) */
#define GRADUS_ERR_OUT_OF_MEMORY     4  /* an allocation failed */
#define GRADUS_ERR_VERSION           5  /* no common ABI version, or state from an unknown version */
#define GRADUS_ERR_NUMERIC           6  /* NaN or Inf where a finite value was required */
#define GRADUS_ERR_STATE             7  /* call out of order, or corrupt / mismatched saved state */
#define GRADUS_ERR_INTERNAL          8  /* a bug in the callee */
#define GRADUS_ERR_REFUSED           9  /* the plugin declines (e.g. during negotiation) */

/* One past the largest code defined in this minor. */
#define GRADUS_STATUS_COUNT         10

#endif /* GRADUS_STATUS_H */
