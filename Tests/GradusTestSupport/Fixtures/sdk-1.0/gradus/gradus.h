/*
 * gradus/gradus.h — the umbrella header of the Gradus plugin ABI, major 1.
 * Include this one header to write a plugin in C (C99 or later) or C++.
 */
#ifndef GRADUS_GRADUS_H
#define GRADUS_GRADUS_H

#include "status.h"
#include "types.h"
#include "host.h"
#include "optimizer.h"
#include "normalizer.h"
#include "pruner.h"
#include "function.h"
#include "entry.h"

#endif /* GRADUS_GRADUS_H */
